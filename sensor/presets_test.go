package sensor

import (
	"strings"
	"testing"
)

// Every preset names each band of its sensor by its standard role; before
// issue 16 the presets knew only blue, green, red and nir
// ("sensor: landsat8 has no swir1 band").
func TestPresetsHaveEveryBand(t *testing.T) {
	tests := map[string]string{
		"sentinel2":    "blue cirrus coastal green nir nir08 nir09 red rededge1 rededge2 rededge3 swir1 swir2",
		"landsat8":     "blue cirrus coastal green nir nir08 pan red swir1 swir2 tir1 tir2",
		"landsat7":     "blue green nir pan red swir1 swir2 tir1",
		"landsat5":     "blue green nir red swir1 swir2 tir1",
		"planetscope4": "blue green nir red",
		"planetscope8": "blue coastal green green1 nir red rededge1 yellow",
		"naip":         "blue green nir red",
		"modis":        "blue green nir nir12 red swir1 swir2",
	}
	for name, want := range tests {
		p, err := Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(p.Roles(), " "); got != want {
			t.Errorf("%s roles %q, want %q", name, got, want)
		}
	}
}

func TestSpecAllBands(t *testing.T) {
	six := []string{"blue", "green", "red", "nir", "swir1", "swir2"}
	tests := []struct {
		sensor string
		want   []string
		names  []string
		spec   string
		err    string
	}{
		{"landsat8", six, nil, "blue=B2,green=B3,red=B4,nir=B5,swir1=B6,swir2=B7", ""},
		{"landsat8", []string{"swir16", "swir22", "lwir11"}, nil, "swir16=B6,swir22=B7,lwir11=B10", ""},
		{"landsat8", []string{"red", "swir1"}, []string{"SR_B2", "SR_B4", "SR_B6"}, "red=SR_B4,swir1=SR_B6", ""},
		{"landsat7", six, nil, "blue=B1,green=B2,red=B3,nir=B4,swir1=B5,swir2=B7", ""},
		{"sentinel2", six, nil, "blue=B02,green=B03,red=B04,nir=B08,swir1=B11,swir2=B12", ""},
		{"sentinel2", []string{"red", "nir08"}, []string{"B4", "B8a"}, "red=B4,nir08=B8a", ""},
		{"sentinel2", []string{"rededge2", "cirrus"}, nil, "rededge2=B06,cirrus=B10", ""},
		{"planetscope8", []string{"coastal", "yellow", "rededge"}, nil, "coastal=1,yellow=5,rededge=7", ""},
		{"naip", six, nil, "", "naip has no swir1 band (it has blue, green, nir, red)"},
	}
	for _, tt := range tests {
		p, _ := Lookup(tt.sensor)
		spec, err := p.SpecFor(tt.want, tt.names)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s %v: err = %v, want %q", tt.sensor, tt.want, err, tt.err)
			}
			continue
		}
		if err != nil || spec != tt.spec {
			t.Errorf("%s %v %v: spec %q (%v), want %q", tt.sensor, tt.want, tt.names, spec, err, tt.spec)
		}
	}
}

func TestMatchFileSpellings(t *testing.T) {
	s2, _ := Lookup("sentinel2")
	l8, _ := Lookup("landsat8")
	l7, _ := Lookup("landsat7")
	modis, _ := Lookup("modis")
	tests := []struct {
		b     Band
		file  string
		match bool
	}{
		{s2.Bands["nir08"], "T33UUP_20230801T100031_B8A_20m.jp2", true},
		{s2.Bands["nir08"], "T33UUP_B8a.jp2", true},
		{s2.Bands["nir"], "T33UUP_B8A.jp2", false},
		{s2.Bands["swir1"], "T33UUP_20230801T100031_B11_20m.jp2", true},
		{s2.Bands["coastal"], "T33UUP_B01_60m.jp2", true},
		{s2.Bands["coastal"], "T33UUP_B10.jp2", false},
		{l8.Bands["swir2"], "LC09_L2SP_044034_20220101_02_T1_SR_B7.TIF", true},
		{l8.Bands["tir1"], "LC08_L2SP_044034_20220101_02_T1_ST_B10.TIF", true},
		{l8.Bands["coastal"], "LC08_L1TP_044034_20220101_02_T1_B10.TIF", false},
		{l7.Bands["tir1"], "LE07_L1TP_B6_VCID_1.TIF", true},
	}
	for _, tt := range tests {
		if got := tt.b.MatchFile(tt.file); got != tt.match {
			t.Errorf("%+v MatchFile(%q) = %v, want %v", tt.b, tt.file, got, tt.match)
		}
	}
	if !SubDatasetField(`HDF4_EOS:EOS_GRID:"f.hdf":MODIS_Grid_500m_2D:sur_refl_b06_1`, modis.Bands["swir1"].SubDataset) {
		t.Error("MODIS swir1 is not sur_refl_b06")
	}
}

// Canonical names are matched before other spellings: a Landsat stack
// described B2..B8 (B8 = pan) is Landsat, not Sentinel-2 by the aliases.
func TestMatchNamesPrefersCanonical(t *testing.T) {
	want := []string{"red", "green", "nir"}
	tests := []struct {
		names []string
		want  string
	}{
		{[]string{"B2", "B3", "B4", "B5", "B6", "B7", "B8"}, "landsat8"},
		{[]string{"B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B10", "B11", "B12"}, "sentinel2"},
		{[]string{"B4", "B3", "B8"}, "sentinel2"}, // no Landsat layout: S2 by its short spellings
	}
	for _, tt := range tests {
		p, ok := MatchNames(tt.names, want)
		if !ok || p.Name != tt.want {
			t.Errorf("MatchNames(%v) = %s %v, want %s", tt.names, p.Name, ok, tt.want)
		}
	}
}

package sensor

import (
	"strings"
	"testing"
)

func TestMatchFile(t *testing.T) {
	red8 := Band{File: "B4"}
	red2 := Band{File: "B04"}
	tests := []struct {
		b    Band
		name string
		want bool
	}{
		{red8, "LC08_L1TP_020039_20150804_B4.TIF", true},
		{red8, "LC80200392015216LGN00_B4.tif", true},
		{red8, "LC08_L2SP_232066_20190727_SR_B4.TIF", true},
		{red8, "LC80200392015216LGN00_B14.tif", false},
		{red8, "LC80200392015216LGN00_B5.tif", false},
		{red8, "LC80200392015216LGN00_BQA.tif", false},
		{red2, "T33UUP_20200101T100000_B04.jp2", true},
		{red2, "T33UUP_20200101T100000_B04_10m.jp2", true},
		{red2, "B04.tif", true},
		{red2, "/data/chip_1/B04.tif", true},
		{red2, "T33UUP_20200101T100000_B40.jp2", false},
		{Band{File: "B8A"}, "T33UUP_B8A_20m.jp2", true},
		{Band{File: "B08"}, "T33UUP_B8A_20m.jp2", false},
		{Band{}, "B04.tif", false},
	}
	for _, tt := range tests {
		if got := tt.b.MatchFile(tt.name); got != tt.want {
			t.Errorf("%+v.MatchFile(%q) = %v, want %v", tt.b, tt.name, got, tt.want)
		}
	}
}

func TestLookupAndSpec(t *testing.T) {
	want := []string{"red", "green", "nir"}
	tests := []struct{ name, spec, err string }{
		{"s2", "red=B04,green=B03,nir=B08", ""},
		{"Landsat9", "red=B4,green=B3,nir=B5", ""},
		{"tm", "red=B3,green=B2,nir=B4", ""},
		{"planetscope8", "red=6,green=4,nir=8", ""},
		{"naip", "red=1,green=2,nir=4", ""},
		{"modis", "", "sub-datasets"},
		{"spot", "", "unknown sensor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Lookup(tt.name)
			if err == nil {
				var spec string
				spec, err = p.Spec(want)
				if err == nil && spec != tt.spec {
					t.Fatalf("spec %q, want %q", spec, tt.spec)
				}
			}
			if (err != nil) != (tt.err != "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("err = %v, want %q", err, tt.err)
			}
		})
	}
}

func TestMTLAndDetect(t *testing.T) {
	mtl := ParseMTL("GROUP = L1_METADATA_FILE\n  SPACECRAFT_ID = \"LANDSAT_8\"\n  SENSOR_ID = \"OLI_TIRS\"\r\nEND\n")
	if mtl["SPACECRAFT_ID"] != "LANDSAT_8" || mtl["SENSOR_ID"] != "OLI_TIRS" {
		t.Fatalf("ParseMTL = %v", mtl)
	}
	p, err := FromLandsatMTL(mtl)
	if err != nil || p.Name != "landsat8" {
		t.Fatalf("FromLandsatMTL = %v, %v", p.Name, err)
	}
	if _, err := FromLandsatMTL(map[string]string{"SPACECRAFT_ID": "SPOT_6"}); err == nil {
		t.Fatal("SPOT accepted as Landsat")
	}
	tests := []struct {
		md    map[string]string
		files []string
		want  string
	}{
		{map[string]string{"SPACECRAFT_NAME": "Sentinel-2A"}, nil, "sentinel2"},
		{nil, []string{"x/LE07_L1TP_B3.TIF"}, "landsat7"},
		{nil, []string{"MOD09GA.A2008296.h14v17.hdf"}, "modis"},
		{nil, []string{"scene.tif"}, ""},
	}
	for _, tt := range tests {
		p, ok := Detect(tt.md, tt.files)
		if got := map[bool]string{true: p.Name}[ok]; got != tt.want {
			t.Errorf("Detect(%v, %v) = %q, want %q", tt.md, tt.files, got, tt.want)
		}
	}
}

func FuzzParseMTL(f *testing.F) {
	f.Add("SPACECRAFT_ID = \"LANDSAT_8\"\n")
	f.Add("GROUP = X\nEND_GROUP = X\nEND")
	f.Fuzz(func(t *testing.T, s string) {
		for k := range ParseMTL(s) {
			if k == "" {
				t.Fatal("empty key")
			}
		}
	})
}

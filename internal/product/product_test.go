package product

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/airbusgeo/godal"

	"github.com/omnimask/omnimask/internal/gdalio"
)

var want = []string{"red", "green", "nir"}

// writeTif writes a 32x32 UInt16 GeoTIFF at res metres (UTM 33N) whose
// bands carry the given descriptions ("" leaves one unset).
func writeTif(t *testing.T, path string, res float64, names ...string) string {
	t.Helper()
	gdalio.Register()
	ds, err := godal.Create(godal.GTiff, path, len(names), godal.UInt16, 32, 32)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	if err := ds.SetGeoTransform([6]float64{500000, res, 0, 4000000, 0, -res}); err != nil {
		t.Fatal(err)
	}
	sr, err := godal.NewSpatialRefFromEPSG(32633)
	if err != nil {
		t.Fatal(err)
	}
	defer sr.Close()
	if err := ds.SetSpatialRef(sr); err != nil {
		t.Fatal(err)
	}
	pix := make([]uint16, 32*32)
	for i := range pix {
		pix[i] = uint16(100 + i%50)
	}
	for i, b := range ds.Bands() {
		if names[i] != "" {
			if err := b.SetDescription(names[i]); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Write(0, 0, pix, 32, 32); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	rgn := writeTif(t, filepath.Join(dir, "rgn.tif"), 10, "red", "green", "nir")
	s2names := writeTif(t, filepath.Join(dir, "s2.tif"), 10, "B02", "B03", "B04", "B08")
	// As many bands as the model wants, none named like its: the preset's
	// names, not their order, decide (S2A_ names the sensor too).
	s2same := writeTif(t, filepath.Join(dir, "S2A_same.tif"), 10, "B08", "B03", "B04")
	plain := writeTif(t, filepath.Join(dir, "plain.tif"), 30, "", "", "", "", "")
	ls := filepath.Join(dir, "folder")
	if err := os.Mkdir(ls, 0o755); err != nil {
		t.Fatal(err)
	}
	var l8files []string
	for _, b := range []string{"B2", "B3", "B4", "B5"} {
		l8files = append(l8files, writeTif(t, filepath.Join(ls, "LC08_X_"+b+".TIF"), 30, ""))
	}
	mtl := filepath.Join(ls, "LC08_X_MTL.txt")
	if err := os.WriteFile(mtl, []byte("GROUP = L1_METADATA_FILE\n  SPACECRAFT_ID = \"LANDSAT_8\"\nEND\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	tests := []struct {
		name      string
		paths     []string
		o         Options
		files     []string
		spec      string
		sensor    string
		bandNames []string
		note      string
		err       string
	}{
		{"named like the model", []string{rgn}, Options{}, []string{rgn}, "", "", []string{"red", "green", "nir"}, "", ""},
		{"named like a preset", []string{s2names}, Options{}, []string{s2names}, "red=B04,green=B03,nir=B08", "sentinel2", []string{"B02", "B03", "B04", "B08"}, "", ""},
		{"as many bands, named like a preset", []string{s2same}, Options{}, []string{s2same}, "red=B04,green=B03,nir=B08", "sentinel2", []string{"B08", "B03", "B04"}, "", ""},
		{"unnamed, preset named", []string{plain}, Options{Sensor: "landsat8"}, []string{plain}, "red=B4,green=B3,nir=B5", "landsat8", []string{"", "", "", "", ""}, "", ""},
		{"explicit bands win", []string{s2names}, Options{Bands: "3,2,4"}, []string{s2names}, "3,2,4", "", []string{"B02", "B03", "B04", "B08"}, "", ""},
		{"product folder with MTL", []string{ls}, Options{}, []string{l8files[2], l8files[1], l8files[3]}, "1,2,3", "landsat8", []string{"LC08_X_B4", "LC08_X_B3", "LC08_X_B5"}, "LC08_X_MTL.txt", ""},
		{"the MTL file", []string{mtl}, Options{}, []string{l8files[2], l8files[1], l8files[3]}, "1,2,3", "landsat8", nil, "", ""},
		{"per-band files by role", l8files, Options{}, []string{l8files[2], l8files[1], l8files[3]}, "1,2,3", "landsat8", nil, "", ""},
		{"folder without bands", []string{empty}, Options{}, nil, "", "", nil, "", "a folder, but no per-band files for red, green, nir"},
		{"unknown sensor", []string{rgn}, Options{Sensor: "spot9"}, nil, "", "", nil, "", "spot9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.Want = want
			pr, err := Open(tt.paths, tt.o)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer pr.Scene.Close()
			if !reflect.DeepEqual(pr.Paths, tt.files) || pr.Spec != tt.spec || pr.Sensor != tt.sensor {
				t.Errorf("files %v spec %q sensor %q, want %v %q %q", pr.Paths, pr.Spec, pr.Sensor, tt.files, tt.spec, tt.sensor)
			}
			if tt.note != "" && !strings.Contains(strings.Join(pr.Notes, ";"), tt.note) {
				t.Errorf("notes %q lack %q", pr.Notes, tt.note)
			}
			if tt.bandNames != nil {
				var names []string
				for _, b := range pr.Bands {
					names = append(names, b.Name)
				}
				if !reflect.DeepEqual(names, tt.bandNames) {
					t.Errorf("band names %q, want %q", names, tt.bandNames)
				}
			}
			for i, b := range pr.Bands {
				if b.File == "" || b.Index < 1 || b.Type != "UInt16" || b.Resolution[0] <= 0 || b.Resolution[1] <= 0 {
					t.Errorf("band %d: %+v", i, b)
				}
			}
		})
	}
}

// Bands keep their own file's pixel size when a stack mixes resolutions.
func TestOpenDescribesResolutions(t *testing.T) {
	dir := t.TempDir()
	fine := writeTif(t, filepath.Join(dir, "red.tif"), 10, "red")
	green := writeTif(t, filepath.Join(dir, "green.tif"), 10, "green")
	coarse := filepath.Join(dir, "nir.tif")
	gdalio.Register()
	ds, err := godal.Create(godal.GTiff, coarse, 1, godal.UInt16, 16, 16)
	if err != nil {
		t.Fatal(err)
	}
	sr, _ := godal.NewSpatialRefFromEPSG(32633)
	_ = ds.SetGeoTransform([6]float64{500000, 20, 0, 4000000, 0, -20})
	_ = ds.SetSpatialRef(sr)
	_ = ds.Bands()[0].SetDescription("nir")
	_ = ds.Bands()[0].Write(0, 0, make([]uint16, 256), 16, 16)
	sr.Close()
	if err := ds.Close(); err != nil {
		t.Fatal(err)
	}
	pr, err := Open([]string{fine, green, coarse}, Options{Want: want})
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Scene.Close()
	got := []Band{pr.Bands[0], pr.Bands[2]}
	wantB := []Band{
		{File: fine, Index: 1, Name: "red", Type: "UInt16", Resolution: [2]float64{10, 10}},
		{File: coarse, Index: 1, Name: "nir", Type: "UInt16", Resolution: [2]float64{20, 20}},
	}
	if !reflect.DeepEqual(got, wantB) {
		t.Errorf("bands %+v, want %+v", got, wantB)
	}
	if pr.Scene.Size.X != 32 {
		t.Errorf("scene %v, want the finest grid", pr.Scene.Size)
	}
}

// A container whose sub-datasets cannot be chosen lists them.
func TestOpenContainer(t *testing.T) {
	hdf, _ := filepath.Glob(filepath.Join("..", "..", "..", "shared", "data", "scenes", "modis", "*.hdf"))
	if len(hdf) == 0 {
		t.Skip("no MODIS scene in ../shared/data")
	}
	_, err := Open(hdf[:1], Options{Sensor: "landsat8", Want: want})
	var sd *SubDatasetError
	if !errors.As(err, &sd) || len(sd.SubDatasets) < 2 {
		t.Fatalf("err = %v, want a SubDatasetError listing them", err)
	}
	pr, err := Open(hdf[:1], Options{Want: want})
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Scene.Close()
	if pr.Sensor != "modis" || len(pr.Paths) != 3 || !strings.HasPrefix(pr.Paths[0], "HDF4_EOS:") {
		t.Errorf("sensor %q files %v", pr.Sensor, pr.Paths)
	}
}

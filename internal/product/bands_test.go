package product

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var six = []string{"blue", "green", "red", "nir", "swir1", "swir2"}

// A Landsat Level-1 product folder gives a six-band model its bands by
// role (B2..B7, the 30 m SWIR included) and their reflectance units from
// the MTL; before issue 16 it failed with "landsat8 has no swir1 band".
func TestLandsatFolderAllBands(t *testing.T) {
	dir := t.TempDir()
	for _, b := range []string{"B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B10", "BQA"} {
		writeTif(t, filepath.Join(dir, "LC08_L1TP_044034_20220101_20220101_02_T1_"+b+".TIF"), 30, "")
	}
	mtl := "GROUP = L1_METADATA_FILE\n  SPACECRAFT_ID = \"LANDSAT_8\"\n  SUN_ELEVATION = 30.0\n"
	for n := 1; n <= 9; n++ {
		mtl += "  REFLECTANCE_MULT_BAND_" + string(rune('0'+n)) + " = 2.0E-05\n  REFLECTANCE_ADD_BAND_" + string(rune('0'+n)) + " = -0.1\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "LC08_L1TP_044034_20220101_20220101_02_T1_MTL.txt"), []byte(mtl+"END_GROUP = L1_METADATA_FILE\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pr, err := Open([]string{dir}, Options{Want: six})
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Scene.Close()
	var got []string
	for _, p := range pr.Paths {
		got = append(got, p[strings.LastIndexByte(p, '_')+1:])
	}
	if strings.Join(got, " ") != "B2.TIF B3.TIF B4.TIF B5.TIF B6.TIF B7.TIF" || pr.Sensor != "landsat8" {
		t.Fatalf("files %v (%s)", got, pr.Sensor)
	}
	for _, b := range pr.Bands {
		if b.Units == nil || math.Abs(b.Units.Scale-4e-5) > 1e-12 || math.Abs(b.Units.Offset+0.2) > 1e-12 {
			t.Fatalf("%s: units %+v, want x4e-05-0.2 (sun elevation 30°)", b.File, b.Units)
		}
	}
	if !strings.Contains(pr.UnitsFrom, "SUN_ELEVATION 30.0") {
		t.Fatalf("units from %q", pr.UnitsFrom)
	}
}

// Band descriptions spelled as products do: a Sentinel-2 stack described
// B2, B3, B4, B8, B8a, B11, B12 with --sensor sentinel2.
func TestStackSpellings(t *testing.T) {
	dir := t.TempDir()
	path := writeTif(t, filepath.Join(dir, "s2.tif"), 10, "B2", "B3", "B4", "B8", "B8a", "B11", "B12")
	pr, err := Open([]string{path}, Options{Sensor: "sentinel2", Want: append(six, "nir08")})
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Scene.Close()
	if want := "blue=B2,green=B3,red=B4,nir=B8,swir1=B11,swir2=B12,nir08=B8a"; pr.Spec != want {
		t.Fatalf("spec %q, want %q", pr.Spec, want)
	}
}

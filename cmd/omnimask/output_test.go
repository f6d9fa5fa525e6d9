package main

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/airbusgeo/godal"

	"github.com/omnimask/omnimask/internal/gdalio"
)

// The mask names its classes as the band's GDAL category names (what
// gdalinfo lists under "Categories" and desktop GIS show) as well as in
// CLASS_n metadata, and keeps its colour table.
func TestMaskCategoryNames(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	scene := tif{w: 96, h: 80}.write(t, filepath.Join(in, "scene.tif"))
	if _, stderr, err := cli(t, "predict", scene, "--model", pointwise, "--output-dir", out, "--quiet"); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	mask := maskIn(out, scene)
	classes := []string{"clear", "thick_cloud", "thin_cloud", "cloud_shadow"}
	if got, err := gdalio.Categories(mask); err != nil || !slices.Equal(got, classes) {
		t.Errorf("categories %q (%v), want %q", got, err, classes)
	}
	ds, err := godal.Open(mask)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	if md := ds.Metadatas(); md["CLASS_0"] != "clear" || md["CLASS_3"] != "cloud_shadow" || md["CLASS_255"] != "nodata" {
		t.Errorf("CLASS_n metadata %v", md)
	}
	b := ds.Bands()[0]
	if ct := b.ColorTable(); len(ct.Entries) != 256 || ct.Entries[255] != [4]int16{0, 0, 0, 0} || b.ColorInterp() != godal.CIPalette {
		t.Errorf("colour table of %d entries, interpretation %v", len(ct.Entries), b.ColorInterp())
	}

	gdalinfo, err := exec.LookPath("gdalinfo")
	if err != nil {
		t.Log("no gdalinfo on PATH: checked through the GDAL library only")
		return
	}
	info, err := exec.Command(gdalinfo, mask).CombinedOutput()
	if err != nil {
		t.Fatalf("gdalinfo: %v\n%s", err, info)
	}
	want := regexp.MustCompile(`(?s)Categories:\s+0: clear\s+1: thick_cloud\s+2: thin_cloud\s+3: cloud_shadow\s+Color Table \(RGB with 256 entries\)`)
	if !want.Match(info) {
		t.Errorf("gdalinfo lacks the categories and colour table:\n%s", info)
	}
}

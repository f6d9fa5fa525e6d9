package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airbusgeo/godal"
)

// sharedData returns ../shared/data, or skips the test when it is absent.
func sharedData(t *testing.T) string {
	t.Helper()
	d := filepath.Join("..", "..", "..", "shared", "data")
	if _, err := os.Stat(filepath.Join(d, "catalog.json")); err != nil {
		t.Skip("../shared/data not present")
	}
	return d
}

// Every real scene in ../shared/data goes through `omnimask predict` with
// the built-in default model and gives a valid mask on the input's grid,
// and a quick look (--preview into a folder) for every input form.
func TestPredictSharedScenes(t *testing.T) {
	d := sharedData(t)
	glob := func(p string) []string {
		m, _ := filepath.Glob(filepath.Join(d, p))
		return m
	}
	type scene struct {
		name string
		args []string
		grid string // a file on the input's grid
	}
	var scenes []scene
	for _, f := range append(append(glob("scenes/naip-5m/*.tif"), glob("scenes/landsat8-sr/*.tif")...), glob("scenes/s2-l1c-13band/*.tif")...) {
		scenes = append(scenes, scene{filepath.Base(f), []string{f}, f})
	}
	if l := glob("scenes/landsat8-l1t/*_B4.tif"); len(l) == 1 {
		scenes = append(scenes, scene{"landsat8-l1t folder", []string{filepath.Dir(l[0])}, l[0]})
		scenes = append(scenes, scene{"landsat8-l1t MTL", glob("scenes/landsat8-l1t/*_MTL.txt"), l[0]})
	}
	for _, f := range glob("scenes/modis/*.hdf") {
		scenes = append(scenes, scene{"modis", []string{f}, `HDF4_EOS:EOS_GRID:"` + f + `":MODIS_Grid_500m_2D:sur_refl_b01_1`})
	}
	for _, f := range glob("cloud/l8biome/test/*_image.tif")[:2] {
		scenes = append(scenes, scene{filepath.Base(f), []string{f, "--resolution", "30"}, f})
	}
	for _, c := range []string{"chip_4", "chip_5"} {
		dir := filepath.Join(d, "cloud/oncloudn-s2", c)
		files := []string{filepath.Join(dir, "B04.tif"), filepath.Join(dir, "B03.tif"), filepath.Join(dir, "B08.tif")}
		scenes = append(scenes, scene{"oncloudn " + c, append([]string{"--stack"}, files...), files[0]})
	}
	for _, sc := range scenes {
		t.Run(sc.name, func(t *testing.T) {
			out := t.TempDir()
			var stdout, stderr bytes.Buffer
			args := append([]string{"predict", "--output-dir", out, "--preview", out, "--quiet"}, sc.args...)
			if err := run(context.Background(), args, &stdout, &stderr); err != nil {
				t.Fatalf("%v\n%s", err, stderr.String())
			}
			masks, _ := filepath.Glob(filepath.Join(out, "*_omnimask.tif"))
			if len(masks) != 1 {
				t.Fatalf("masks written: %v", masks)
			}
			checkMask(t, masks[0], sc.grid)
			wantPNG(t, strings.TrimSuffix(masks[0], ".tif")+".png")
		})
	}
}

// checkMask asserts that mask is on the same grid as ref with class values.
func checkMask(t *testing.T, mask, ref string) {
	t.Helper()
	m, err := godal.Open(mask)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	r, err := godal.Open(ref)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ms, rs := m.Structure(), r.Structure()
	if ms.SizeX != rs.SizeX || ms.SizeY != rs.SizeY {
		t.Fatalf("mask %dx%d, input %dx%d", ms.SizeX, ms.SizeY, rs.SizeX, rs.SizeY)
	}
	gm, errM := m.GeoTransform()
	gr, errR := r.GeoTransform()
	if (errM == nil) != (errR == nil) || gm != gr {
		t.Errorf("geotransform %v (%v), input %v (%v)", gm, errM, gr, errR)
	}
	if errR == nil && !strings.EqualFold(m.Projection(), r.Projection()) {
		sm, _ := godal.NewSpatialRef(m.Projection())
		sr, _ := godal.NewSpatialRef(r.Projection())
		if sm == nil || sr == nil || !sm.IsSame(sr) {
			t.Errorf("CRS differs")
		}
	}
	buf := make([]uint8, ms.SizeX*ms.SizeY)
	if err := m.Bands()[0].Read(0, 0, buf, ms.SizeX, ms.SizeY); err != nil {
		t.Fatal(err)
	}
	var n [256]int
	for _, v := range buf {
		n[v]++
	}
	for v, c := range n {
		if c > 0 && v > 3 && v != 255 {
			t.Fatalf("value %d in the mask (%d pixels)", v, c)
		}
	}
	if n[255] == len(buf) {
		t.Errorf("mask is all nodata")
	}
}

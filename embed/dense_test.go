package embed

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omnimask/omnimask/raster"
)

// TestDenseMatchesChips: with the chipmean encoder (a cell's feature is the
// mean of its 8x8 pixels) the stitched dense map must equal chips mode with
// 8 px chips bit for bit, whatever the tiling.
func TestDenseMatchesChips(t *testing.T) {
	e := chipmean(t)
	dir := t.TempDir()
	scene := filepath.Join(dir, "scene.tif")
	geo := raster.Geo{Transform: raster.GeoTransform{500000, 30, 0, 4000000, 0, -30}, CRS: utm33(t)}
	writeScene(t, scene, 70, 45, geo, func(c, x, y int) float32 {
		if x < 12 && y < 12 {
			return noData
		}
		return float32(c*100+x*x+3*y) * 0.01
	})
	chips := filepath.Join(dir, "chips.tif")
	if _, err := Chips(context.Background(), e, []string{scene}, chips, Options{Chip: 8}); err != nil {
		t.Fatal(err)
	}
	_, want := readVectors(t, chips)
	for _, tc := range []struct{ tile, overlap int }{{24, 8}, {16, -1}, {64, 16}, {32, 24}} {
		out := filepath.Join(dir, "dense.tif")
		res, err := Dense(context.Background(), e, []string{scene}, out, DenseOptions{Tile: tc.tile, Overlap: tc.overlap})
		if err != nil {
			t.Fatal(err)
		}
		if res.Cols != 8 || res.Rows != 5 {
			t.Fatalf("%dx%d cells, want 8x5", res.Cols, res.Rows)
		}
		ds, got := readVectors(t, out)
		if gt, _ := ds.GeoTransform(); gt != [6]float64{500000, 240, 0, 4000000, 0, -240} {
			t.Errorf("geotransform %v", gt)
		}
		for b := range want {
			for i := range want[b] {
				if math.Float32bits(got[b][i]) != math.Float32bits(want[b][i]) && !(math.IsNaN(float64(got[b][i])) && math.IsNaN(float64(want[b][i]))) {
					t.Fatalf("tile %d overlap %d: band %d cell %d = %g, chips %g", tc.tile, tc.overlap, b, i, got[b][i], want[b][i])
				}
			}
		}
	}
}

func TestTilesCentreCrop(t *testing.T) {
	starts, owner := tiles(64, 32, 16, 8) // tiles at 0, 16, 32
	if len(starts) != 3 || starts[0] != 0 || starts[1] != 16 || starts[2] != 32 {
		t.Fatalf("starts %v", starts)
	}
	// tile centres 16, 32, 48; cell centres 4, 12, ..., 60: the nearest
	want := []int{0, 0, 0, 1, 1, 2, 2, 2}
	for i := range want {
		if owner[i] != want[i] {
			t.Fatalf("owners %v, want %v", owner, want)
		}
	}
}

func TestTilesTie(t *testing.T) {
	// tiles at 0 and 8 (centres 8 and 16); cell 1 (centre 12) is a tie: the earlier tile
	starts, owner := tiles(24, 16, 8, 8)
	if len(starts) != 2 || owner[0] != 0 || owner[1] != 0 || owner[2] != 1 {
		t.Fatalf("starts %v owners %v", starts, owner)
	}
}

// TestDenseProcessingResolution: dense mode at a processing resolution
// equals chips mode at that resolution with chips of the output stride
// (8 px) bit for bit, for integer and fractional factors, up- and
// downsampling, a last processing row half outside the scene and several
// tilings; the map's geotransform is chips mode's (the stride times the
// processing grid's pixel size) and the sidecar records the resolution; at
// the scene's own resolution the output is the plain run's byte for byte.
func TestDenseProcessingResolution(t *testing.T) {
	e := chipmean(t)
	dir := t.TempDir()
	geo := raster.Geo{Transform: raster.GeoTransform{500000, 10, 0, 4000000, 0, -10}, CRS: utm33(t)}
	val := func(c, x, y int) float32 {
		if x < 12 && y < 12 || x == 40 && y == 20 { // a nodata corner, a nodata pixel
			return noData
		}
		return float32(c*1000+x*x+13*y) * 0.001
	}
	ctx := context.Background()
	for i, tc := range []struct {
		name          string
		w, h          int
		proc          float64
		tile, overlap int
		cols, rows    int
	}{
		{"20 m", 64, 48, 20, 16, 8, 4, 3},
		{"20 m, one tile", 64, 48, 20, 64, -1, 4, 3},
		{"20 m, odd height", 70, 47, 20, 16, 8, 4, 3}, // 35x24 px: the last row is half outside
		{"15 m", 70, 45, 15, 24, 8, 5, 3},             // 47x30 px of 14.9 x 15 m
		{"5 m", 40, 24, 5, 32, 16, 10, 6},
	} {
		scene := filepath.Join(dir, fmt.Sprintf("scene%d.tif", i))
		writeScene(t, scene, tc.w, tc.h, geo, val)
		chips := filepath.Join(dir, fmt.Sprintf("chips%d.tif", i))
		if _, err := Chips(ctx, e, []string{scene}, chips, Options{Chip: 8, ProcessingResolution: tc.proc}); err != nil {
			t.Fatalf("%s: chips: %v", tc.name, err)
		}
		cds, want := readVectors(t, chips)
		out := filepath.Join(dir, fmt.Sprintf("dense%d.tif", i))
		res, err := Dense(ctx, e, []string{scene}, out, DenseOptions{Tile: tc.tile, Overlap: tc.overlap, ProcessingResolution: tc.proc})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if res.Cols != tc.cols || res.Rows != tc.rows {
			t.Fatalf("%s: %dx%d cells, want %dx%d", tc.name, res.Cols, res.Rows, tc.cols, tc.rows)
		}
		ds, got := readVectors(t, out)
		gt, _ := ds.GeoTransform()
		cgt, _ := cds.GeoTransform()
		sx := math.Round(float64(tc.w) * 10 / tc.proc)
		sy := math.Round(float64(tc.h) * 10 / tc.proc)
		if gt != cgt || math.Abs(gt[1]-8*10*float64(tc.w)/sx) > 1e-9 || math.Abs(gt[5]+8*10*float64(tc.h)/sy) > 1e-9 || gt[0] != 500000 || gt[3] != 4000000 {
			t.Errorf("%s: geotransform %v, chips mode's %v", tc.name, gt, cgt)
		}
		nan := 0
		for b := range want {
			for j := range want[b] {
				g, w := got[b][j], want[b][j]
				if math.IsNaN(float64(w)) {
					nan++
				}
				if math.Float32bits(g) != math.Float32bits(w) && !(math.IsNaN(float64(g)) && math.IsNaN(float64(w))) {
					t.Fatalf("%s: band %d cell %d = %g, chips %g", tc.name, b, j, g, w)
				}
			}
		}
		if nan == 0 {
			t.Errorf("%s: no nodata cell: the nodata corner is not tested", tc.name)
		}
		raw, err := os.ReadFile(out + ".json")
		if err != nil {
			t.Fatal(err)
		}
		var sc Sidecar
		if err := json.Unmarshal(raw, &sc); err != nil || sc.Mode != "dense" || sc.ProcessingResolution != tc.proc || sc.Chip != 8 || sc.Tile != tc.tile {
			t.Errorf("%s: sidecar %+v (%v)", tc.name, sc, err)
		}
	}

	// At the scene's own resolution: the plain run, byte for byte.
	scene := filepath.Join(dir, "scene0.tif")
	a, b := filepath.Join(dir, "a.tif"), filepath.Join(dir, "b.tif")
	for _, r := range []struct {
		out  string
		proc float64
	}{{a, 0}, {b, 10}} {
		if _, err := Dense(ctx, e, []string{scene}, r.out, DenseOptions{Tile: 16, ProcessingResolution: r.proc}); err != nil {
			t.Fatal(err)
		}
	}
	for _, suffix := range []string{"", ".json"} {
		x, _ := os.ReadFile(a + suffix)
		y, _ := os.ReadFile(b + suffix)
		if len(x) == 0 || !bytes.Equal(x, y) {
			t.Errorf("at 10 m: %s%s differs from the plain run's", b, suffix)
		}
	}

	plain := filepath.Join(dir, "plain.tif")
	writeScene(t, plain, 64, 48, raster.Geo{}, val)
	for _, tc := range []struct {
		name  string
		scene string
		o     DenseOptions
		err   string
	}{
		{"no georeference", plain, DenseOptions{ProcessingResolution: 20}, "give the resolution"},
		{"resolution given", plain, DenseOptions{ProcessingResolution: 20, Resolution: 10}, ""},
		{"over 4x", scene, DenseOptions{ProcessingResolution: 2}, "more than 4x"},
		{"smaller than a tile", scene, DenseOptions{ProcessingResolution: 100}, "at 100 m is smaller than one 8 px tile"},
		{"negative", scene, DenseOptions{ProcessingResolution: -1}, "processing resolution -1"},
		{"NaN", scene, DenseOptions{Resolution: math.NaN()}, "resolution NaN"},
	} {
		tc.o.Tile = 16
		_, err := Dense(ctx, e, []string{tc.scene}, filepath.Join(dir, "t.tif"), tc.o)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.err)
		}
	}
}

package embed

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/raster"
)

// TestDenseMatchesChips: with the chipmean encoder (a cell's feature is the
// mean of its 8x8 pixels) the stitched dense map must equal chips mode with
// 8 px chips bit for bit, whatever the tiling.
func TestDenseMatchesChips(t *testing.T) {
	e := chipmean(t)
	dir := t.TempDir()
	scene := filepath.Join(dir, "scene.tif")
	crs, err := gdalio.NormalizeCRS("EPSG:32633")
	if err != nil {
		t.Fatal(err)
	}
	geo := raster.Geo{Transform: raster.GeoTransform{500000, 30, 0, 4000000, 0, -30}, CRS: crs}
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

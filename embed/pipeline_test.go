package embed

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/omnimask/omnimask/raster"
)

// TestChipsBatching embeds one scene with the built-in encoder in batches of
// 1 (each chip inferred alone: the reference), 2, 5, 9 and 64 chips, one
// call at a time and 2-3 calls at once (Streams; results taken in order),
// which fill batches across chip rows and flush partial ones where rows
// end, and requires every output value to be the same bit for bit. The scene has an
// all-nodata chip row, nodata chips inside rows and rows with fewer valid
// chips than a batch.
func TestChipsBatching(t *testing.T) {
	e := encoder(t, "mobilenetv2-imagenet")
	dir := t.TempDir()
	scene := filepath.Join(dir, "scene.tif")
	const W, H = 7 * 32, 6 * 32 // 7x6 chips of 32 px
	writeScene(t, scene, W, H, raster.Geo{}, func(c, x, y int) float32 {
		cx, cy := x/32, y/32
		switch {
		case cy == 2, // an all-nodata chip row
			cy == 4 && cx != 3, // a row with one valid chip
			cy == 0 && (cx == 1 || cx == 5):
			return noData
		}
		return float32((c*31+x*7+y*13)%97) / 97
	})
	var ref [][]float32
	for _, tc := range []struct{ batch, streams int }{{1, 1}, {2, 1}, {5, 1}, {9, 1}, {64, 1}, {1, 2}, {2, 2}, {5, 3}, {9, 2}, {64, 2}} {
		batch := tc.batch
		out := filepath.Join(dir, "emb.tif")
		res, err := Chips(context.Background(), e, []string{scene}, out, Options{Batch: batch, Streams: tc.streams, Bands: []int{1, 2, 3}})
		if err != nil {
			t.Fatalf("batch %d, streams %d: %v", batch, tc.streams, err)
		}
		if res.Cols != 7 || res.Rows != 6 || res.Chips != 7*6-7-6-2 || res.NoDataChips != 15 {
			t.Fatalf("batch %d, streams %d: %+v, want 7x6 chips, 15 nodata", batch, tc.streams, res)
		}
		_, bands := readVectors(t, out)
		if ref == nil {
			ref = bands
			for i, v := range bands[0] {
				r, c := i/7, i%7
				nd := r == 2 || r == 4 && c != 3 || r == 0 && (c == 1 || c == 5)
				if math.IsNaN(float64(v)) != nd {
					t.Fatalf("chip %d,%d: %g, nodata %v", c, r, v, nd)
				}
			}
			continue
		}
		for d := range bands {
			for i, v := range bands[d] {
				if math.Float32bits(v) != math.Float32bits(ref[d][i]) {
					t.Fatalf("batch %d, streams %d: chip %d,%d value %d = %v, batch 1 gave %v", batch, tc.streams, i%7, i/7, d, v, ref[d][i])
				}
			}
		}
	}
}

// TestChipsCancel cancels a run with calls at once in flight: Chips returns
// the context's error, every goroutine has ended and no output is left.
func TestChipsCancel(t *testing.T) {
	e := encoder(t, "mobilenetv2-imagenet")
	dir := t.TempDir()
	scene := filepath.Join(dir, "scene.tif")
	writeScene(t, scene, 8*32, 8*32, raster.Geo{}, func(c, x, y int) float32 { return float32((c*31+x*7+y*13)%97) / 97 })
	for _, streams := range []int{1, 2, 3} {
		ctx, cancel := context.WithCancel(context.Background())
		calls := 0
		o := Options{Batch: 2, Streams: streams, Bands: []int{1, 2, 3}}
		o.onBatch = func([]float32, int) {
			if calls++; calls == 5 {
				cancel()
			}
		}
		out := filepath.Join(dir, "emb.tif")
		_, err := Chips(ctx, e, []string{scene}, out, o)
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("streams %d: %v, want context.Canceled", streams, err)
		}
		if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("streams %d: output left after cancel: %v", streams, err)
		}
	}
}

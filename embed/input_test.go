package embed

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/omnimask/omnimask/raster"
)

// TestInputMatchesFiles: ChipsInput and DenseInput over a scene give the
// vectors Chips and Dense give over the same file (band specs in both
// forms); a band spec naming no band fails naming the scene.
func TestInputMatchesFiles(t *testing.T) {
	e := chipmean(t)
	dir := t.TempDir()
	scene := filepath.Join(dir, "s.tif")
	writeScene(t, scene, 48, 32, raster.Geo{}, func(c, x, y int) float32 { return float32(c*100 + (x*7+y*3)%13) })
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		bands []int
		spec  string
	}{
		{"by name", nil, ""},
		{"by number", []int{3, 1, 2}, "3,1,2"},
		{"mapping", []int{2, 3, 1}, "red=2,green=nir,nir=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := filepath.Join(dir, "a.tif"), filepath.Join(dir, "b.tif")
			if _, err := Chips(ctx, e, []string{scene}, a, Options{Chip: 16, Bands: tc.bands}); err != nil {
				t.Fatal(err)
			}
			if _, err := ChipsInput(ctx, e, Input{Paths: []string{scene}, Bands: tc.spec}, b, Options{Chip: 16}); err != nil {
				t.Fatal(err)
			}
			_, va := readVectors(t, a)
			_, vb := readVectors(t, b)
			for i := range va {
				if !slices.Equal(va[i], vb[i]) {
					t.Fatalf("chips band %d: %v vs %v", i, va[i], vb[i])
				}
			}
			if _, err := Dense(ctx, e, []string{scene}, a, DenseOptions{Tile: 32, Overlap: -1, Bands: tc.bands}); err != nil {
				t.Fatal(err)
			}
			if _, err := DenseInput(ctx, e, Input{Paths: []string{scene}, Bands: tc.spec}, b, DenseOptions{Tile: 32, Overlap: -1}); err != nil {
				t.Fatal(err)
			}
			_, va = readVectors(t, a)
			_, vb = readVectors(t, b)
			for i := range va {
				if !slices.Equal(va[i], vb[i]) {
					t.Fatalf("dense band %d: %v vs %v", i, va[i], vb[i])
				}
			}
		})
	}
	_, err := ChipsInput(ctx, e, Input{Paths: []string{scene}, Bands: "B04,B03,B08"}, filepath.Join(dir, "c.tif"), Options{Chip: 16})
	if err == nil || !strings.Contains(err.Error(), scene) {
		t.Errorf("unknown band names: %v, want an error naming %s", err, scene)
	}
}

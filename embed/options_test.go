package embed

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omnimask/omnimask/raster"
)

// TestOptionsRefused: options no run can honour are errors before anything
// is read or allocated (a huge batch used to exhaust memory).
func TestOptionsRefused(t *testing.T) {
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{Batch: MaxBatch + 1}, "batch 4097 outside 1..4096"},
		{Options{Batch: -1}, "batch -1 outside"},
		{Options{MaxNoData: math.NaN()}, "nodata threshold NaN"},
		{Options{MaxNoData: 2}, "nodata threshold 2"},
		{Options{Scale: math.Inf(1)}, "want finite numbers"},
		{Options{Offset: math.NaN()}, "want finite numbers"},
		{Options{Streams: 65}, "streams 65 outside 1..64"},
		{Options{Chip: 16, Stride: 17}, "chip 16 and stride 17"},
	} {
		err := tc.o.defaults()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error containing %q", tc.o, err, tc.want)
		}
	}

	e := encoder(t, "mobilenetv2-imagenet")
	dir := t.TempDir()
	scene := filepath.Join(dir, "scene.tif")
	writeScene(t, scene, 64, 64, raster.Geo{}, func(c, x, y int) float32 { return 0.1 })
	_, err := Chips(context.Background(), e, []string{scene}, filepath.Join(dir, "e.tif"), Options{Chip: 4096, Batch: 64, Bands: []int{1, 2, 3}})
	if err == nil || !strings.Contains(err.Error(), "use a smaller batch") {
		t.Fatalf("chip 4096, batch 64: %v, want the batch refused", err)
	}
}

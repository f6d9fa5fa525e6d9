package embed

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omnimask/omnimask/raster"
)

// TestChipsProcessingResolution cuts 8 px chips of a 10 m scene at 20 m:
// every vector is the mean over its chip of the 2x2 averages of valid
// pixels (the chipmean encoder, nodata filled with 0), the chip grid and
// the sidecar say 20 m; at the scene's own resolution the output is the
// native run's byte for byte; a scene without georeference needs its
// resolution; chips at 5 m upsample.
func TestChipsProcessingResolution(t *testing.T) {
	e := chipmean(t)
	dir := t.TempDir()
	geo := raster.Geo{Transform: raster.GeoTransform{500000, 10, 0, 4000000, 0, -10}, CRS: utm33(t)}
	const W, H = 64, 48
	val := func(c, x, y int) float32 {
		if x < 12 && y < 12 || x == 40 && y == 30 { // a nodata corner, a nodata pixel
			return noData
		}
		return float32(c*1000+x*7+y*13) * 0.001
	}
	scene := filepath.Join(dir, "scene.tif")
	writeScene(t, scene, W, H, geo, val)
	plain := filepath.Join(dir, "plain.tif")
	writeScene(t, plain, W, H, raster.Geo{}, val)

	run := func(scene, out string, o Options) (*Result, error) {
		o.Chip = 8
		return Chips(context.Background(), e, []string{scene}, out, o)
	}
	out := filepath.Join(dir, "e20.tif")
	res, err := run(scene, out, Options{ProcessingResolution: 20})
	if err != nil {
		t.Fatal(err)
	}
	if res.Cols != 4 || res.Rows != 3 {
		t.Fatalf("grid %dx%d, want 4x3", res.Cols, res.Rows)
	}
	ds, bands := readVectors(t, out)
	if gt, _ := ds.GeoTransform(); gt != [6]float64{500000, 160, 0, 4000000, 0, -160} {
		t.Errorf("geotransform %v", gt)
	}
	for r := range 3 {
		for c := range 4 {
			var sum [3]float64
			bad := 0
			for py := r * 8; py < r*8+8; py++ { // 20 m pixels
				for px := c * 8; px < c*8+8; px++ {
					var s [3]float64
					n := 0
					for y := 2 * py; y < 2*py+2; y++ {
						for x := 2 * px; x < 2*px+2; x++ {
							if val(0, x, y) == noData {
								continue
							}
							n++
							for b := range 3 {
								s[b] += float64(val(b, x, y))
							}
						}
					}
					if n == 0 {
						bad++
						continue
					}
					for b := range 3 {
						sum[b] += float64(float32(s[b] / float64(n)))
					}
				}
			}
			for b := range 3 {
				got := float64(bands[b][r*4+c])
				if bad > 32 {
					if !math.IsNaN(got) {
						t.Errorf("chip %d,%d (%d nodata px) band %d = %g, want NaN", c, r, bad, b, got)
					}
					continue
				}
				if want := sum[b] / 64; math.Abs(got-want) > 1e-6*max(1, math.Abs(want)) {
					t.Errorf("chip %d,%d band %d = %.9g, want %.9g", c, r, b, got, want)
				}
			}
		}
	}
	raw, err := os.ReadFile(out + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var sc Sidecar
	if err := json.Unmarshal(raw, &sc); err != nil || sc.ProcessingResolution != 20 || sc.Chip != 8 {
		t.Errorf("sidecar %+v (%v)", sc, err)
	}

	// At the scene's own resolution: the native run, byte for byte.
	a, b := filepath.Join(dir, "a.tif"), filepath.Join(dir, "b.tif")
	if _, err := run(scene, a, Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := run(scene, b, Options{ProcessingResolution: 10}); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"", ".json"} {
		x, _ := os.ReadFile(a + suffix)
		y, _ := os.ReadFile(b + suffix)
		if !bytes.Equal(x, y) {
			t.Errorf("at 10 m: %s%s differs from the native run's", b, suffix)
		}
	}

	for _, tc := range []struct {
		name       string
		scene      string
		o          Options
		cols, rows int
		err        string
	}{
		{"no georeference", plain, Options{ProcessingResolution: 20}, 0, 0, "give the resolution"},
		{"resolution given", plain, Options{ProcessingResolution: 20, Resolution: 10}, 4, 3, ""},
		{"upsampled", scene, Options{ProcessingResolution: 5}, 16, 12, ""},
		{"over 4x", scene, Options{ProcessingResolution: 2}, 0, 0, "more than 4x"},
		{"smaller than a chip", scene, Options{ProcessingResolution: 100}, 0, 0, "smaller than one 8 px chip"},
		{"negative", scene, Options{ProcessingResolution: -1}, 0, 0, "processing resolution -1"},
		{"NaN", scene, Options{Resolution: math.NaN()}, 0, 0, "resolution NaN"},
	} {
		res, err := run(tc.scene, filepath.Join(dir, "t.tif"), tc.o)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.err)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case res.Cols != tc.cols || res.Rows != tc.rows:
			t.Errorf("%s: grid %dx%d, want %dx%d", tc.name, res.Cols, res.Rows, tc.cols, tc.rows)
		}
	}
}

package engine

import (
	"context"
	"image"
	"math"
	"path/filepath"
	"testing"

	"github.com/omnimask/omnimask/internal/synth"
	"github.com/omnimask/omnimask/raster"
	"github.com/omnimask/omnimask/tiling"
)

// The weights of testdata/models/pointwise.onnx (see gen.py).
var (
	pwW = [4][3]float32{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {-1, -1, -1}}
	pwB = [4]float32{0, 0.1, 0.2, 0.3}
)

func testModel(name string) string { return filepath.Join("..", "testdata", "models", name) }

// newEngine is an Engine on real models through ONNX Runtime (skipped
// without the library); pipeline tests use fakeEngine.
func newEngine(t testing.TB, opts Options) *Engine {
	t.Helper()
	requireORT(t)
	e, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// pointwiseClass is argmax(W x + B) for one pixel, and whether the top two
// logits are too close for float32 arithmetic in another order to agree.
func pointwiseClass(x [3]float32) (class uint8, tie bool) {
	best, bv, second := 0, math.Inf(-1), math.Inf(-1)
	for k := 0; k < 4; k++ {
		v := float64(pwB[k])
		for c := 0; c < 3; c++ {
			v += float64(pwW[k][c]) * float64(x[c])
		}
		if v > bv {
			best, bv, second = k, v, bv
		} else if v > second {
			second = v
		}
	}
	return uint8(best), bv-second < 1e-5
}

func TestPredictPointwiseExact(t *testing.T) {
	t.Run("fake", func(t *testing.T) {
		testPointwiseExact(t, fakeEngine(t, Options{Models: []string{testModel("pointwise.onnx")}, BatchSize: 3}))
	})
	t.Run("onnxruntime", func(t *testing.T) {
		testPointwiseExact(t, newEngine(t, Options{Models: []string{testModel("pointwise.onnx")}, BatchSize: 3}))
	})
}

func testPointwiseExact(t *testing.T, e *Engine) {
	g := synth.New(synth.Options{Width: 203, Height: 157, Seed: 3, NoDataCorners: true})
	bands, _ := g.Scene(1, 0)
	sc := &Scene{Bands: bands, Names: []string{"red", "green", "nir"}, Geo: g.Geo(), NoData: raster.NoDataValue(0)}
	for _, blend := range []string{"ramp", "hann", "boxcar"} {
		t.Run(blend, func(t *testing.T) {
			w, err := tiling.ParseWindow(blend)
			if err != nil {
				t.Fatal(err)
			}
			req := Request{NoResample: true, Blend: w, PatchSize: 64, Overlap: 20}
			res, err := e.Predict(context.Background(), sc, req)
			if err != nil {
				t.Fatal(err)
			}
			bad := 0
			for y := 0; y < 157; y++ {
				for x := 0; x < 203; x++ {
					px := [3]float32{bands.At(0, x, y), bands.At(1, x, y), bands.At(2, x, y)}
					want, tie := pointwiseClass(px)
					if px == [3]float32{} {
						want, tie = 255, false
					}
					if tie {
						continue
					}
					if got := res.Mask.GrayAt(x, y).Y; got != want {
						bad++
						if bad < 4 {
							t.Logf("(%d,%d) %v got %d want %d", x, y, px, got, want)
						}
					}
				}
			}
			if bad > 0 {
				t.Fatalf("%d pixels differ from the direct computation", bad)
			}
		})
	}
}

func TestPredictResampledAligns(t *testing.T) {
	e := fakeEngine(t, Options{Models: []string{testModel("pointwise.onnx")}})
	g := synth.New(synth.Options{Width: 300, Height: 200, Seed: 5, ResolutionM: 5})
	bands, _ := g.Scene(1, 0)
	sc := &Scene{Bands: bands, Names: []string{"red", "green", "nir"}, Geo: g.Geo()}
	res, err := e.Predict(context.Background(), sc, Request{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Plan.ProcSize != image.Pt(150, 100) {
		t.Fatalf("processing size %v, want 150x100 (5 m -> 10 m)", res.Plan.ProcSize)
	}
	if res.Mask.Rect.Size() != image.Pt(300, 200) {
		t.Fatalf("mask size %v", res.Mask.Rect)
	}
	agree := 0
	for y := 0; y < 200; y++ {
		for x := 0; x < 300; x++ {
			px := [3]float32{bands.At(0, x, y), bands.At(1, x, y), bands.At(2, x, y)}
			if want, _ := pointwiseClass(px); res.Mask.GrayAt(x, y).Y == want {
				agree++
			}
		}
	}
	if f := float64(agree) / 60000; f < 0.9 {
		t.Fatalf("only %.3f of pixels agree with full-resolution classes", f)
	}
}

package engine

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corruptRunner runs a fake network, then spoils its output.
type corruptRunner struct {
	*fakeRunner
	spoil func(out []float32, n, k, plane int)
}

func (c *corruptRunner) Run(in []float32, inShape [4]int64, out []float32, outShape [4]int64) error {
	if err := c.fakeRunner.Run(in, inShape, out, outShape); err != nil {
		return err
	}
	n, k, plane := int(outShape[0]), int(outShape[1]), int(outShape[2]*outShape[3])
	c.spoil(out[:n*k*plane], n, k, plane)
	return nil
}

// corruptEngine is a one-thread engine on the fake network of ref whose
// outputs spoil spoils, closed when the test ends.
func corruptEngine(t *testing.T, ref string, spoil func(out []float32, n, k, plane int)) *Engine {
	t.Helper()
	m, fr := fakeModel(t, ref)
	m.run = &corruptRunner{fakeRunner: fr, spoil: spoil}
	opts, err := Options{Threads: 1}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	e, err := assemble(opts, []*model{m})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// TestUnusableModelOutputs enumerates model outputs that carry no class:
// all NaN, all +Inf, all -Inf, probabilities all zero — an error, no file —
// and partly so — a warning giving the fraction, those pixels nodata —,
// and outputs that are infinite but decided (one class +Inf), which are kept.
func TestUnusableModelOutputs(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	fill := func(v float32) func([]float32, int, int, int) {
		return func(out []float32, n, k, plane int) {
			for i := range out {
				out[i] = v
			}
		}
	}
	for _, tc := range []struct {
		name  string
		model string
		spoil func(out []float32, n, k, plane int)
		err   bool   // ErrModelOutput
		warn  string // in a warning
		class int    // >= 0: every valid pixel has this class
	}{
		{"all NaN", "pointwise.onnx", fill(nan), true, "", -1},
		{"all +Inf", "pointwise.onnx", fill(inf), true, "", -1},
		{"all -Inf", "pointwise.onnx", fill(-inf), true, "", -1},
		{"probabilities all zero", "pointwise_prob.onnx", fill(0), true, "", -1},
		{"probabilities all NaN", "pointwise_prob.onnx", fill(nan), true, "", -1},
		{"NaN in a quarter of the patch pixels", "pointwise.onnx", func(out []float32, n, k, plane int) {
			for i := range n {
				for p := 0; p < plane/4; p++ {
					out[i*k*plane+p] = nan
				}
			}
		}, false, "(25%)", -1},
		{"one class +Inf, the rest finite", "pointwise.onnx", func(out []float32, n, k, plane int) {
			for i := range n {
				for p := range plane {
					out[i*k*plane+2*plane+p] = inf
				}
			}
		}, false, "", 2},
		{"one class +Inf, the rest -Inf", "pointwise.onnx", func(out []float32, n, k, plane int) {
			for i := range out {
				out[i] = -inf
			}
			for i := range n {
				for p := range plane {
					out[i*k*plane+plane+p] = inf
				}
			}
		}, false, "", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := corruptEngine(t, tc.model, tc.spoil)
			dir := t.TempDir()
			out := filepath.Join(dir, "m.tif")
			res, err := e.Predict(context.Background(), synthScene(96, 80, 3), Request{NoResample: true, PatchSize: 32, Overlap: 8, Output: out})
			if tc.err {
				if !errors.Is(err, ErrModelOutput) {
					t.Fatalf("err = %v, want ErrModelOutput", err)
				}
				if n, _ := os.ReadDir(dir); len(n) > 0 {
					t.Errorf("left %v", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ws := strings.Join(res.Warnings, "; ")
			if tc.warn == "" && strings.Contains(ws, "NaN") || !strings.Contains(ws, tc.warn) {
				t.Errorf("warnings %q, want %q", ws, tc.warn)
			}
			if tc.class >= 0 {
				valid := res.Plan.Size.X*res.Plan.Size.Y - int(res.ClassCounts[255])
				if int(res.ClassCounts[tc.class]) != valid {
					t.Errorf("class counts %v, want all %d valid pixels class %d", res.ClassCounts[:4], valid, tc.class)
				}
			}
		})
	}
}

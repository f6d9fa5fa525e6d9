package engine

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omnimask/omnimask/models"
)

// Each output kind of a model (testdata/models/gen.py: output_kinds) on real
// ONNX Runtime sessions.

// copyModel copies a testdata model into a temporary folder with a sidecar
// manifest: the embedded one with edit applied.
func copyModel(t *testing.T, name string, edit func(m *models.Manifest)) string {
	t.Helper()
	requireORT(t) // LoadManifest checks the manifest against the graph through ORT
	m, err := LoadManifest(testModel(name), "")
	if err != nil {
		t.Fatal(err)
	}
	edit(m)
	data, err := os.ReadFile(testModel(name))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".json", js, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A one-channel sigmoid model is binary: the second class where the
// probability sigmoid(SW·x+SB) exceeds the threshold (0.5 by default, or
// the manifest's), and its confidence output is that probability.
func TestSigmoidOutput(t *testing.T) {
	sw, sb := [3]float64{1, -1, 0.5}, -0.1
	sc := synthScene(90, 70, 5)
	for _, tt := range []struct {
		name      string
		model     string
		threshold float64
	}{
		{"default threshold", testModel("pointwise_sigmoid.onnx"), 0.5},
		{"threshold 0.51", copyModel(t, "pointwise_sigmoid.onnx", func(m *models.Manifest) { m.Threshold = 0.51 }), 0.51},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEngine(t, Options{Models: []string{tt.model}})
			res, err := e.Predict(context.Background(), sc, Request{NoResample: true, Confidence: ConfidenceFloat32})
			if err != nil {
				t.Fatal(err)
			}
			counts := [2]int{}
			for y := 0; y < 70; y++ {
				for x := 0; x < 90; x++ {
					z := sb
					for c := range 3 {
						z += sw[c] * float64(sc.Bands.At(c, x, y))
					}
					p := 1 / (1 + math.Exp(-z))
					if math.Abs(p-tt.threshold) < 1e-5 {
						continue
					}
					want := uint8(0)
					if p > tt.threshold {
						want = 1
					}
					counts[want]++
					if got := res.Mask.GrayAt(x, y).Y; got != want {
						t.Fatalf("(%d,%d): p = %v, threshold %v: class %d, want %d", x, y, p, tt.threshold, got, want)
					}
					if tt.threshold == 0.5 {
						if got := float64(res.Probabilities.At(1, x, y)); math.Abs(got-p) > 1e-5 {
							t.Fatalf("(%d,%d): confidence %v, want p = %v", x, y, got, p)
						}
					}
				}
			}
			if counts[0] == 0 || counts[1] == 0 {
				t.Fatalf("scene gives one class only (%v): the test proves nothing", counts)
			}
		})
	}
}

// A graph ending in an argmax (int64 N x 1 x H x W, or uint8 N x H x W)
// gives the mask of the same network's logits: every patch votes the same
// class at a pixel.
func TestClassIndexOutput(t *testing.T) {
	sc := synthScene(100, 80, 6)
	req := Request{NoResample: true, PatchSize: 32, Overlap: 12}
	want, err := newEngine(t, Options{Models: []string{testModel("pointwise.onnx")}}).Predict(context.Background(), sc, req)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"pointwise_argmax.onnx", "pointwise_argmax_u8.onnx"} {
		t.Run(name, func(t *testing.T) {
			e := newEngine(t, Options{Models: []string{testModel(name)}})
			r := req
			r.Confidence = ConfidenceFloat32
			got, err := e.Predict(context.Background(), sc, r)
			if err != nil {
				t.Fatal(err)
			}
			if string(got.Mask.Pix) != string(want.Mask.Pix) {
				t.Fatal("mask differs from the logits model's")
			}
			// Unanimous votes: the vote share of the chosen class is 1.
			c := int(got.Mask.GrayAt(10, 10).Y)
			if v := got.Probabilities.At(c, 10, 10); v != 1 {
				t.Fatalf("vote share of the winning class %v, want 1", v)
			}
		})
	}
	t.Run("ensemble with logits refused", func(t *testing.T) {
		_, err := New(Options{Models: []string{testModel("pointwise.onnx"), testModel("pointwise_argmax.onnx")}})
		if err == nil || !strings.Contains(err.Error(), "class indices are voted on") {
			t.Fatalf("err = %v", err)
		}
	})
}

// Channel counts, types and size multiples the manifest gets wrong are
// refused at load, in one line naming the file, saying what is wrong.
func TestLoadOutputKindErrors(t *testing.T) {
	requireORT(t)
	for _, tt := range []struct {
		name, model string
		want        string
	}{
		{"one-class logits manifest", testModel("bad_one_class.onnx"), `output logits with 1 class would label every pixel with it (a one-channel sigmoid output is "output": "sigmoid" with 2 classes`},
		{"channels behind a symbolic dimension", testModel("bad_dynamic_channels.onnx"), "graph outputs 2 channels, manifest (output logits, 4 classes) needs 4 (one per class)"},
		{"class index declared logits", copyModel(t, "pointwise_argmax.onnx", func(m *models.Manifest) { m.Output = models.Logits }), "graph outputs 1 channels"},
		{"float output declared class index", copyModel(t, "pointwise.onnx", func(m *models.Manifest) { m.Output = models.ClassIndex }), "needs 1 (output class_index)"},
		{"sigmoid with a float argmax", copyModel(t, "pointwise_argmax.onnx", func(m *models.Manifest) {
			m.Output, m.Classes = models.Sigmoid, m.Classes[:2]
		}), `output sigmoid needs float32, graph output "output" is INT64`},
		{"size multiple too small", testModel("bad_multiple.onnx"), `size_multiple 2 is wrong: the graph fails on 34x34 patches`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, err := New(Options{Models: []string{tt.model}})
			if err == nil {
				e.Close()
				t.Fatalf("loaded, want an error containing %q", tt.want)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) || !strings.Contains(msg, filepath.Base(tt.model)) || strings.Contains(msg, "\n") {
				t.Fatalf("error %q: want one line naming the file and containing %q", msg, tt.want)
			}
		})
	}
	t.Run("size multiple hint", func(t *testing.T) {
		_, err := New(Options{Models: []string{testModel("bad_multiple.onnx")}})
		if err == nil || !strings.Contains(err.Error(), `the manifest should say "size_multiple": 4`) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("right size multiple", func(t *testing.T) {
		e := newEngine(t, Options{Models: []string{testModel("multiple4.onnx")}})
		if _, err := e.Predict(context.Background(), synthScene(70, 70, 1), Request{NoResample: true}); err != nil {
			t.Fatal(err)
		}
	})
}

package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/omnimask/omnimask/tta"
)

// TestNaNCountWithTTA: the warning counts the patch pixels without usable
// scores once, whatever the number of inference calls test-time
// augmentation makes per patch. The model spoils the four corners of every
// patch, a set each flip and rotation maps onto itself: 4 pixels of each
// patch, under none, flips and d4 alike.
func TestNaNCountWithTTA(t *testing.T) {
	nan := float32(math.NaN())
	const P = 32
	var warnings []string
	for _, mode := range []tta.Mode{tta.None, tta.Flips, tta.D4} {
		e := corruptEngine(t, "pointwise.onnx", func(out []float32, n, k, plane int) {
			for i := range n {
				for _, p := range []int{0, P - 1, plane - P, plane - 1} {
					out[i*k*plane+p] = nan
				}
			}
		})
		res, err := e.Predict(context.Background(), synthScene(96, 80, 3), Request{NoResample: true, PatchSize: P, Overlap: 8, TTA: mode})
		if err != nil {
			t.Fatal(err)
		}
		var w string
		for _, s := range res.Warnings {
			if strings.Contains(s, "NaN") {
				w = s
			}
		}
		var bad, all int
		if _, err := fmt.Sscanf(w, "the model produced NaN or only ±Inf for %d of %d patch pixels", &bad, &all); err != nil {
			t.Fatalf("%v: warning %q: %v", mode, w, err)
		}
		if all%(P*P) != 0 || bad != 4*all/(P*P) {
			t.Errorf("%v: %d of %d patch pixels, want 4 per %d px patch", mode, bad, all, P)
		}
		warnings = append(warnings, w)
	}
	if warnings[1] != warnings[0] || warnings[2] != warnings[0] {
		t.Errorf("warnings differ with TTA:\n%s", strings.Join(warnings, "\n"))
	}
}

// TestNaNCountPerPatchPixel: the warning counts each patch pixel without
// usable scores once, out of the patch pixels of the scene, however many
// models run on it: a pixel that an ensemble member or a product's model
// spoils has no usable scores (NaN in the ensemble's mean; nodata in a
// product's rules), whichever and however many of them spoil it. Every
// model spoils the corners of each patch named by its set (a subset of
// top-left, top-right, bottom-left, bottom-right; "all": every pixel).
func TestNaNCountPerPatchPixel(t *testing.T) {
	const P = 32
	tests := []struct {
		name    string
		product bool       // the models are a product's (cloud, water), else an ensemble's
		spoils  [][]string // by model
		tta     tta.Mode
		want    int // spoiled pixels per patch; -1: no usable output at all (ErrModelOutput)
	}{
		{"one model", false, [][]string{{"tl", "tr"}}, tta.None, 2},
		{"ensemble, the same pixels", false, [][]string{{"tl", "tr", "bl", "br"}, {"tl", "tr", "bl", "br"}}, tta.None, 4},
		{"ensemble, overlapping pixels", false, [][]string{{"tl", "tr"}, {"tl", "bl"}}, tta.None, 3},
		{"ensemble, disjoint pixels", false, [][]string{{"tl"}, {"br"}}, tta.None, 2},
		{"ensemble, one member clean", false, [][]string{{"tl", "tr"}, {}}, tta.None, 2},
		{"ensemble with flips", false, [][]string{{"tl", "tr", "bl", "br"}, {"tl", "br"}}, tta.Flips, 4},
		{"ensemble, one member all NaN", false, [][]string{{"all"}, {}}, tta.None, -1},
		{"product, overlapping pixels", true, [][]string{{"tl", "tr"}, {"tl", "bl"}}, tta.None, 3},
		{"product, the water model all NaN", true, [][]string{{}, {"all"}}, tta.None, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := spoiledEngine(t, tt.product, P, tt.spoils)
			res, err := e.Predict(context.Background(), synthScene(96, 80, 3), Request{NoResample: true, PatchSize: P, Overlap: 8, TTA: tt.tta})
			if tt.want < 0 {
				if !errors.Is(err, ErrModelOutput) {
					t.Fatalf("err = %v (warnings %q), want ErrModelOutput", err, warningsOf(res))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := len(res.Plan.Models); got != len(tt.spoils) {
				t.Fatalf("runs %d models %v, want %d", got, res.Plan.Models, len(tt.spoils))
			}
			var bad, all int
			w := strings.Join(warningsOf(res), "\n")
			if _, err := fmt.Sscanf(w[strings.Index(w, "the model produced"):], "the model produced NaN or only ±Inf for %d of %d patch pixels", &bad, &all); err != nil {
				t.Fatalf("warnings %q: %v", w, err)
			}
			if px := res.Plan.Patches * P * P; all != px || bad != tt.want*res.Plan.Patches {
				t.Errorf("%d of %d patch pixels, want %d of %d (%d patches)", bad, all, tt.want*res.Plan.Patches, px, res.Plan.Patches)
			}
		})
	}
}

// warningsOf returns the warnings of res (nil for a nil result).
func warningsOf(res *Result) []string {
	if res == nil {
		return nil
	}
	return res.Warnings
}

// spoiledEngine is an engine on fake networks, each spoiling (NaN) the
// corners of every P x P patch its set names: an ensemble of pointwise
// and pointwise-b, or (product) rangeEngine's composite, whose cloud model
// a and water model w10 (which also plays the check role) run on a 10 m
// scene.
func spoiledEngine(t *testing.T, product bool, P int, spoils [][]string) *Engine {
	t.Helper()
	spoil := func(set []string) func(out []float32, n, k, plane int) {
		at := map[string]int{"tl": 0, "tr": P - 1, "bl": P * (P - 1), "br": P*P - 1}
		return func(out []float32, n, k, plane int) {
			for i := range n {
				for _, c := range set {
					if c == "all" {
						for p := range plane {
							out[i*k*plane+p] = float32(math.NaN())
						}
						continue
					}
					out[i*k*plane+at[c]] = float32(math.NaN())
				}
			}
		}
	}
	if product {
		e := rangeEngine(t)
		for i, name := range []string{"a", "w10"} {
			j := slices.IndexFunc(e.models, func(m *model) bool { return m.name == name })
			m := e.models[j]
			m.run = &corruptRunner{fakeRunner: m.run.(*fakeRunner), spoil: spoil(spoils[i])}
		}
		return e
	}
	var mods []*model
	for i, ref := range []string{"pointwise.onnx", "pointwise_b.onnx"}[:len(spoils)] {
		m, fr := fakeModel(t, ref)
		m.run = &corruptRunner{fakeRunner: fr, spoil: spoil(spoils[i])}
		mods = append(mods, m)
	}
	opts, err := Options{Threads: 1}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	e, err := assemble(opts, mods)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

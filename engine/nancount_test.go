package engine

import (
	"context"
	"fmt"
	"math"
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

package engine

import (
	"context"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omnimask/omnimask/models"
	"github.com/omnimask/omnimask/raster"
)

// TestComposeConditions: compose applies a rule only where every condition
// holds, min_prob included (the softmax of the model's own scores), and
// falls through to the next rule otherwise.
func TestComposeConditions(t *testing.T) {
	// Model 0: clear, cloud, shadow. Model 1: land, water.
	v := &variant{models: make([]*model, 2), off: []int{0, 3}, k: []int{3, 2}, K: 5,
		rules: [][]cond{
			{{model: 0, class: 1}}, // cloud
			{{model: 0, class: 2}, {model: 1, class: 1, minProb: 0.9}}, // shadow, but confident water
			{{model: 0, class: 2}}, // shadow
			{{model: 1, class: 1}}, // water
			{{model: 1, class: 0}, {model: 1, class: 1, minProb: 0.0001}}, // never: one model, two classes
			nil, // land
		},
		ruleID: []uint8{2, 1, 4, 1, 9, 0}}
	logit := func(p float64) float32 { return float32(math.Log(p / (1 - p))) } // water - land
	nan := float32(math.NaN())
	for _, c := range []struct {
		name  string
		a     [3]float32 // model 0 scores
		water float32    // model 1: land 0, water this
		valid bool
		want  uint8
	}{
		{"cloud wins", [3]float32{0, 5, 1}, logit(0.99), true, 2},
		{"shadow, water p 0.95", [3]float32{0, 1, 5}, logit(0.95), true, 1},
		{"shadow, water p 0.9002", [3]float32{0, 1, 5}, logit(0.9002), true, 1},
		{"shadow, water p 0.8998", [3]float32{0, 1, 5}, logit(0.8998), true, 4},
		{"shadow, water p 0.6", [3]float32{0, 1, 5}, logit(0.6), true, 4},
		{"shadow, land", [3]float32{0, 1, 5}, logit(0.2), true, 4},
		{"clear, water p 0.6", [3]float32{5, 1, 0}, logit(0.6), true, 1},
		{"clear, land", [3]float32{5, 1, 0}, logit(0.3), true, 0},
		{"uncovered", [3]float32{5, 1, 0}, nan, true, 255},
		{"nodata", [3]float32{0, 1, 5}, logit(0.99), false, 255},
	} {
		logits := [][]float32{{c.a[0]}, {c.a[1]}, {c.a[2]}, {0}, {c.water}}
		if c.water != c.water {
			logits[3][0] = nan
		}
		out := []uint8{77}
		cls := [][]int16{make([]int16, 1), make([]int16, 1)}
		un := v.compose(out, logits, []bool{c.valid}, cls)
		if out[0] != c.want {
			t.Errorf("%s: class %d, want %d", c.name, out[0], c.want)
		}
		if want := c.want == 255 && c.valid; un != map[bool]int64{true: 1}[want] {
			t.Errorf("%s: %d uncovered", c.name, un)
		}
	}
	// prob is the softmax, for any number of classes.
	logits := [][]float32{{1}, {2}, {3}, {0}, {0}}
	want := math.Exp(2) / (math.Exp(1) + math.Exp(2) + math.Exp(3))
	if p := v.prob(logits, 0, 1, 0); math.Abs(p-want) > 1e-12 {
		t.Errorf("prob %v, want %v", p, want)
	}
}

// vetoComposite is testComposite with a veto before the shadow rule: shadow
// is water where the water model decides shadow (standing in for water)
// with at least probability %v.
func vetoComposite(minProb float64) string {
	veto := fmt.Sprintf(`{"when": {"cloud": "cloud_shadow", "water": "cloud_shadow"}, "min_prob": {"water": %v}, "class": "water"}, `, minProb)
	return strings.Replace(testComposite, `{"when": {"cloud": "cloud_shadow"}, "class": "cloud_shadow"}`, veto+`{"when": {"cloud": "cloud_shadow"}, "class": "cloud_shadow"}`, 1)
}

// TestCompositeMinProb: through Predict, a min_prob rule turns exactly the
// pixels whose model gives the class at least that probability (as the
// probabilities output reports it), and only those.
func TestCompositeMinProb(t *testing.T) {
	scene := compositeScene()
	for _, p := range []float64{0.3, 0.6, 0.9} {
		comp, err := models.ParseComposite([]byte(vetoComposite(p)))
		if err != nil {
			t.Fatal(err)
		}
		opts, _ := Options{BatchSize: 2}.withDefaults()
		a, _ := fakeModel(t, testModel("pointwise.onnx"))
		b, _ := fakeModel(t, testModel("pointwise_b.onnx"))
		e, err := assemble(opts, []*model{a, b})
		if err != nil {
			t.Fatal(err)
		}
		if e.variants, err = compositeVariants(comp, map[string]*model{"a": a, "b": b}); err != nil {
			t.Fatal(err)
		}
		e.composite = comp
		res, err := e.Predict(context.Background(), scene, Request{NoResample: true, Confidence: ConfidenceFloat32})
		e.Close()
		if err != nil {
			t.Fatal(err)
		}
		vetoed, kept := checkVeto(t, res, p)
		t.Logf("min_prob %v: %d shadow pixels vetoed to water, %d kept", p, vetoed, kept)
		if p == 0.6 && (vetoed == 0 || kept == 0) {
			t.Errorf("min_prob %v: %d vetoed, %d kept: the scene does not exercise the threshold", p, vetoed, kept)
		}
	}
}

// compositeScene is TestCompositeRules's scene: random scores in [-3, 3).
func compositeScene() *Scene {
	const W, H = 120, 100
	sc := raster.NewFloat32(3, image.Rect(0, 0, W, H))
	rng := rand.New(rand.NewPCG(14, 3))
	for i := range sc.Pix {
		sc.Pix[i] = rng.Float32()*6 - 3
	}
	return &Scene{Bands: sc, Names: []string{"red", "green", "nir"}}
}

// checkVeto checks a vetoComposite(p) product's mask against its own
// probabilities output (channels 0-3 the cloud model's, 4-7 the water
// model's) and counts the shadow pixels vetoed to water and kept.
func checkVeto(t *testing.T, res *Result, p float64) (vetoed, kept int) {
	t.Helper()
	pr := res.Probabilities
	if pr == nil || pr.C != 8 {
		t.Fatalf("probabilities %v", pr)
	}
	argmax := func(c0, x, y int) int {
		best := 0
		for c := 1; c < 4; c++ {
			if pr.At(c0+c, x, y) > pr.At(c0+best, x, y) {
				best = c
			}
		}
		return best
	}
	r := res.Mask.Rect
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			got := res.Mask.Pix[(y-r.Min.Y)*res.Mask.Stride+x-r.Min.X]
			if got == 255 {
				continue
			}
			ca, cb := argmax(0, x, y), argmax(4, x, y)
			pw := float64(pr.At(4+3, x, y))
			if math.Abs(pw-p) < 1e-5 {
				continue // float32 output vs float64 decision
			}
			want := map[int]uint8{1: 2, 2: 3, 3: 7}[ca]
			switch {
			case ca == 1 || ca == 2: // cloud classes first
			case ca == 3 && cb == 3 && pw >= p:
				want = 1
				vetoed++
			case ca == 3:
				if cb == 3 {
					kept++
				}
			case cb == 3:
				want = 1
			case ca == 0:
				want = 0
			}
			if got != want {
				t.Fatalf("min_prob %v: pixel %d,%d: class %d, want %d (cloud model %d, water model %d p %.4f)", p, x, y, got, want, ca, cb, pw)
			}
		}
	}
	return vetoed, kept
}

// TestCompositeSharedModel: a model playing two roles runs once; the rules
// read its decision for each role.
func TestCompositeSharedModel(t *testing.T) {
	const shared = `{"name": "shared", "models": [{"role": "cloud", "models": ["a"]}, {"role": "again", "models": ["a"]}],
 "classes": [{"id": 0, "name": "clear", "color": [1, 2, 3]}, {"id": 5, "name": "cloud", "color": [255, 255, 255]}],
 "rules": [{"when": {"cloud": "thick_cloud", "again": "thin_cloud"}, "class": "clear"},
  {"when": {"cloud": "thick_cloud", "again": "thick_cloud"}, "min_prob": {"again": 0.2}, "class": "cloud"}, {"class": "clear"}]}`
	comp, err := models.ParseComposite([]byte(shared))
	if err != nil {
		t.Fatal(err)
	}
	scene := compositeScene()
	e := fakeEngine(t, Options{Models: []string{testModel("pointwise.onnx")}, BatchSize: 2})
	res, err := e.Predict(context.Background(), scene, Request{NoResample: true})
	if err != nil {
		t.Fatal(err)
	}
	alone := res.Mask
	a, _ := fakeModel(t, testModel("pointwise.onnx"))
	if e.variants, err = compositeVariants(comp, map[string]*model{"a": a}); err != nil {
		t.Fatal(err)
	}
	e.composite = comp
	res, err = e.Predict(context.Background(), scene, Request{NoResample: true, Confidence: ConfidenceFloat32})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Plan.Models) != 1 || res.Probabilities.C != 4 {
		t.Errorf("plan models %v, %d probability bands: want the model once", res.Plan.Models, res.Probabilities.C)
	}
	clouds := 0
	for i, c := range alone.Pix {
		want := map[uint8]uint8{1: 5, 255: 255}[c] // thick_cloud (p > 1/4 > 0.2) -> cloud
		if got := res.Mask.Pix[i]; got != want {
			t.Fatalf("pixel %d: class %d, want %d (model alone %d)", i, got, want, c)
		}
		if want == 5 {
			clouds++
		}
	}
	if clouds == 0 {
		t.Error("no cloud: the scene does not exercise the rule")
	}
}

// TestRequestProductFile: Request.Product takes a composite of one's own
// (a .json file) with a min_prob rule, run on the real runtime.
func TestRequestProductFile(t *testing.T) {
	dir := t.TempDir()
	abs := func(name string) string {
		p, err := filepath.Abs(testModel(name))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	js := strings.NewReplacer(`["a"]`, fmt.Sprintf("[%q]", abs("pointwise.onnx")), `["b"]`, fmt.Sprintf("[%q]", abs("pointwise_b.onnx"))).Replace(vetoComposite(0.6))
	path := filepath.Join(dir, "veto.json")
	if err := os.WriteFile(path, []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
	e := newEngine(t, Options{Models: []string{testModel("pointwise.onnx")}, Threads: 1})
	res, err := e.Predict(context.Background(), compositeScene(), Request{Product: path, NoResample: true, Confidence: ConfidenceFloat32})
	if err != nil {
		t.Fatal(err)
	}
	if res.Plan.Product != "test" || len(res.Plan.Models) != 2 {
		t.Errorf("plan product %q models %v", res.Plan.Product, res.Plan.Models)
	}
	if vetoed, kept := checkVeto(t, res, 0.6); vetoed == 0 || kept == 0 {
		t.Errorf("%d vetoed, %d kept", vetoed, kept)
	}
	bad := strings.Replace(js, `"min_prob": {"water": 0.6}`, `"min_prob": {"water": 1.5}`, 1)
	path = filepath.Join(dir, "bad.json")
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Predict(context.Background(), compositeScene(), Request{Product: path, NoResample: true}); err == nil || !strings.Contains(err.Error(), "min_prob") {
		t.Errorf("min_prob 1.5: %v", err)
	}
}

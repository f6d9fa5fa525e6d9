package engine

import (
	"context"
	"image"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/omnimask/omnimask/models"
	"github.com/omnimask/omnimask/raster"
)

// testComposite combines the fakes: "cloud" (pointwise) decides cloud and
// shadow, "water" (pointwise-b, standing in for a water model) decides
// water where it says "cloud_shadow".
const testComposite = `{"name": "test", "models": [{"role": "cloud", "models": ["a"]}, {"role": "water", "models": ["b"]}],
 "classes": [{"id": 0, "name": "land", "color": [1, 2, 3]}, {"id": 1, "name": "water", "color": [0, 0, 255]},
  {"id": 2, "name": "thick_cloud", "color": [255, 255, 255]}, {"id": 3, "name": "thin_cloud", "color": [200, 200, 255]},
  {"id": 7, "name": "cloud_shadow", "color": [90, 60, 30]}],
 "rules": [{"when": {"cloud": "thick_cloud"}, "class": "thick_cloud"}, {"when": {"cloud": "thin_cloud"}, "class": "thin_cloud"},
  {"when": {"cloud": "cloud_shadow"}, "class": "cloud_shadow"}, {"when": {"water": "cloud_shadow"}, "class": "water"}, {"class": "land"}]}`

// TestCompositeRules: a product's mask is its rules applied to each model's
// own decision, pixel for pixel the masks the two models write alone;
// cloud classes take precedence and shadow is never water.
func TestCompositeRules(t *testing.T) {
	comp, err := models.ParseComposite([]byte(testComposite))
	if err != nil {
		t.Fatal(err)
	}
	const W, H = 120, 100
	sc := raster.NewFloat32(3, image.Rect(0, 0, W, H))
	rng := rand.New(rand.NewPCG(14, 3))
	for i := range sc.Pix {
		sc.Pix[i] = rng.Float32()*6 - 3
	}
	sc.Set(0, 7, 9, float32(math.NaN()))
	scene := &Scene{Bands: sc, Names: []string{"red", "green", "nir"}}
	alone := func(ref string) *image.Gray {
		e := fakeEngine(t, Options{Models: []string{testModel(ref)}, BatchSize: 2})
		res, err := e.Predict(context.Background(), scene, Request{NoResample: true})
		if err != nil {
			t.Fatal(err)
		}
		return res.Mask
	}
	ma, mb := alone("pointwise.onnx"), alone("pointwise_b.onnx")

	opts, _ := Options{BatchSize: 2}.withDefaults()
	a, _ := fakeModel(t, testModel("pointwise.onnx"))
	b, _ := fakeModel(t, testModel("pointwise_b.onnx"))
	e, err := assemble(opts, []*model{a, b})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.variants, err = compositeVariants(comp, map[string]*model{"a": a, "b": b}); err != nil {
		t.Fatal(err)
	}
	e.composite = comp
	res, err := e.Predict(context.Background(), scene, Request{NoResample: true, Confidence: ConfidenceFloat32})
	if err != nil {
		t.Fatal(err)
	}
	if res.Plan.Product != "test" || len(res.Plan.Models) != 2 {
		t.Errorf("plan product %q models %v", res.Plan.Product, res.Plan.Models)
	}
	if res.Probabilities == nil || res.Probabilities.C != 8 {
		t.Fatalf("probabilities %v", res.Probabilities)
	}
	seen := map[uint8]int{}
	for i := range ma.Pix {
		want := map[uint8]uint8{1: 2, 2: 3, 3: 7}[ma.Pix[i]]
		switch {
		case ma.Pix[i] == 255:
			want = 255
		case want != 0:
		case mb.Pix[i] == 3:
			want = 1
		default:
			want = 0
		}
		if got := res.Mask.Pix[i]; got != want {
			t.Fatalf("pixel %d: product class %d, want %d (cloud model %d, water model %d)", i, got, want, ma.Pix[i], mb.Pix[i])
		}
		if ma.Pix[i] == 3 && mb.Pix[i] == 3 {
			seen[99]++ // shadow where the water model says water
		}
		seen[res.Mask.Pix[i]]++
	}
	for _, c := range []uint8{0, 1, 2, 7, 255} {
		if seen[c] == 0 {
			t.Errorf("class %d never produced (%v): the test scene does not exercise the rules", c, seen)
		}
	}
	if seen[99] == 0 {
		t.Error("no pixel where shadow and water compete")
	}
	// Each model's probabilities sum to 1 over its own classes.
	var s1, s2 float32
	for c := range 4 {
		s1 += res.Probabilities.At(c, 50, 50)
		s2 += res.Probabilities.At(4+c, 50, 50)
	}
	if s1 < 0.999 || s1 > 1.001 || s2 < 0.999 || s2 > 1.001 {
		t.Errorf("probabilities sum to %v and %v", s1, s2)
	}
}

func TestCompositeValidation(t *testing.T) {
	comp, err := models.ParseComposite([]byte(testComposite))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := fakeModel(t, testModel("pointwise.onnx"))
	bad := *comp
	bad.Rules = append([]models.Rule{{When: map[string]string{"water": "water"}, Class: "water"}}, comp.Rules...)
	if _, err := compositeVariants(&bad, map[string]*model{"a": a, "b": a}); err == nil {
		t.Error("a rule naming a class the model lacks was accepted")
	}
}

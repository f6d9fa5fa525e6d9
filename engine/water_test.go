package engine

import (
	"context"
	"errors"
	"image"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/models"
	"github.com/omnimask/omnimask/preprocess"
	"github.com/omnimask/omnimask/raster"
)

// waterThresholds are the thresholds gen_index_models.py baked into the
// built-in index models (models/train/water_thresholds.json).
var waterThresholds = map[string]float32{"ndwi-water": 0.06, "mndwi-water": 0.13}

// TestIndexWaterModels: the built-in index models, through ONNX Runtime and
// the whole pipeline, call a pixel water exactly where its index exceeds
// the model's threshold, on a DN-scaled and a reflectance-scaled copy of
// the same scene (the index is invariant to a common gain), with the
// pixel whose two bands sum to 0 left nodata.
func TestIndexWaterModels(t *testing.T) {
	for model, thr := range waterThresholds {
		t.Run(model, func(t *testing.T) {
			e := newEngine(t, Options{Models: []string{model}, Threads: 1})
			const W, H = 150, 140
			sc := raster.NewFloat32(3, image.Rect(0, 0, W, H))
			for y := range H {
				for x := range W {
					sc.Set(0, x, y, float32(200+((x*31+y*17)%3000)))
					sc.Set(1, x, y, float32(200+((x*13+y*29)%3000)))
					sc.Set(2, x, y, float32(200+((x*7+y*11)%3000)))
				}
			}
			sc.Set(0, 3, 4, 0)
			sc.Set(1, 3, 4, 0)
			sc.Set(2, 3, 4, 0)
			want := make([]float32, W*H)
			other := sc.Pix[W*H : 2*W*H] // nir for ndwi, swir1 for mndwi
			preprocess.NormDiff(want, sc.Pix[:W*H], other, nil)
			names := []string{"green", "nir", "swir1"}
			if model == "mndwi-water" {
				names = []string{"green", "swir1", "nir"}
			}
			for _, gain := range []float32{1, 1e-4} {
				s := sc.Clone()
				for i := range s.Pix {
					s.Pix[i] *= gain
				}
				res, err := e.Predict(context.Background(), &Scene{Bands: s, Names: names, NoData: raster.NoDataValue(0)}, Request{})
				if err != nil {
					t.Fatal(err)
				}
				wrong := 0
				for i, v := range want {
					got := res.Mask.Pix[i]
					switch {
					case v != v:
						if got != 255 {
							t.Errorf("pixel %d with no index is class %d, want nodata", i, got)
						}
					case math.Abs(float64(v-thr)) < 1e-4: // too close to call in float32
					case (v > thr) != (got == 1) || got > 1:
						wrong++
					}
				}
				if wrong > 0 {
					t.Errorf("gain %g: %d pixels disagree with index > %g", gain, wrong, thr)
				}
				if res.ClassCounts[1] == 0 || res.ClassCounts[0] == 0 || res.ClassCounts[255] != 1 {
					t.Errorf("gain %g: class counts land %d water %d nodata %d", gain, res.ClassCounts[0], res.ClassCounts[1], res.ClassCounts[255])
				}
			}
		})
	}
}

// TestWaterSceneIoU scores the built-in water models on the held-out (right) half of
// the labelled Sentinel-2 water scene in ../shared, against the numbers of
// models/WATER.md (skips without the data).
func TestWaterSceneIoU(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "data", "water", "s2-surface-water")
	img, lbl := filepath.Join(dir, "S2A_20190817_image.tif"), filepath.Join(dir, "S2A_20190817_label.tif")
	if _, err := os.Stat(img); err != nil {
		t.Skipf("no water scene: %v", err)
	}
	gdalio.Register()
	ls, err := gdalio.Open(lbl)
	if err != nil {
		t.Fatal(err)
	}
	lr := raster.NewFloat32(1, image.Rectangle{Max: ls.Size})
	if err = ls.Select([]int{0}); err == nil {
		err = ls.Read(lr)
	}
	ls.Close()
	if err != nil {
		t.Fatal(err)
	}
	ref := lr.Pix
	for _, c := range []struct {
		model, bands string
		right        float64
	}{{"ndwi-water", "", 0.7033}, {"mndwi-water", "green=B03,swir1=B11", 0.7519},
		{"water-cnn", "blue=B02,green=B03,red=B04,nir=B08,swir1=B11,swir2=B12", 0.7792},
		{"product water", "", 0.7788}} { // omnicloud 2.0.0 + water-cnn + the NDWI shadow veto (run 5; with omnicloud-v1 0.7643)
		opts := Options{Models: []string{c.model}, Threads: 1}
		if name, ok := strings.CutPrefix(c.model, "product "); ok {
			opts = Options{Product: name, Threads: 1}
		}
		e := newEngine(t, opts)
		res, err := e.PredictFile(context.Background(), []string{img}, Request{Bands: c.bands})
		if err != nil {
			t.Fatal(err)
		}
		W := res.Mask.Rect.Dx()
		var inter, union int
		for y := 0; y < res.Mask.Rect.Dy(); y++ {
			for x := W / 2; x < W; x++ {
				p, r := res.Mask.Pix[y*res.Mask.Stride+x], ref[y*W+x]
				if p == 255 {
					continue
				}
				if p == 1 && r == 1 {
					inter++
				}
				if p == 1 || r == 1 {
					union++
				}
			}
		}
		iou := float64(inter) / float64(union)
		t.Logf("%s: water IoU on the right half %.4f", c.model, iou)
		if math.Abs(iou-c.right) > 0.0005 {
			t.Errorf("%s: right-half IoU %.4f, model card says %.4f", c.model, iou, c.right)
		}
	}
}

// TestRequestProduct: Request.Product runs the product's models through an
// engine built for another model, as Options.Product does, and the
// product's engine closes with the engine.
func TestRequestProduct(t *testing.T) {
	e := newEngine(t, Options{Models: []string{testModel("pointwise.onnx")}, Threads: 1})
	const W, H = 96, 80
	sc := raster.NewFloat32(3, image.Rect(0, 0, W, H))
	for i := range sc.Pix {
		sc.Pix[i] = float32(500 + (i*37)%2000)
	}
	scene := &Scene{Bands: sc, Names: []string{"red", "green", "nir"}}
	res, err := e.Predict(context.Background(), scene, Request{Product: "water", NoResample: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Plan.Product != "water" || strings.Join(res.Plan.Models, ",") != "omnicloud,ndwi-water" {
		t.Errorf("product %q models %v", res.Plan.Product, res.Plan.Models)
	}
	// A scene with the six bands water-cnn needs gets it.
	six := &Scene{Bands: cnnScene(W, H), Names: []string{"blue", "green", "red", "nir", "swir1", "swir2"}}
	res, err = e.Predict(context.Background(), six, Request{Product: "water", NoResample: true})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(res.Plan.Models, ",") != "omnicloud,water-cnn,ndwi-water" {
		t.Errorf("six-band scene: models %v", res.Plan.Models)
	}
	p, err := e.Inspect(context.Background(), nil, Request{Product: "nope"})
	if err == nil || !strings.Contains(err.Error(), `no built-in product "nope"`) {
		t.Errorf("unknown product: %v, %v", p, err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Predict(context.Background(), scene, Request{Product: "water"}); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}

// TestWaterShadowVeto: the built-in water product's shadow veto
// (models/WATER.md, WATER_PROTOCOL.md run 3) asks ndwi-water's p(water) for
// at least the probability it gives at NDWI 0.20: the threshold the
// protocol fixed, read back through the real model and pipeline.
func TestWaterShadowVeto(t *testing.T) {
	comp, err := models.BuiltinComposite("water")
	if err != nil {
		t.Fatal(err)
	}
	var minProb float64
	for _, r := range comp.Rules {
		if p, ok := r.MinProb["ndwi"]; ok {
			minProb = p
		}
	}
	e := newEngine(t, Options{Models: []string{"ndwi-water"}, Threads: 1})
	ndwi := []float64{0.15, 0.195, 0.1999, 0.2001, 0.205, 0.25}
	const W, H = 48, 40 // each NDWI in a band of 8 columns
	sc := raster.NewFloat32(2, image.Rect(0, 0, W, H))
	for x := range W {
		for y := range H {
			n := ndwi[x/8]
			sc.Set(0, x, y, float32(1000*(1+n))) // green
			sc.Set(1, x, y, float32(1000*(1-n))) // nir
		}
	}
	res, err := e.Predict(context.Background(), &Scene{Bands: sc, Names: []string{"green", "nir"}}, Request{NoResample: true, Confidence: ConfidenceFloat32})
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range ndwi {
		p := float64(res.Probabilities.At(1, 8*i+4, H/2))
		if (n >= 0.20) != (p >= minProb) {
			t.Errorf("NDWI %.4f: p(water) %.5f, veto min_prob %.4f: the veto does not sit at NDWI 0.20", n, p, minProb)
		}
	}
}

package engine

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omnimask/omnimask/models"
	"github.com/omnimask/omnimask/raster"
)

// A model asking for reflectance gets value x scale + offset: its mask on a
// scene with --scale/--offset is the any-units model's mask on the scene
// converted beforehand.
func TestReflectanceUnits(t *testing.T) {
	refl := copyModel(t, "pointwise.onnx", func(m *models.Manifest) { m.InputUnits = models.Reflectance })
	sc := synthScene(90, 70, 8)
	conv := &Scene{Bands: raster.NewFloat32(sc.Bands.C, sc.Bands.Rect), Names: sc.Names, Geo: sc.Geo}
	scale, offset := []float64{2e-4, 1e-4, 3e-4}, []float64{-0.1, 0, 0.05}
	for c := range 3 {
		for i, v := range sc.Bands.Pix[c*sc.Bands.PlaneStride : (c+1)*sc.Bands.PlaneStride] {
			conv.Bands.Pix[c*sc.Bands.PlaneStride+i] = float32(float64(v)*scale[c] + offset[c])
		}
	}
	ctx := context.Background()
	want, err := newEngine(t, Options{Models: []string{testModel("pointwise.onnx")}}).Predict(ctx, conv, Request{NoResample: true})
	if err != nil {
		t.Fatal(err)
	}
	e := newEngine(t, Options{Models: []string{refl}})
	got, err := e.Predict(ctx, sc, Request{NoResample: true, Scale: scale, Offset: offset})
	if err != nil {
		t.Fatal(err)
	}
	diff := 0
	for i := range got.Mask.Pix {
		if got.Mask.Pix[i] != want.Mask.Pix[i] {
			diff++
		}
	}
	if diff > 0 { // float32 rounding of the converted scene could only flip near-ties
		t.Fatalf("%d of %d pixels differ", diff, len(got.Mask.Pix))
	}
	if got.Plan.UnitsFrom != "--scale/--offset" || got.Plan.Units[2].Scale != 3e-4 {
		t.Fatalf("plan units %v from %q", got.Plan.Units, got.Plan.UnitsFrom)
	}

	_, err = e.Predict(ctx, sc, Request{NoResample: true})
	if !errors.Is(err, ErrUnits) || !strings.Contains(err.Error(), "--scale") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("unknown units: err = %v, want ErrUnits saying how to give them", err)
	}
	for _, bad := range []Request{{Scale: []float64{0}}, {Scale: []float64{1, 2}}, {Offset: []float64{math.NaN()}}} {
		if _, err := e.Predict(ctx, sc, bad); err == nil {
			t.Errorf("scale %v offset %v accepted", bad.Scale, bad.Offset)
		}
	}
}

// Z-score models take any units: --scale and --offset change nothing, byte
// for byte, and say so.
func TestZScoreIgnoresUnits(t *testing.T) {
	e := newEngine(t, Options{Models: []string{testModel("pointwise_zscore.onnx")}})
	sc := synthScene(80, 60, 3)
	ctx := context.Background()
	a, err := e.Predict(ctx, sc, Request{NoResample: true})
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.Predict(ctx, sc, Request{NoResample: true, Scale: []float64{1e-4}, Offset: []float64{-0.1}})
	if err != nil {
		t.Fatal(err)
	}
	if string(a.Mask.Pix) != string(b.Mask.Pix) {
		t.Fatal("mask changed")
	}
	if b.Plan.Units != nil || !strings.Contains(strings.Join(b.Warnings, ";"), "--scale/--offset ignored") {
		t.Fatalf("units %v, warnings %q", b.Plan.Units, b.Warnings)
	}
}

// A Landsat Level-1 product folder gives its bands' top-of-atmosphere
// reflectance units from the MTL (REFLECTANCE_MULT/ADD and the sun
// elevation): a reflectance model runs on it without --scale.
func TestLandsatMTLUnits(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "data", "scenes", "landsat8-l1t")
	if _, err := os.Stat(dir); err != nil {
		t.Skip("needs ../shared/data/scenes/landsat8-l1t")
	}
	refl := copyModel(t, "pointwise.onnx", func(m *models.Manifest) {
		m.InputUnits, m.MinResolution, m.MaxResolution = models.Reflectance, 0, 0
	})
	e := newEngine(t, Options{Models: []string{refl}})
	p, err := e.Inspect(context.Background(), []string{dir}, Request{})
	if err != nil {
		t.Fatal(err)
	}
	// LC80200392015216LGN00_MTL.txt: REFLECTANCE_MULT_BAND_n 2.0E-05, ADD -0.1, SUN_ELEVATION 64.74360932.
	s := math.Sin(64.74360932 * math.Pi / 180)
	if len(p.Units) != 3 || math.Abs(p.Units[0].Scale-2e-5/s) > 1e-12 || math.Abs(p.Units[0].Offset+0.1/s) > 1e-9 || !strings.Contains(p.UnitsFrom, "SUN_ELEVATION") {
		t.Fatalf("units %+v from %q", p.Units, p.UnitsFrom)
	}
}

// DL-L8S2-UV (make dl-l8s2-uv) on the Landsat 8 Level-1 product of
// ../shared/data: six bands found by role, reflectance from the MTL, one
// sigmoid channel; no sidecar, no --scale. Skips without either.
func TestDLL8S2UVOnLandsatL1(t *testing.T) {
	model := filepath.Join("..", "out", "models", "dl-l8s2-uv-rgbiswir.onnx")
	dir := filepath.Join("..", "..", "shared", "data", "scenes", "landsat8-l1t")
	for _, p := range []string{model, dir} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("needs %s (make dl-l8s2-uv, ../shared/data)", p)
		}
	}
	e := newEngine(t, Options{Models: []string{model}})
	res, err := e.PredictFile(context.Background(), []string{dir}, Request{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Plan.Units) != 6 || !strings.Contains(res.Plan.UnitsFrom, "_MTL.txt") {
		t.Fatalf("units %v from %q", res.Plan.Units, res.Plan.UnitsFrom)
	}
	n := float64(res.Plan.Size.X * res.Plan.Size.Y)
	cloud := float64(res.ClassCounts[1]) / n
	// The product's own BQA marks 6 % high-confidence cloud; raw DN fed as
	// reflectance (--scale 1) gives 54 % "cloud".
	if cloud < 0.005 || cloud > 0.2 {
		t.Fatalf("cloud fraction %.3f", cloud)
	}
	t.Logf("cloud %.1f %%", 100*cloud)
}

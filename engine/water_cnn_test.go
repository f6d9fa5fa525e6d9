package engine

import (
	"context"
	"image"
	"math"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/omnimask/omnimask/raster"
)

// cnnScene is a deterministic 6-band scene (blue, green, red, nir, swir1,
// swir2; reflectance x 10000) with a lake and a river on textured land.
func cnnScene(w, h int) *raster.Float32 {
	sc := raster.NewFloat32(6, image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			tex := float32((x*37+y*53)%400) - 200
			dx, dy := float64(x-w/3), float64(y-h/2)
			water := dx*dx+dy*dy < float64(w*w)/25 || math.Abs(float64(x)-0.7*float64(w)-8*math.Sin(float64(y)/9)) < 3
			v := [6]float32{900, 1200, 1400, 3000, 2500, 1800} // land
			if water {
				v = [6]float32{700, 900, 600, 400, 200, 150}
			}
			for c := range 6 {
				sc.Set(c, x, y, max(1, v[c]+tex*float32(c+1)/6))
			}
		}
	}
	return sc
}

// TestWaterCNNParity: the engine's class probabilities of the built-in
// water-cnn on a scene equal softmax of the PyTorch model (weights read
// from the same ONNX file) run on inputs computed by the training code
// (models/train/water_cnn.py: indices, bands z-scored over the patch).
func TestWaterCNNParity(t *testing.T) {
	if err := exec.Command(python, "-c", "import torch, numpy, onnx; from osgeo import gdal").Run(); err != nil {
		t.Skip("python3 with torch, onnx and GDAL not available")
	}
	const n = 96
	sc := cnnScene(n, n)
	e := newEngine(t, Options{Models: []string{"water-cnn"}, Threads: 1})
	res, err := e.Predict(context.Background(), &Scene{Bands: sc, Names: []string{"blue", "green", "red", "nir", "swir1", "swir2"}},
		Request{NoResample: true, PatchSize: n, Confidence: ConfidenceFloat32})
	if err != nil {
		t.Fatal(err)
	}
	if res.Plan.Patches != 1 {
		t.Fatalf("%d patches, want one covering the scene", res.Plan.Patches)
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "bands.npy"), filepath.Join(dir, "logits.npy")
	if err := writeNpy(in, []int{6, n, n}, sc.Pix); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, filepath.Join("..", "models", "train", "water_cnn_parity.py"),
		"--model", filepath.Join("..", "models", "builtin", "water-cnn.onnx"), "--input", in, "--output", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("water_cnn_parity.py: %v\n%s", err, b)
	}
	logits, err := readNpy(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(logits) != 2*n*n {
		t.Fatalf("%d logits, want %d", len(logits), 2*n*n)
	}
	var maxProb float64
	var water, wrong int
	for y := range n {
		for x := range n {
			j := y*n + x
			d := float64(logits[n*n+j] - logits[j])
			p := 1 / (1 + math.Exp(-d)) // softmax of two logits: water
			maxProb = max(maxProb, math.Abs(float64(res.Probabilities.At(1, x, y))-p))
			m := res.Mask.Pix[y*res.Mask.Stride+x]
			if m == 1 {
				water++
			}
			if math.Abs(d) > 1e-3 && (d > 0) != (m == 1) {
				wrong++
			}
		}
	}
	if maxProb > 1e-4 {
		t.Errorf("engine water probabilities differ from PyTorch by up to %g", maxProb)
	}
	if wrong > 0 {
		t.Errorf("%d pixels' classes differ from PyTorch's argmax", wrong)
	}
	if water == 0 || water == n*n {
		t.Errorf("%d water pixels of %d: the scene should have both classes", water, n*n)
	}
	t.Logf("max |p diff| engine vs PyTorch %.2g; %d water pixels", maxProb, water)
}

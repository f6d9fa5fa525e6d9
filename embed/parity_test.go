package embed

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/internal/ort"
	"github.com/omnimask/omnimask/models"
)

func setup(t *testing.T) {
	t.Helper()
	if _, err := ort.Setup(""); err != nil {
		t.Skipf("no ONNX Runtime: %v", err)
	}
}

// encoder loads the encoder ref (a built-in name or a file) on one thread,
// closed when the test ends; it skips without ONNX Runtime.
func encoder(t *testing.T, ref string) *Encoder {
	t.Helper()
	setup(t)
	e, err := Load(ref, ort.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// chipmean loads testdata's chipmean encoder (a chip's vector is the mean
// of its pixels per band).
func chipmean(t *testing.T) *Encoder { return encoder(t, "../testdata/models/chipmean.onnx") }

// utm33 is the WKT of UTM zone 33N (EPSG:32633), as gdalio normalises it.
func utm33(t *testing.T) string {
	t.Helper()
	crs, err := gdalio.NormalizeCRS("EPSG:32633")
	if err != nil {
		t.Fatal(err)
	}
	return crs
}

// chipmeanFixed is chipmean with a fixed normalisation (per-band mean and
// std) for the test's duration: the manifest is restored when it ends.
func chipmeanFixed(t *testing.T) *Encoder {
	e := chipmean(t)
	orig := *e.Manifest
	t.Cleanup(func() { *e.Manifest = orig })
	e.Manifest.Normalization = models.Normalization{Kind: models.Fixed, Mean: []float64{100, 200, 300}, Std: []float64{50, 60, 70}}
	return e
}

// TestBuiltinParity checks the built-in encoder's ONNX output under ONNX
// Runtime against PyTorch's (testdata/embed/mnv2_parity.json, written by
// models/train/export_embed.py).
func TestBuiltinParity(t *testing.T) {
	setup(t)
	raw, err := os.ReadFile("../testdata/embed/mnv2_parity.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		InputShape  []int64   `json:"input_shape"`
		Input       []float32 `json:"input"`
		OutputShape []int64   `json:"output_shape"`
		Output      []float64 `json:"output"`
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	e, err := Load("mobilenetv2-imagenet", ort.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	got, shape, err := e.Run(ref.Input, [4]int64(ref.InputShape))
	if err != nil {
		t.Fatal(err)
	}
	if shape != [4]int64(ref.OutputShape) {
		t.Fatalf("shape %v, PyTorch %v", shape, ref.OutputShape)
	}
	var worst float64
	for i, v := range ref.Output {
		worst = max(worst, math.Abs(float64(got[i])-v))
	}
	t.Logf("max |ONNX Runtime - PyTorch| = %.2e over %d values", worst, len(got))
	if worst > 1e-4 {
		t.Fatalf("max abs diff %.3g > 1e-4", worst)
	}
}

package embed

import (
	"encoding/json"
	"image"
	"math"
	"os"
	"testing"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/models"
	"github.com/omnimask/omnimask/raster"
)

// TestSoftConVectors matches numpy's softcon normalisation (with per-band
// scale/offset first, with and without the division by 255) bit for bit:
// testdata/embed/softcon_vectors.json, made by gen_softcon_vectors.py.
func TestSoftConVectors(t *testing.T) {
	raw, err := os.ReadFile("../testdata/embed/softcon_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Shape                    [3]int
		Mean, Std, Scale, Offset []float64
		Input                    []float32
		Cases                    []struct {
			Unit   bool
			Output []float32
		}
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	C, S := v.Shape[0], v.Shape[1]
	strip := raster.NewFloat32(C, image.Rect(0, 0, S, S))
	for c := range C {
		for y := range S {
			copy(strip.Row(c, y), v.Input[(c*S+y)*S:(c*S+y+1)*S])
		}
	}
	for _, tc := range v.Cases {
		m := &models.Manifest{Name: "softcon-test", Version: "1", Bands: []string{"blue", "green", "red"},
			Normalization: models.Normalization{Kind: models.SoftCon, Mean: v.Mean, Std: v.Std, Scale: v.Scale, Offset: v.Offset, Unit: tc.Unit},
			PatchSize:     64, SizeMultiple: 8, Task: models.TaskEmbedding, Output: models.Embedding, EmbeddingDim: 1, OutputStride: 8}
		if err := m.Validate(); err != nil {
			t.Fatal(err)
		}
		n, err := newNormalizer(m, make([]gdalio.Band, C), Options{})
		if err != nil {
			t.Fatal(err)
		}
		n.validity(strip)
		got := make([]float32, C*S*S)
		if !n.chip(got, strip, 0, 0, S, S, 0.5) {
			t.Fatal("chip reported nodata")
		}
		for i, w := range tc.Output {
			if math.Float32bits(got[i]) != math.Float32bits(w) {
				t.Fatalf("unit %v: value %d (input %g) = %g, numpy %g", tc.Unit, i, v.Input[i], got[i], w)
			}
		}
	}
}

func TestSoftConManifest(t *testing.T) {
	base := models.Manifest{Name: "x", Version: "1", Bands: []string{"red"}, PatchSize: 64,
		Normalization: models.Normalization{Kind: models.SoftCon, Mean: []float64{1}, Std: []float64{1}}}
	mask := base
	mask.Output, mask.Classes = models.Logits, []models.Class{{ID: 0}, {ID: 1}}
	if err := mask.Validate(); err == nil {
		t.Error("softcon accepted for a mask model")
	}
	enc := base
	enc.Task, enc.Output, enc.EmbeddingDim, enc.OutputStride = models.TaskEmbedding, models.Embedding, 4, 1
	if err := enc.Validate(); err != nil {
		t.Error(err)
	}
	enc.Normalization.Std = []float64{0}
	if err := enc.Validate(); err == nil {
		t.Error("std 0 accepted")
	}
	enc.Normalization.Std, enc.Normalization.Scale = []float64{1}, []float64{1, 2}
	if err := enc.Validate(); err == nil {
		t.Error("2 scales for 1 band accepted")
	}
}

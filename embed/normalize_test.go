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

// TestZScoreChip checks the dynamic z-score of chips, the only
// normalisation computed per chip: the population mean and std of each
// band over the chip's valid pixels, in float64 in two passes in row
// order, then applied as x/std - mean/std; nodata pixels get the fill.
func TestZScoreChip(t *testing.T) {
	const C, W, H, cs = 3, 40, 16, 16
	m := &models.Manifest{Name: "z", Version: "1", Bands: []string{"a", "b", "c"}, NoDataFill: -7,
		Normalization: models.Normalization{Kind: models.ZScore}}
	nodata := raster.NoDataValue(-9999)
	n, err := newNormalizer(m, []gdalio.Band{{NoData: nodata}, {NoData: nodata}, {NoData: nodata}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	strip := raster.NewFloat32(C, image.Rect(0, 32, W, 32+H))
	for c := range C {
		for y := 32; y < 32+H; y++ {
			for x := range W {
				v := float32(math.Sin(float64(c*1000+x*37+y*11))) * float32(c+1) * 1e3
				if (x+y)%7 == 0 || x == 20 && y == 40 {
					v = -9999
				}
				strip.Row(c, y)[x] = v
			}
		}
	}
	for c := range C { // a constant band where the chip is: std 0 becomes 1
		for y := 32; y < 32+H; y++ {
			if c == 2 {
				for x := 8; x < 8+cs; x++ {
					if strip.Row(c, y)[x] != -9999 {
						strip.Row(c, y)[x] = 5
					}
				}
			}
		}
	}
	n.validity(strip)
	got := make([]float32, C*cs*cs)
	if !n.chip(got, strip, 8, 32, cs, cs, 0.5) {
		t.Fatal("chip reported nodata")
	}
	for c := range C {
		ok := func(x, y int) bool { return (x+y)%7 != 0 && !(x == 20 && y == 40) }
		var s, k float64
		for y := 32; y < 32+cs; y++ {
			for x := 8; x < 8+cs; x++ {
				if ok(x, y) {
					s += float64(strip.Row(c, y)[x])
					k++
				}
			}
		}
		mean := s / k
		var ss float64
		for y := 32; y < 32+cs; y++ {
			for x := 8; x < 8+cs; x++ {
				if ok(x, y) {
					d := float64(strip.Row(c, y)[x]) - mean
					ss += d * d
				}
			}
		}
		std := math.Sqrt(ss / k)
		if std == 0 {
			std = 1
		}
		if c == 2 && std != 1 {
			t.Fatalf("band 2: std %g, want the constant band's 1", std)
		}
		for y := range cs {
			for x := range cs {
				want := m.NoDataFill
				if ok(8+x, 32+y) {
					want = float32(float64(strip.Row(c, 32+y)[8+x])*(1/std) + (0-mean)/std)
				}
				if g := got[(c*cs+y)*cs+x]; math.Float32bits(g) != math.Float32bits(want) {
					t.Fatalf("band %d pixel %d,%d = %g, want %g", c, x, y, g, want)
				}
			}
		}
	}
}

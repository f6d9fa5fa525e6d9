package engine

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/omnimask/omnimask/internal/synth"
	"github.com/omnimask/omnimask/models"
	"github.com/omnimask/omnimask/raster"
)

func synthScene(w, h int, seed uint64) *Scene {
	g := synth.New(synth.Options{Width: w, Height: h, Seed: seed})
	bands, _ := g.Scene(1, 0)
	return &Scene{Bands: bands, Names: []string{"red", "green", "nir"}, Geo: g.Geo()}
}

func TestLoadModels(t *testing.T) {
	requireORT(t)
	tests := []struct {
		name, model string
		wantErr     string
		sentinel    error
	}{
		{"embedded manifest", "pointwise.onnx", "", nil},
		{"sidecar manifest", "sidecar.onnx", "", nil},
		{"fixed shape", "fixed64.onnx", "", nil},
		{"probabilities output", "pointwise_prob.onnx", "", nil},
		{"corrupt onnx", "corrupt.onnx", "corrupt.onnx", nil},
		{"wrong input rank", "bad_rank.onnx", "rank 3", models.ErrManifest},
		{"wrong channel count", "bad_channels.onnx", "2 channels", models.ErrManifest},
		{"manifest disagrees with graph", "bad_manifest.onnx", "4 bands", models.ErrManifest},
		{"no manifest", "no_manifest.onnx", "no manifest", models.ErrManifest},
		{"missing file", "nope.onnx", "no such model file", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := New(Options{Models: []string{testModel(tt.model)}})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				e.Close()
				return
			}
			if err == nil {
				e.Close()
				t.Fatalf("no error, want one containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), tt.model) {
				t.Errorf("error %q should name the file and contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans several lines: %q", err)
			}
			if tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
				t.Errorf("error %v does not wrap %v", err, tt.sentinel)
			}
		})
	}
	t.Run("unknown builtin", func(t *testing.T) {
		_, err := New(Options{Models: []string{"nosuchmodel"}})
		if !errors.Is(err, models.ErrUnknown) {
			t.Fatalf("err = %v, want ErrUnknown", err)
		}
	})
	t.Run("builtin default", func(t *testing.T) {
		e := newEngine(t, Options{})
		if e.Manifest().Name == "" || len(e.Manifest().Bands) != 3 {
			t.Fatalf("default manifest %+v", e.Manifest())
		}
	})
	t.Run("close twice", func(t *testing.T) {
		e, err := New(Options{Models: []string{testModel("pointwise.onnx")}})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

// An ensemble averages its members' logits, so its probabilities are the
// normalised geometric mean of each member's probabilities.
func TestEnsembleMean(t *testing.T) {
	sc := synthScene(97, 83, 9)
	req := Request{NoResample: true, Confidence: ConfidenceFloat32}
	ctx := context.Background()
	var probs []*raster.Float32
	for _, set := range [][]string{{"pointwise.onnx"}, {"pointwise_b.onnx"}, {"pointwise.onnx", "pointwise_b.onnx"}} {
		var paths []string
		for _, s := range set {
			paths = append(paths, testModel(s))
		}
		e := fakeEngine(t, Options{Models: paths})
		res, err := e.Predict(ctx, sc, req)
		if err != nil {
			t.Fatal(err)
		}
		probs = append(probs, res.Probabilities)
	}
	a, b, ens := probs[0], probs[1], probs[2]
	for y := ens.Rect.Min.Y; y < ens.Rect.Max.Y; y++ {
		for x := ens.Rect.Min.X; x < ens.Rect.Max.X; x++ {
			g := make([]float64, ens.C)
			var sum float64
			for c := range g {
				g[c] = math.Sqrt(float64(a.At(c, x, y)) * float64(b.At(c, x, y)))
				sum += g[c]
			}
			for c := range g {
				if got, want := float64(ens.At(c, x, y)), g[c]/sum; math.Abs(got-want) > 1e-5 {
					t.Fatalf("ensemble p(class %d) at (%d,%d) = %v, want %v", c, x, y, got, want)
				}
			}
		}
	}
}

// A model that outputs probabilities gives the same result as the same
// network outputting logits.
func TestProbabilityOutput(t *testing.T) {
	sc := synthScene(70, 70, 2)
	req := Request{NoResample: true, Confidence: ConfidenceFloat32}
	ctx := context.Background()
	a, err := fakeEngine(t, Options{Models: []string{testModel("pointwise.onnx")}}).Predict(ctx, sc, req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := fakeEngine(t, Options{Models: []string{testModel("pointwise_prob.onnx")}}).Predict(ctx, sc, req)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.Probabilities.Pix {
		if d := math.Abs(float64(a.Probabilities.Pix[i] - b.Probabilities.Pix[i])); d > 1e-5 {
			t.Fatalf("probability %d differs by %g", i, d)
		}
	}
}

func TestFixedShapeModel(t *testing.T) {
	e := fakeEngine(t, Options{Models: []string{testModel("fixed64.onnx")}})
	sc := synthScene(150, 100, 4)
	res, err := e.Predict(context.Background(), sc, Request{NoResample: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Plan.Patch != 64 {
		t.Fatalf("patch %d, want the graph's fixed 64", res.Plan.Patch)
	}
	if _, err := e.Predict(context.Background(), sc, Request{NoResample: true, PatchSize: 32}); err == nil {
		t.Fatal("patch size 32 accepted by a fixed 64 model")
	}
	small := synthScene(40, 40, 4)
	if _, err := e.Predict(context.Background(), small, Request{NoResample: true}); err == nil {
		t.Fatal("40x40 scene accepted by a fixed 64 model")
	}
}

// With one patch covering the whole scene, the dynamic z-score model's
// output is argmax(W·z(x)+B), with z computed over the scene.
func TestZScoreSinglePatch(t *testing.T) {
	e := fakeEngine(t, Options{Models: []string{testModel("pointwise_zscore.onnx")}})
	sc := synthScene(64, 64, 12)
	res, err := e.Predict(context.Background(), sc, Request{NoResample: true, PatchSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	var mean, std [3]float64
	n := 64.0 * 64
	for c := 0; c < 3; c++ {
		for _, v := range sc.Bands.Pix[c*4096 : (c+1)*4096] {
			mean[c] += float64(v) / n
		}
		for _, v := range sc.Bands.Pix[c*4096 : (c+1)*4096] {
			std[c] += (float64(v) - mean[c]) * (float64(v) - mean[c]) / n
		}
		std[c] = math.Sqrt(std[c])
	}
	bad, ties := 0, 0
	for y := 0; y < 64; y++ {
		for x := 0; x < 64; x++ {
			var z [3]float32
			for c := 0; c < 3; c++ {
				z[c] = float32((float64(sc.Bands.At(c, x, y)) - mean[c]) / std[c])
			}
			want, tie := pointwiseClass(z)
			if tie {
				ties++
				continue
			}
			if got := res.Mask.GrayAt(x, y).Y; got != want {
				bad++
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%d pixels differ (%d ties skipped)", bad, ties)
	}
}

func TestPlanResolution(t *testing.T) {
	m := testManifest(t, "pointwise", nil) // range 10-60 m
	lim := limits{batch: 1, streams: 2, maxMemory: 8 << 30}
	tests := []struct {
		name     string
		res      float64 // synthetic scene resolution
		req      Request
		noGeo    bool
		wantProc float64
		wantSize image.Point
		wantErr  string
		wantNote string
	}{
		{"inside range", 20, Request{}, false, 20, image.Pt(120, 90), "", ""},
		{"finer than range", 5, Request{}, false, 10, image.Pt(60, 45), "", "finer"},
		{"coarser than range", 500, Request{}, false, 500, image.Pt(120, 90), "", "coarser"},
		{"forced processing", 10, Request{ProcessingResolution: 20}, false, 20, image.Pt(60, 45), "", ""},
		{"forced below the range warns", 10, Request{ProcessingResolution: 5}, false, 5, image.Pt(240, 180), "", "processing resolution 5 m is outside the model's supported 10-60 m; expect lower accuracy"},
		{"forced above the range warns", 40, Request{ProcessingResolution: 80}, false, 80, image.Pt(60, 45), "", "processing resolution 80 m is outside"},
		{"no resample", 5, Request{NoResample: true}, false, 0, image.Pt(120, 90), "", ""},
		{"no georef needs resolution", 10, Request{}, true, 0, image.Point{}, "not georeferenced", ""},
		{"no georef with resolution", 0, Request{Resolution: 30}, true, 30, image.Pt(120, 90), "", ""},
		{"too much upsampling", 10, Request{ProcessingResolution: 1}, false, 0, image.Point{}, "upsample", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := synth.New(synth.Options{Width: 120, Height: 90, ResolutionM: max(tt.res, 1)})
			info := sceneInfo{name: "scene", size: image.Pt(120, 90), geo: g.Geo(), names: []string{"red", "green", "nir"}}
			if tt.noGeo {
				info.geo = raster.Geo{Transform: raster.Identity}
			} else {
				info.res, info.resOK = [2]float64{max(tt.res, 1), max(tt.res, 1)}, true
			}
			p, err := plan(m, lim, info, tt.req)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.ProcRes != tt.wantProc || p.ProcSize != tt.wantSize {
				t.Errorf("processing %g m %v, want %g m %v", p.ProcRes, p.ProcSize, tt.wantProc, tt.wantSize)
			}
			if tt.wantNote != "" && !strings.Contains(strings.Join(p.Notes, ";"), tt.wantNote) {
				t.Errorf("notes %q lack %q", p.Notes, tt.wantNote)
			}
		})
	}
}

func TestNoDataScenes(t *testing.T) {
	e := fakeEngine(t, Options{Models: []string{testModel("pointwise.onnx")}})
	ctx := context.Background()
	t.Run("all nodata", func(t *testing.T) {
		sc := synthScene(80, 80, 1)
		for i := range sc.Bands.Pix {
			sc.Bands.Pix[i] = 0
		}
		sc.NoData = raster.NoDataValue(0)
		res, err := e.Predict(ctx, sc, Request{NoResample: true})
		if err != nil {
			t.Fatal(err)
		}
		if res.ClassCounts[255] != 6400 || res.Skipped != res.Plan.Patches {
			t.Fatalf("nodata %d, skipped %d of %d", res.ClassCounts[255], res.Skipped, res.Plan.Patches)
		}
		if len(res.Warnings) == 0 {
			t.Fatal("no warning for an all-nodata scene")
		}
	})
	t.Run("nan and inf pixels", func(t *testing.T) {
		sc := synthScene(80, 80, 1)
		sc.Bands.Set(0, 5, 5, float32(math.NaN()))
		sc.Bands.Set(1, 6, 6, float32(math.Inf(1)))
		sc.Bands.Set(2, 7, 7, float32(math.Inf(-1)))
		res, err := e.Predict(ctx, sc, Request{NoResample: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []image.Point{{5, 5}, {6, 6}, {7, 7}} {
			if v := res.Mask.GrayAt(p.X, p.Y).Y; v != 255 {
				t.Errorf("pixel %v = %d, want nodata", p, v)
			}
		}
		if res.ClassCounts[255] != 3 {
			t.Errorf("%d nodata pixels, want 3", res.ClassCounts[255])
		}
	})
	t.Run("too small", func(t *testing.T) {
		_, err := e.Predict(ctx, synthScene(31, 31, 1), Request{NoResample: true})
		if err == nil || !strings.Contains(err.Error(), "smaller") {
			t.Fatalf("err = %v", err)
		}
	})
}

// The mask does not depend on whether probabilities are requested: without
// them the upsampler interpolates logits only near class boundaries, with
// them everywhere, and both must give the argmax of the interpolated logits.
func TestMaskIndependentOfConfidence(t *testing.T) {
	e := newEngine(t, Options{})
	sc := synthScene(300, 260, 5)
	ctx := context.Background()
	for _, pr := range []float64{0, 15, 20, 30, 40} {
		t.Run(fmt.Sprintf("processing %gm", pr), func(t *testing.T) {
			plain, err := e.Predict(ctx, sc, Request{ProcessingResolution: pr})
			if err != nil {
				t.Fatal(err)
			}
			conf, err := e.Predict(ctx, sc, Request{ProcessingResolution: pr, Confidence: ConfidenceFloat32})
			if err != nil {
				t.Fatal(err)
			}
			diff := 0
			for i := range plain.Mask.Pix {
				if plain.Mask.Pix[i] != conf.Mask.Pix[i] {
					diff++
				}
			}
			if diff > 0 {
				t.Fatalf("%d of %d pixels differ", diff, len(plain.Mask.Pix))
			}
			classes := 0
			for _, n := range plain.ClassCounts {
				if n > 0 {
					classes++
				}
			}
			if classes < 2 {
				t.Fatalf("only %d class in the mask: no boundary tested", classes)
			}
			if plain.ClassCounts != conf.ClassCounts {
				t.Fatalf("class counts %v vs %v", plain.ClassCounts, conf.ClassCounts)
			}
		})
	}
}

// TestPlanRefusesHugeSizeBeforeAllocating: a header declaring billions of
// columns is refused by the memory estimate before the grid lists its
// patch origins (3.6 GB allocated for 2e9 columns before the fix).
func TestPlanRefusesHugeSizeBeforeAllocating(t *testing.T) {
	m := testManifest(t, "pointwise", nil)
	lim := limits{batch: 1, streams: 2, maxMemory: 8 << 30}
	info := sceneInfo{name: "wide.vrt", size: image.Pt(2_000_000_000, 64), geo: raster.Geo{Transform: raster.Identity},
		names: []string{"red", "green", "nir"}}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := plan(m, lim, info, Request{Resolution: 10, PatchSize: 32})
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "working memory") {
		t.Fatalf("err = %v, want the working-memory refusal", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Errorf("planning allocated %d bytes before refusing", got)
	}
}

package eval

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/omnimask/omnimask/engine"
	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/internal/synth"
	"github.com/omnimask/omnimask/raster"
)

// l8Codes writes truth classes as L8 Biome codes; 255 (nodata) becomes the
// unmapped code 0, so it must come back as ignored.
var l8Codes = map[uint8]uint8{synth.Clear: 128, synth.ThickCloud: 255, synth.ThinCloud: 192, synth.Shadow: 64, synth.NoData: 0}

// writeTruth writes a generator's truth as a mask of L8 Biome codes.
func writeTruth(t *testing.T, g *synth.Generator, path string, geo raster.Geo) {
	t.Helper()
	o := g.Opts
	w, err := gdalio.Create(path, image.Pt(o.Width, o.Height), geo, gdalio.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	buf := make([]uint8, o.Width*o.Height)
	for y := range o.Height {
		for x := range o.Width {
			buf[y*o.Width+x] = l8Codes[g.Truth(x, y)]
		}
	}
	if err := w.WriteUint8(0, image.Rect(0, 0, o.Width, o.Height), buf); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
}

const synthRun = `name: synthetic
data_root: ../data
label_map: {128: 0, 255: 1, 192: 2, 64: 3}
groups:
  clear: [0]
  cloud: [1, 2]
  shadow: [3]
scenes:
  - name: geo
    sensor: sensorA
    image: a.tif
    mask: a_truth.tif
  - name: nogeo
    sensor: sensorB
    image: b.tif
    mask: b_truth.tif
    resolution_m: 20
  - name: broken
    sensor: sensorA
    image: b.tif
    mask: a_truth.tif
    resolution_m: 20
`

// TestEvaluateSynthetic scores synthetic scenes with known truth end to end
// and checks every confusion matrix against an independent tally of the
// engine's own prediction, then parses the written reports back.
func TestEvaluateSynthetic(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	runs := filepath.Join(dir, "runs")
	for _, d := range []string{data, runs} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ga := synth.New(synth.Options{Width: 160, Height: 128, Seed: 7, NoDataCorners: true, Cloud: 0.5, CloudScale: 40})
	gb := synth.New(synth.Options{Width: 96, Height: 80, Seed: 8, ResolutionM: 20, Cloud: 0.4, CloudScale: 30})
	if err := ga.WriteGeoTIFF(filepath.Join(data, "a.tif"), synth.FileOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := gb.WriteGeoTIFF(filepath.Join(data, "b.tif"), synth.FileOptions{NoGeo: true}); err != nil {
		t.Fatal(err)
	}
	writeTruth(t, ga, filepath.Join(data, "a_truth.tif"), ga.Geo())
	writeTruth(t, gb, filepath.Join(data, "b_truth.tif"), raster.Geo{Transform: raster.Identity})
	runPath := filepath.Join(runs, "synthetic.yaml")
	if err := os.WriteFile(runPath, []byte(synthRun), 0o644); err != nil {
		t.Fatal(err)
	}
	run, err := LoadRunFile(runPath)
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(engine.Options{Models: []string{filepath.Join("..", "testdata", "models", "pointwise_zscore.onnx")}, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	steps := []Step{{Scale: 1}, {Scale: 2}}
	previews := filepath.Join(dir, "out", "previews")
	var progress bytes.Buffer
	rep, err := Evaluate(context.Background(), e, run, Options{Steps: steps, PreviewDir: previews, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(progress.String(), "\n"); got != 6 {
		t.Errorf("%d progress lines, want 6:\n%s", got, progress.String())
	}
	if rep.Failed() != 2 || len(rep.Scenes) != 6 {
		t.Fatalf("%d results, %d failed; want 6, 2", len(rep.Scenes), rep.Failed())
	}

	groupOf := [256]int{0, 1, 1, 2}
	for i := 4; i < 256; i++ {
		groupOf[i] = -1
	}
	gens := map[string]*synth.Generator{"geo": ga, "nogeo": gb}
	for _, s := range rep.Scenes {
		t.Run(s.Scene+"/"+steps[s.Step].String(), func(t *testing.T) {
			if s.Scene == "broken" {
				if !strings.Contains(s.Error, "reference mask is 160x128") {
					t.Errorf("error %q", s.Error)
				}
				return
			}
			if s.Error != "" {
				t.Fatal(s.Error)
			}
			g := gens[s.Scene]
			native := g.Opts.ResolutionM
			if s.NativeRes != native || s.ProcRes != native*steps[s.Step].Scale || s.Scale != steps[s.Step].Scale {
				t.Errorf("native %g, processing %g, scale %g", s.NativeRes, s.ProcRes, s.Scale)
			}
			paths := []string{filepath.Join(data, map[string]string{"geo": "a.tif", "nogeo": "b.tif"}[s.Scene])}
			res, err := e.PredictFile(context.Background(), paths, engine.Request{Resolution: map[string]float64{"nogeo": 20}[s.Scene], ProcessingResolution: s.ProcRes})
			if err != nil {
				t.Fatal(err)
			}
			want := NewConfusion(3)
			for y := range g.Opts.Height {
				for x := range g.Opts.Width {
					tr := g.Truth(x, y)
					if tr == synth.NoData {
						want.Ignored++
						continue
					}
					want.Add(groupOf[tr], groupOf[res.Mask.GrayAt(x, y).Y])
				}
			}
			if !equalJSON(t, want, s.Confusion) {
				t.Errorf("confusion %v (ignored %d), independent tally %v (ignored %d)", s.Confusion.Counts, s.Confusion.Ignored, want.Counts, want.Ignored)
			}
			if s.Scene == "geo" && s.Confusion.Ignored == 0 {
				t.Error("nodata corners were not ignored")
			}
		})
	}
	for i, a := range rep.Overall {
		sum := NewConfusion(3)
		for _, s := range rep.Scenes {
			if s.Step == i && s.Error == "" {
				sum.Merge(s.Confusion)
			}
		}
		if a.Scenes != 2 || a.Failed != 1 || !equalJSON(t, sum, a.Counts) {
			t.Errorf("overall %v: scenes %d failed %d counts %v, want 2, 1, %v", steps[i], a.Scenes, a.Failed, a.Counts.Counts, sum.Counts)
		}
	}
	if len(rep.Sensors) != 4 || rep.Sensors[0].Sensor != "sensorA" || rep.Sensors[2].Sensor != "sensorB" {
		t.Errorf("sensor aggregates %d, first %q", len(rep.Sensors), rep.Sensors[0].Sensor)
	}

	out := filepath.Join(dir, "out")
	if err := rep.Write(out); err != nil {
		t.Fatal(err)
	}
	if d := os.Getenv("OMNIMASK_EVAL_KEEP"); d != "" { // for looking at the outputs
		os.CopyFS(d, os.DirFS(out))
	}
	t.Run("json", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(out, JSONFile))
		if err != nil {
			t.Fatal(err)
		}
		var back Report
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if !equalJSON(t, rep, &back) {
			t.Error("metrics.json does not read back as the report")
		}
		if back.Overall[1].Metrics.Accuracy != rep.Overall[1].Metrics.Accuracy || back.Groups[1].Name != "cloud" {
			t.Error("values differ after reading metrics.json")
		}
	})
	t.Run("csv", func(t *testing.T) {
		f, err := os.Open(filepath.Join(out, CSVFile))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		recs, err := csv.NewReader(f).ReadAll() // also checks every row has as many fields
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 1+6+4+2 {
			t.Fatalf("%d rows, want 13", len(recs))
		}
		col := map[string]int{}
		for i, h := range recs[0] {
			col[h] = i
		}
		last := recs[len(recs)-1]
		if last[col["level"]] != "overall" || last[col["step"]] != "x2" {
			t.Fatalf("last row %v", last)
		}
		acc, err := strconv.ParseFloat(last[col["accuracy"]], 64)
		if err != nil || math.Abs(acc-float64(rep.Overall[1].Metrics.Accuracy)) > 1e-6 {
			t.Errorf("overall accuracy %q, report %v", last[col["accuracy"]], float64(rep.Overall[1].Metrics.Accuracy))
		}
		px, _ := strconv.ParseInt(last[col["pixels"]], 10, 64)
		if px != rep.Overall[1].Metrics.Pixels || px == 0 {
			t.Errorf("overall pixels %d, report %d", px, rep.Overall[1].Metrics.Pixels)
		}
		if _, ok := col["shadow_boa"]; !ok {
			t.Error("no shadow_boa column")
		}
		failed := 0
		for _, r := range recs[1:] {
			if r[col["error"]] != "" {
				failed++
				if r[col["accuracy"]] != "" {
					t.Errorf("failed row has an accuracy: %v", r)
				}
			}
		}
		if failed != 2 {
			t.Errorf("%d failed rows, want 2", failed)
		}
	})
	t.Run("markdown", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(out, MarkdownFile))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{"# Evaluation: synthetic", "## Per sensor", "| sensorB, x2 |", "## Scenes", "failed:", "bilinearly"} {
			if !bytes.Contains(b, []byte(s)) {
				t.Errorf("report.md lacks %q", s)
			}
		}
		var sum strings.Builder
		if err := rep.WriteMarkdown(&sum, false); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(sum.String(), "## Scenes") || !strings.Contains(sum.String(), "## Overall") {
			t.Error("summary has the wrong sections")
		}
	})
	t.Run("png", func(t *testing.T) {
		files := []string{filepath.Join(out, "boa-by-sensor-x1.png"), filepath.Join(out, "boa-by-sensor-x2.png"), filepath.Join(out, BOAVsResPlot)}
		pv, _ := filepath.Glob(filepath.Join(previews, "*.png"))
		if len(pv) != 4 {
			t.Errorf("%d previews, want 4: %v", len(pv), pv)
		}
		for _, p := range append(files, pv...) {
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(f)
			f.Close()
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			if strings.Contains(p, "sensorA_geo_x1") && img.Bounds().Dx() != 3*160+8 {
				t.Errorf("%s is %v wide", p, img.Bounds())
			}
		}
	})
}

// equalJSON compares two values through their JSON form (NaN = null).
func equalJSON(t *testing.T, a, b any) bool {
	t.Helper()
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	return bytes.Equal(ja, jb)
}

package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/omnimask/omnimask/internal/synth"
	"github.com/omnimask/omnimask/models"
	"github.com/omnimask/omnimask/raster"
)

// rangeComposite has a water role whose first candidate needs a band the
// test scenes lack (swir), then a model for 7.07-14.14 m (w10), then one
// for any resolution (wany); the check role has w10 alone.
const rangeComposite = `{"name": "ranged", "models": [{"role": "cloud", "models": ["a"]},
  {"role": "water", "models": ["wswir", "w10", "wany"]}, {"role": "check", "models": ["w10"]}],
 "classes": [{"id": 0, "name": "land", "color": [1, 2, 3]}, {"id": 1, "name": "water", "color": [0, 0, 255]}],
 "rules": [{"when": {"water": "cloud_shadow"}, "class": "water"}, {"class": "land"}]}`

// rangeEngine is a composite engine on fakes: a (pointwise, 10-60 m) plays
// cloud; wswir, w10 and wany are pointwise-b with the bands and ranges
// their names say.
func rangeEngine(t *testing.T) *Engine {
	t.Helper()
	comp, err := models.ParseComposite([]byte(rangeComposite))
	if err != nil {
		t.Fatal(err)
	}
	opts, _ := Options{}.withDefaults()
	byRef := map[string]*model{}
	var mods []*model
	for _, ref := range []string{"a", "wswir", "w10", "wany"} {
		file := "pointwise_b.onnx"
		if ref == "a" {
			file = "pointwise.onnx"
		}
		m, _ := fakeModel(t, testModel(file))
		m.name, m.manifest.Name = ref, ref
		switch ref {
		case "wswir":
			m.manifest.Bands = []string{"red", "green", "swir1"}
			m.manifest.MinResolution, m.manifest.MaxResolution = 0, 0
		case "w10":
			m.manifest.MinResolution, m.manifest.MaxResolution = 7.07, 14.14
		case "wany":
			m.manifest.MinResolution, m.manifest.MaxResolution = 0, 0
		}
		byRef[ref] = m
		mods = append(mods, m)
	}
	e, err := assemble(opts, mods)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	if e.variants, err = compositeVariants(comp, byRef); err != nil {
		t.Fatal(err)
	}
	e.composite = comp
	return e
}

// TestCompositePicksByResolution: a role runs its first model whose bands
// the scene has and whose supported range holds the pixel size the
// models see (the processing resolution, or the scene's own where that is
// coarser); where none fits, the first the bands allow, with a note.
func TestCompositePicksByResolution(t *testing.T) {
	e := rangeEngine(t)
	tests := []struct {
		name  string
		res   float64 // the scene's pixel size (0: not georeferenced)
		req   Request
		want  []string // models by role: cloud, water, check
		notes []string // substrings of the notes, in any order ("" none)
	}{
		{"10 m: w10", 10, Request{}, []string{"a", "w10", "w10"}, nil},
		{"14 m: w10", 14, Request{}, []string{"a", "w10", "w10"}, nil},
		{"finer scene processed at 10 m: w10", 5, Request{}, []string{"a", "w10", "w10"}, []string{"finer than the model's supported 10-60 m"}},
		{"20 m: wany", 20, Request{}, []string{"a", "wany", "w10"},
			[]string{"water: running wany: the models see 20 m pixels, outside the range of w10 (supports 7.07-14.14 m)",
				"check: no candidate supports the models' 20 m pixels; running w10 (supports 7.07-14.14 m), expect lower accuracy"}},
		{"30 m: wany", 30, Request{}, []string{"a", "wany", "w10"}, []string{"water: running wany", "check: no candidate"}},
		{"30 m upsampled to 10 m: still 30 m pixels", 30, Request{ProcessingResolution: 10}, []string{"a", "wany", "w10"},
			[]string{"water: running wany: the models see 30 m pixels (the scene's, upsampled to 10 m), outside the range of w10"}},
		{"10 m downsampled to 12 m: w10", 10, Request{ProcessingResolution: 12}, []string{"a", "w10", "w10"}, nil},
		{"10 m downsampled to 20 m: wany", 10, Request{ProcessingResolution: 20}, []string{"a", "wany", "w10"}, []string{"water: running wany: the models see 20 m pixels,"}},
		{"--resolution 10 on a 30 m georeference", 30, Request{Resolution: 10}, []string{"a", "w10", "w10"}, nil},
		{"no resampling, 10 m", 10, Request{NoResample: true}, []string{"a", "w10", "w10"}, nil},
		{"no resampling, 5 m: the scene's own", 5, Request{NoResample: true}, []string{"a", "wany", "w10"}, []string{"water: running wany: the models see 5 m pixels"}},
		{"500 m: cloud outside, noted once", 500, Request{}, []string{"a", "wany", "w10"}, []string{"coarser than the model's supported 10-60 m"}},
		{"100 m upsampled to 50 m: cloud outside", 100, Request{ProcessingResolution: 50}, []string{"a", "wany", "w10"},
			[]string{"cloud: no candidate supports the models' 100 m pixels (the scene's, upsampled to 50 m); running a (supports 10-60 m)"}},
		{"unknown pixel size: by bands", 0, Request{NoResample: true}, []string{"a", "w10", "w10"},
			[]string{"water: pixel size unknown, so w10 was chosen by its bands alone (it supports 7.07-14.14 m)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := synth.New(synth.Options{Width: 96, Height: 80, Seed: 3, ResolutionM: max(tt.res, 1)})
			bands, _ := g.Scene(1, 0)
			sc := &Scene{Bands: bands, Names: []string{"red", "green", "nir"}, Geo: g.Geo()}
			if tt.res == 0 {
				sc.Geo = raster.Geo{}
			}
			p, err := e.planScene(sc, tt.req)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range p.variant.roles {
				got = append(got, m.name)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("roles run %v, want %v", got, tt.want)
			}
			all := strings.Join(p.Notes, "\n")
			for _, n := range tt.notes {
				if !strings.Contains(all, n) {
					t.Errorf("notes %q lack %q", p.Notes, n)
				}
			}
			if tt.notes == nil && strings.Contains(all, "supports") {
				t.Errorf("unexpected resolution notes %q", p.Notes)
			}
			if strings.Count(all, "10-60 m") > 1 {
				t.Errorf("cloud's range noted twice: %q", p.Notes)
			}
		})
	}
	t.Run("the run uses the chosen models", func(t *testing.T) {
		g := synth.New(synth.Options{Width: 96, Height: 80, Seed: 3, ResolutionM: 30})
		bands, _ := g.Scene(1, 0)
		res, err := e.Predict(context.Background(), &Scene{Bands: bands, Names: []string{"red", "green", "nir"}, Geo: g.Geo()}, Request{})
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"a", "wany", "w10"}; !slices.Equal(res.Plan.Models, want) {
			t.Errorf("models %v, want %v", res.Plan.Models, want)
		}
		if !slices.ContainsFunc(res.Warnings, func(w string) bool { return strings.Contains(w, "running wany") }) {
			t.Errorf("warnings %q", res.Warnings)
		}
	})
}

// TestFitsBetter: variants compare role by role, the earliest role first.
func TestFitsBetter(t *testing.T) {
	tests := []struct {
		a, b []bool
		want bool
	}{
		{[]bool{false, false}, []bool{false, true}, true},
		{[]bool{false, true}, []bool{false, false}, false},
		{[]bool{false, true}, []bool{true, false}, true},
		{[]bool{true, false, true}, []bool{true, true, false}, true},
		{[]bool{false, false}, []bool{false, false}, false},
		{nil, nil, false},
	}
	for _, tt := range tests {
		if got := fitsBetter(tt.a, tt.b); got != tt.want {
			t.Errorf("fitsBetter(%v, %v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// TestProductModelRange: through real files, a product file's role picks
// its model by the range a sidecar manifest declares, and a sidecar whose
// range is bad is refused naming the sidecar.
func TestProductModelRange(t *testing.T) {
	requireORT(t)
	dir := t.TempDir()
	onnx, err := os.ReadFile(testModel("pointwise_b.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	sidecar := func(name string, extra map[string]any) string {
		path := filepath.Join(dir, name+".onnx")
		if err := os.WriteFile(path, onnx, 0o644); err != nil {
			t.Fatal(err)
		}
		m := map[string]any{"name": name, "version": "1", "bands": []string{"red", "green", "nir"}, "resolution_m": 10,
			"normalization": map[string]any{"kind": "none"}, "patch_size": 64, "overlap": 16, "output": "logits",
			"classes": []map[string]any{{"id": 0, "name": "clear", "color": []int{0, 0, 0}}, {"id": 1, "name": "thick_cloud", "color": []int{0, 0, 0}},
				{"id": 2, "name": "thin_cloud", "color": []int{0, 0, 0}}, {"id": 3, "name": "cloud_shadow", "color": []int{0, 0, 0}}}}
		for k, v := range extra {
			m[k] = v
		}
		js, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path+".json", js, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	w10 := sidecar("w10", map[string]any{"min_resolution_m": 7.07, "max_resolution_m": 14.14})
	wany := sidecar("wany", nil)
	cloud, err := filepath.Abs(testModel("pointwise.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	product := func(water ...string) string {
		js := strings.NewReplacer(`"CLOUD"`, fmt.Sprintf("%q", cloud), `"WATER"`, `"`+strings.Join(water, `", "`)+`"`).Replace(
			`{"name": "ranged", "models": [{"role": "cloud", "models": ["CLOUD"]}, {"role": "water", "models": ["WATER"]}],
 "classes": [{"id": 0, "name": "land", "color": [1, 2, 3]}, {"id": 1, "name": "water", "color": [0, 0, 255]}],
 "rules": [{"when": {"water": "cloud_shadow"}, "class": "water"}, {"class": "land"}]}`)
		path := filepath.Join(dir, "product.json")
		if err := os.WriteFile(path, []byte(js), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	ctx := context.Background()
	for _, tt := range []struct {
		res  float64
		want string
	}{{10, w10}, {30, wany}} {
		scene := writeSynth(t, filepath.Join(dir, fmt.Sprintf("scene%g.tif", tt.res)),
			synth.Options{Width: 90, Height: 80, Seed: 7, ResolutionM: tt.res, Bands: []string{"red", "green", "nir"}})
		e := newEngine(t, Options{Product: product(w10, wany), Threads: 1})
		res, err := e.PredictFile(ctx, []string{scene}, Request{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Plan.Models) != 2 || res.Plan.Models[1] != tt.want {
			t.Errorf("%g m: models %v, want water = %s", tt.res, res.Plan.Models, tt.want)
		}
		e.Close()
	}
	for _, bad := range []struct {
		extra map[string]any
		msg   string
	}{
		{map[string]any{"min_resolution_m": 14.14, "max_resolution_m": 7.07}, "min_resolution_m 14.14 > max_resolution_m 7.07"},
		{map[string]any{"max_resolution_m": 5}, "resolution_m 10 is outside the supported <= 5 m"},
		{map[string]any{"max_resolution_m": -1}, "resolutions must be finite and >= 0"},
		{map[string]any{"max_resolution_m": "14"}, "max_resolution_m"},
	} {
		path := sidecar("wbad", bad.extra)
		_, err := New(Options{Product: product(path, wany), Threads: 1})
		if err == nil || !strings.Contains(err.Error(), path+".json") || !strings.Contains(err.Error(), bad.msg) {
			t.Errorf("%v: err = %v, want %q naming %s.json", bad.extra, err, bad.msg, path)
		}
	}
}

package models

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/omnimask/omnimask/tta"
)

// validManifest is the example from MANIFEST.md.
const validManifest = `{
  "name": "omnicloud-rgn",
  "version": "1.0.0",
  "description": "free text",
  "bands": ["red", "green", "nir"],
  "resolution_m": 30,
  "min_resolution_m": 10,
  "max_resolution_m": 60,
  "normalization": {"kind": "zscore"},
  "nodata_fill": 0,
  "patch_size": 512,
  "overlap": 128,
  "size_multiple": 16,
  "output": "logits",
  "classes": [
    {"id": 0, "name": "clear",        "color": [ 60, 160,  60]},
    {"id": 1, "name": "thick_cloud",  "color": [255, 255, 255]},
    {"id": 2, "name": "thin_cloud",   "color": [170, 200, 255]},
    {"id": 3, "name": "cloud_shadow", "color": [ 90,  60,  30]}
  ]
}`

var wantValid = Manifest{
	Name:          "omnicloud-rgn",
	Version:       "1.0.0",
	Description:   "free text",
	Bands:         []string{"red", "green", "nir"},
	ResolutionM:   30,
	MinResolution: 10,
	MaxResolution: 60,
	Normalization: Normalization{Kind: ZScore},
	PatchSize:     512,
	Overlap:       128,
	SizeMultiple:  16,
	Output:        Logits,
	Classes: []Class{
		{0, "clear", [3]uint8{60, 160, 60}},
		{1, "thick_cloud", [3]uint8{255, 255, 255}},
		{2, "thin_cloud", [3]uint8{170, 200, 255}},
		{3, "cloud_shadow", [3]uint8{90, 60, 30}},
	},
}

// The example in MANIFEST.md is the one this test parses.
func TestManifestDocExample(t *testing.T) {
	doc, err := os.ReadFile("MANIFEST.md")
	if err != nil {
		t.Skip(err)
	}
	m := regexp.MustCompile("(?s)```json\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("MANIFEST.md has no json block")
	}
	got, err := ParseManifest(m[1])
	if err != nil {
		t.Fatalf("MANIFEST.md example: %v", err)
	}
	if !reflect.DeepEqual(*got, wantValid) {
		t.Errorf("MANIFEST.md example parses to %+v, which differs from the test's copy", *got)
	}
}

func TestParseManifestValid(t *testing.T) {
	m, err := ParseManifest([]byte(validManifest))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*m, wantValid) {
		t.Fatalf("ParseManifest = %+v, want %+v", *m, wantValid)
	}
	if m.Multiple() != 16 {
		t.Errorf("Multiple() = %d, want 16", m.Multiple())
	}
	// Round trip: marshal and parse again.
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := ParseManifest(b)
	if err != nil {
		t.Fatalf("re-parsing %s: %v", b, err)
	}
	if !reflect.DeepEqual(m, m2) {
		t.Errorf("round trip changed the manifest:\n%+v\n%+v", m, m2)
	}
}

// edit returns the valid manifest with f applied to its decoded JSON object.
func edit(t *testing.T, f func(map[string]any)) []byte {
	t.Helper()
	var obj map[string]any
	if err := json.Unmarshal([]byte(validManifest), &obj); err != nil {
		t.Fatal(err)
	}
	f(obj)
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func set(k string, v any) func(map[string]any) {
	return func(o map[string]any) { o[k] = v }
}

func TestParseManifestAccepts(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(map[string]any)
		check func(*Manifest) bool
	}{
		{"optional fields omitted", func(o map[string]any) {
			for _, k := range []string{"description", "resolution_m", "min_resolution_m", "max_resolution_m", "size_multiple", "nodata_fill"} {
				delete(o, k)
			}
		}, func(m *Manifest) bool { return m.Multiple() == 1 && m.MaxResolution == 0 && m.NoDataFill == 0 }},
		{"fixed normalisation", set("normalization", map[string]any{"kind": "fixed", "mean": []float64{1, 2, 3}, "std": []float64{0.5, 1, 2}}),
			func(m *Manifest) bool { return m.Normalization.Kind == Fixed && m.Normalization.Std[2] == 2 }},
		{"no normalisation", set("normalization", map[string]any{"kind": "none"}), nil},
		{"probabilities", set("output", "probabilities"), nil},
		{"sigmoid", func(o map[string]any) {
			o["output"] = "sigmoid"
			o["classes"] = []any{map[string]any{"id": 1, "name": "cloud", "color": []int{0, 0, 0}}, map[string]any{"id": 0, "name": "z", "color": []int{0, 0, 0}}}
		},
			func(m *Manifest) bool { return m.SigmoidThreshold() == 0.5 && m.OutputChannels() == 1 }},
		{"sigmoid threshold", func(o map[string]any) {
			o["output"] = "sigmoid"
			o["threshold"] = 0.3
			o["classes"] = []any{map[string]any{"id": 1, "name": "cloud", "color": []int{0, 0, 0}}, map[string]any{"id": 0, "name": "z", "color": []int{0, 0, 0}}}
		},
			func(m *Manifest) bool { return m.SigmoidThreshold() == 0.3 }},
		{"reflectance input", set("input_units", "reflectance"), func(m *Manifest) bool { return m.WantsReflectance() }},
		{"any input", set("input_units", "any"), func(m *Manifest) bool { return !m.WantsReflectance() }},
		{"class index", set("output", "class_index"), func(m *Manifest) bool { return m.OutputChannels() == 1 }},
		{"class id 254", set("classes", []any{map[string]any{"id": 254, "name": "x", "color": []int{0, 0, 0}}, map[string]any{"id": 0, "name": "z", "color": []int{0, 0, 0}}}), nil},
		{"min = max", func(o map[string]any) { o["resolution_m"], o["min_resolution_m"], o["max_resolution_m"] = 20, 20, 20 }, nil},
		{"range around the nominal", func(o map[string]any) {
			o["resolution_m"], o["min_resolution_m"], o["max_resolution_m"] = 10, 7.07, 14.14
		},
			func(m *Manifest) bool {
				return m.Supports(10) && !m.Supports(30) && m.ResolutionRange() == "7.07-14.14 m"
			}},
		{"no nominal resolution", func(o map[string]any) { delete(o, "resolution_m") }, func(m *Manifest) bool { return m.Supports(10) }},
		{"min without max", func(o map[string]any) { o["min_resolution_m"] = 20; delete(o, "max_resolution_m") }, nil},
		{"zero overlap", set("overlap", 0), nil},
		{"overlap patch-1", set("overlap", 511), nil},
		{"size_multiple = patch", set("size_multiple", 512), nil},
		{"negative nodata_fill", set("nodata_fill", -1.5), func(m *Manifest) bool { return m.NoDataFill == -1.5 }},
		{"unicode band names", set("bands", []string{"rouge", "vert", "pir"}), nil},
		{"tta d4", set("tta", "d4"), func(m *Manifest) bool { return m.DefaultTTA() == tta.D4 }},
		{"tta flips", set("tta", "flips"), func(m *Manifest) bool { return m.DefaultTTA() == tta.Flips }},
		{"tta none", set("tta", "none"), func(m *Manifest) bool { return m.DefaultTTA() == tta.None }},
		{"tta omitted", func(map[string]any) {}, func(m *Manifest) bool { return m.DefaultTTA() == tta.None }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseManifest(edit(t, tt.edit))
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil && !tt.check(m) {
				t.Errorf("parsed %+v", *m)
			}
		})
	}
}

func TestParseManifestInvalid(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		msg  string
	}{
		{"not JSON", []byte("name: x"), "invalid character"},
		{"empty", []byte(""), "EOF"},
		{"array", []byte("[]"), "cannot unmarshal array"},
		{"null", []byte("null"), "name is empty"},
		{"unknown field", edit(t, set("patchsize", 512)), `unknown field "patchsize"`},
		{"unknown nested field", edit(t, set("normalization", map[string]any{"kind": "zscore", "eps": 1e-6})), `unknown field "eps"`},
		{"wrong type", edit(t, set("patch_size", "512")), "cannot unmarshal string"},
		{"trailing object", []byte(validManifest + `{}`), "trailing data"},
		{"trailing garbage", []byte(validManifest + " x"), "trailing data"},
		{"empty name", edit(t, set("name", "")), "name is empty"},
		{"no bands", edit(t, set("bands", []string{})), "no input bands"},
		{"null bands", edit(t, set("bands", nil)), "no input bands"},
		{"empty band name", edit(t, set("bands", []string{"red", "", "nir"})), "unique and non-empty"},
		{"duplicate band", edit(t, set("bands", []string{"red", "green", "red"})), "unique and non-empty"},
		{"duplicate band, case-insensitive", edit(t, set("bands", []string{"red", "green", "RED"})), "unique and non-empty"},
		{"negative resolution", edit(t, set("resolution_m", -10)), "resolutions must be finite and >= 0"},
		{"negative min resolution", edit(t, set("min_resolution_m", -1)), "resolutions must be finite"},
		{"negative max resolution", edit(t, set("max_resolution_m", -1)), "resolutions must be finite"},
		{"min > max", func() []byte {
			return edit(t, func(o map[string]any) { o["min_resolution_m"] = 60; o["max_resolution_m"] = 10 })
		}(), "min_resolution_m 60 > max_resolution_m 10"},
		{"nominal above the range", edit(t, set("max_resolution_m", 20)), "resolution_m 30 is outside the supported 10-20 m"},
		{"nominal below the range", edit(t, set("min_resolution_m", 40)), "resolution_m 30 is outside the supported 40-60 m"},
		{"nominal above an open range", edit(t, func(o map[string]any) { delete(o, "min_resolution_m"); o["max_resolution_m"] = 14.14 }), "outside the supported <= 14.14 m"},
		{"NaN-like max resolution", []byte(strings.Replace(validManifest, `"max_resolution_m": 60`, `"max_resolution_m": 1e400`, 1)), "max_resolution_m"},
		{"bad normalisation kind", edit(t, set("normalization", map[string]any{"kind": "minmax"})), `normalization kind "minmax"`},
		{"missing normalisation", edit(t, func(o map[string]any) { delete(o, "normalization") }), `normalization kind ""`},
		{"normalisation kind case", edit(t, set("normalization", map[string]any{"kind": "ZScore"})), `normalization kind "ZScore"`},
		{"fixed without mean and std", edit(t, set("normalization", map[string]any{"kind": "fixed"})), "fixed normalisation needs 3 means and stds"},
		{"fixed without std", edit(t, set("normalization", map[string]any{"kind": "fixed", "mean": []float64{1, 2, 3}})), "needs 3 means and stds"},
		{"fixed with too few", edit(t, set("normalization", map[string]any{"kind": "fixed", "mean": []float64{1, 2}, "std": []float64{1, 2}})), "needs 3 means and stds"},
		{"fixed std 0", edit(t, set("normalization", map[string]any{"kind": "fixed", "mean": []float64{1, 2, 3}, "std": []float64{1, 0, 1}})), "std 0 must be > 0"},
		{"fixed std negative", edit(t, set("normalization", map[string]any{"kind": "fixed", "mean": []float64{1, 2, 3}, "std": []float64{1, 1, -2}})), "std -2 must be > 0"},
		{"nodata_fill overflows float32", []byte(strings.Replace(validManifest, `"nodata_fill": 0`, `"nodata_fill": 1e39`, 1)), "nodata_fill"},
		{"patch 0", edit(t, set("patch_size", 0)), "patch_size 0 outside 1..16384"},
		{"patch missing", edit(t, func(o map[string]any) { delete(o, "patch_size") }), "patch_size 0 outside"},
		{"patch negative", edit(t, set("patch_size", -512)), "patch_size -512"},
		{"patch too large", edit(t, set("patch_size", 16385)), "patch_size 16385 outside"},
		{"overlap = patch", edit(t, set("overlap", 512)), "overlap 512 must be in 0..patch_size-1"},
		{"overlap > patch", edit(t, set("overlap", 600)), "overlap 600"},
		{"negative overlap", edit(t, set("overlap", -1)), "overlap -1"},
		{"size_multiple > patch", edit(t, set("size_multiple", 1024)), "size_multiple 1024 outside 0..patch_size"},
		{"negative size_multiple", edit(t, set("size_multiple", -16)), "size_multiple -16"},
		{"bad output", edit(t, set("output", "softmax")), `output "softmax" (want logits, probabilities, sigmoid or class_index)`},
		{"one class logits", edit(t, set("classes", []any{map[string]any{"id": 7, "name": "cloud", "color": []int{1, 2, 3}}})), `output logits with 1 class would label every pixel with it (a one-channel sigmoid output is "output": "sigmoid" with 2 classes`},
		{"sigmoid 4 classes", edit(t, set("output", "sigmoid")), "output sigmoid needs 2 classes (negative, then positive), got 4"},
		{"unknown units", edit(t, set("input_units", "dn")), `input_units "dn" (want any or reflectance)`},
		{"threshold without sigmoid", edit(t, set("threshold", 0.4)), "threshold is for output sigmoid only"},
		{"unknown tta", edit(t, set("tta", "rot90")), `tta "rot90" (want none, flips or d4)`},
		{"sigmoid threshold 1", edit(t, func(o map[string]any) {
			o["output"] = "sigmoid"
			o["threshold"] = 1
			o["classes"] = []any{map[string]any{"id": 1, "name": "c", "color": []int{0, 0, 0}}, map[string]any{"id": 0, "name": "z", "color": []int{0, 0, 0}}}
		}), "threshold 1 outside 0 < t < 1"},
		{"missing output", edit(t, func(o map[string]any) { delete(o, "output") }), `output ""`},
		{"no classes", edit(t, set("classes", []any{})), "0 classes (want 1..254)"},
		{"too many classes", edit(t, func(o map[string]any) {
			cs := make([]any, 255)
			for i := range cs {
				cs[i] = map[string]any{"id": i, "name": "c", "color": []int{0, 0, 0}}
			}
			o["classes"] = cs
		}), "255 classes"},
		{"duplicate class id", edit(t, set("classes", []any{
			map[string]any{"id": 1, "name": "a", "color": []int{0, 0, 0}},
			map[string]any{"id": 1, "name": "b", "color": []int{0, 0, 0}},
		})), "class ids must be unique and in 0..254, got 1"},
		{"class id 255", edit(t, set("classes", []any{map[string]any{"id": 255, "name": "a", "color": []int{0, 0, 0}}})), "got 255"},
		{"negative class id", edit(t, set("classes", []any{map[string]any{"id": -1, "name": "a", "color": []int{0, 0, 0}}})), "got -1"},
		{"colour out of range", edit(t, set("classes", []any{map[string]any{"id": 0, "name": "a", "color": []int{256, 0, 0}}})), "cannot unmarshal number 256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseManifest(tt.data)
			if err == nil {
				t.Fatalf("ParseManifest accepted %s as %+v", tt.data, *m)
			}
			if m != nil {
				t.Errorf("ParseManifest returned a manifest with its error")
			}
			if !errors.Is(err, ErrManifest) {
				t.Errorf("error %q does not wrap ErrManifest", err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not contain %q", err, tt.msg)
			}
		})
	}
}

// Closing brackets after the object are trailing data too.
func TestParseManifestTrailingBracket(t *testing.T) {
	for _, tail := range []string{"}", "]", " }\n", "]]"} {
		m, err := ParseManifest([]byte(validManifest + tail))
		if err == nil || !errors.Is(err, ErrManifest) {
			t.Errorf("ParseManifest(valid + %q) = %v, %v; want a trailing-data error", tail, m != nil, err)
		}
	}
	// Whitespace after the object is fine.
	if _, err := ParseManifest([]byte(validManifest + "\n\t ")); err != nil {
		t.Errorf("trailing whitespace: %v", err)
	}
}

// Validate applies to manifests built in code, too (e.g. sidecar defaults).
func TestValidateInCode(t *testing.T) {
	m := wantValid
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		f    func(*Manifest)
	}{
		{"NaN resolution", func(m *Manifest) { m.ResolutionM = math.NaN() }},
		{"Inf max resolution", func(m *Manifest) { m.MaxResolution = math.Inf(1) }},
		{"NaN nodata_fill", func(m *Manifest) { m.NoDataFill = float32(math.NaN()) }},
		{"Inf nodata_fill", func(m *Manifest) { m.NoDataFill = float32(math.Inf(-1)) }},
		{"NaN std", func(m *Manifest) {
			m.Normalization = Normalization{Kind: Fixed, Mean: []float64{0, 0, 0}, Std: []float64{1, math.NaN(), 1}}
		}},
		{"Inf std", func(m *Manifest) {
			m.Normalization = Normalization{Kind: Fixed, Mean: []float64{0, 0, 0}, Std: []float64{1, math.Inf(1), 1}}
		}},
	}
	for _, tt := range tests {
		m := wantValid
		tt.f(&m)
		if err := m.Validate(); !errors.Is(err, ErrManifest) {
			t.Errorf("%s: Validate() = %v, want ErrManifest", tt.name, err)
		}
	}
}

func TestCheckGraph(t *testing.T) {
	m := wantValid // 3 bands, 4 classes, patch 512
	tests := []struct {
		name    string
		in, out []Dim
		msg     string // "" means accepted
	}{
		{"fixed", []Dim{1, 3, 512, 512}, []Dim{1, 4, 512, 512}, ""},
		{"dynamic N, H, W", []Dim{-1, 3, -1, -1}, []Dim{-1, 4, -1, -1}, ""},
		{"all dynamic", []Dim{-1, -1, -1, -1}, []Dim{-1, -1, -1, -1}, ""},
		{"fixed batch", []Dim{8, 3, -1, -1}, []Dim{8, 4, -1, -1}, ""},
		{"input rank 3", []Dim{3, 512, 512}, []Dim{1, 4, 512, 512}, "graph input has rank 3, want 4"},
		{"input rank 5", []Dim{1, 1, 3, 512, 512}, []Dim{1, 4, 512, 512}, "graph input has rank 5"},
		{"output rank 3", []Dim{1, 3, 512, 512}, []Dim{4, 512, 512}, "graph output has rank 3, want 4"},
		{"no shapes", nil, nil, "graph input has rank 0"},
		{"channel mismatch", []Dim{1, 4, 512, 512}, []Dim{1, 4, 512, 512}, "graph takes 4 channels, manifest lists 3 bands"},
		{"class mismatch", []Dim{1, 3, 512, 512}, []Dim{1, 2, 512, 512}, "graph outputs 2 channels, manifest (output logits, 4 classes) needs 4 (one per class)"},
		{"one channel for logits", []Dim{1, 3, 512, 512}, []Dim{1, 1, 512, 512}, `graph outputs 1 channels, manifest (output logits, 4 classes) needs 4 (one per class); a one-channel probability is "output": "sigmoid" with 2 classes`},
		{"fixed height differs", []Dim{1, 3, 256, 512}, []Dim{1, 4, 256, 512}, "graph input height is fixed at 256, manifest patch_size is 512"},
		{"fixed width differs", []Dim{1, 3, -1, 1000}, []Dim{1, 4, -1, -1}, "graph input width is fixed at 1000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := m.CheckGraph(tt.in, tt.out)
			if tt.msg == "" {
				if err != nil {
					t.Fatalf("CheckGraph(%v, %v) = %v", tt.in, tt.out, err)
				}
				return
			}
			if !errors.Is(err, ErrManifest) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("CheckGraph(%v, %v) = %v, want ErrManifest containing %q", tt.in, tt.out, err, tt.msg)
			}
		})
	}
}

func TestProcessingResolution(t *testing.T) {
	bounded := &Manifest{MinResolution: 10, MaxResolution: 50}
	tests := []struct {
		name    string
		m       *Manifest
		res     float64
		want    float64
		outside bool
	}{
		{"finer than min: downsample to min", bounded, 3, 10, false},
		{"at min", bounded, 10, 10, false},
		{"inside", bounded, 30, 30, false},
		{"at max", bounded, 50, 50, false},
		{"coarser than max: native, outside", bounded, 60, 60, true},
		{"min only, finer", &Manifest{MinResolution: 10}, 0.5, 10, false},
		{"min only, coarse", &Manifest{MinResolution: 10}, 1000, 1000, false},
		{"max only, coarse", &Manifest{MaxResolution: 50}, 100, 100, true},
		{"max only, fine", &Manifest{MaxResolution: 50}, 0.3, 0.3, false},
		{"unbounded", &Manifest{}, 0.3, 0.3, false},
		{"unbounded coarse", &Manifest{}, 1000, 1000, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, outside := tt.m.ProcessingResolution(tt.res)
			if got != tt.want || outside != tt.outside {
				t.Errorf("ProcessingResolution(%v) = (%v, %v), want (%v, %v)", tt.res, got, outside, tt.want, tt.outside)
			}
		})
	}
}

func TestMultiple(t *testing.T) {
	for in, want := range map[int]int{0: 1, 1: 1, 16: 16, 32: 32} {
		if got := (&Manifest{SizeMultiple: in}).Multiple(); got != want {
			t.Errorf("Multiple() with size_multiple %d = %d, want %d", in, got, want)
		}
	}
}

func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(validManifest))
	f.Add([]byte(`{"name":"x","bands":["a"],"normalization":{"kind":"none"},"patch_size":32,"overlap":0,"output":"logits","classes":[{"id":0,"name":"c","color":[0,0,0]}]}`))
	f.Add([]byte(`{"name":"x","bands":["a","A"],"normalization":{"kind":"zscore"},"patch_size":32,"overlap":0,"output":"logits","classes":[{"id":0}]}`))
	f.Add([]byte(`{"name":"x","bands":["a"],"normalization":{"kind":"fixed","mean":[0],"std":[0]},"patch_size":32,"overlap":0,"output":"logits","classes":[{"id":0}]}`))
	f.Add([]byte(`{"name":"x","bands":["a"],"normalization":{"kind":"zscore","mean":[],"std":[]},"patch_size":32,"overlap":0,"output":"logits","classes":[{"id":0}]}`))
	f.Add([]byte(`{"NAME":"x","Bands":["a"],"normalization":{"kind":"none"},"name":"y","patch_size":32,"overlap":0,"output":"logits","classes":[{"id":0}]}`))
	f.Add([]byte(validManifest + "}"))
	f.Add([]byte(validManifest + "{}"))
	f.Add([]byte(`{"name":"x","extra":1}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"nodata_fill":1e39}`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			if m != nil {
				t.Fatal("manifest returned with an error")
			}
			if !errors.Is(err, ErrManifest) {
				t.Fatalf("error %q does not wrap ErrManifest", err)
			}
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("accepted manifest fails Validate: %v", err)
		}
		// What was accepted survives a round trip unchanged.
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("marshal accepted manifest: %v", err)
		}
		m2, err := ParseManifest(b)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", b, err)
		}
		// Compare encodings: an empty list and an absent one (omitempty)
		// are the same manifest.
		if b2, _ := json.Marshal(m2); string(b2) != string(b) {
			t.Fatalf("round trip changed %s to %s", b, b2)
		}
		// Accepted manifests keep the engine's invariants.
		if m.Overlap >= m.PatchSize || len(m.Classes) == 0 || len(m.Bands) == 0 {
			t.Fatalf("accepted %+v", m)
		}
		_ = m.CheckGraph([]Dim{-1, int64(len(m.Bands)), -1, -1}, []Dim{-1, int64(len(m.Classes)), -1, -1})
	})
}

// Band names are matched with strings.EqualFold (preprocess.ParseBands and
// ResolveBands), so Validate must reject names that fold to the same band:
// "s" and "ſ" (U+017F, long s) are EqualFold but differ under ToLower.
func TestValidateBandsFoldEqual(t *testing.T) {
	for _, bands := range [][]string{{"s", "ſ"}, {"K", "\u212a"}, {"Σ", "ς"}} {
		m := wantValid
		m.Bands = bands
		if err := m.Validate(); !errors.Is(err, ErrManifest) {
			t.Errorf("Validate accepted bands %q, which match the same band case-insensitively", bands)
		}
	}
}

func TestCheckGraphOutputKinds(t *testing.T) {
	idx, sig := wantValid, wantValid
	idx.Output = ClassIndex
	sig.Output, sig.Classes = Sigmoid, wantValid.Classes[:2]
	in := []Dim{-1, 3, -1, -1}
	tests := []struct {
		name string
		m    Manifest
		out  []Dim
		msg  string
	}{
		{"class index N x 1 x H x W", idx, []Dim{-1, 1, -1, -1}, ""},
		{"class index N x H x W", idx, []Dim{-1, -1, -1}, ""},
		{"class index with K channels", idx, []Dim{-1, 4, -1, -1}, `needs 1 (output class_index); K channels of class scores are "output": "logits" or "probabilities"`},
		{"sigmoid one channel", sig, []Dim{-1, 1, -1, -1}, ""},
		{"sigmoid two channels", sig, []Dim{-1, 2, -1, -1}, "graph outputs 2 channels, manifest (output sigmoid, 2 classes) needs 1 (output sigmoid)"},
		{"logits rank 3", wantValid, []Dim{-1, -1, -1}, "graph output has rank 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.m.CheckGraph(in, tt.out)
			if tt.msg == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrManifest) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("CheckGraph(%v) = %v, want %q", tt.out, err, tt.msg)
			}
		})
	}
}

// TestManifestSupports: the supported range is closed at both bounds, and
// a bound of 0 is open.
func TestManifestSupports(t *testing.T) {
	tests := []struct {
		min, max float64
		res      float64
		want     bool
		text     string
	}{
		{0, 0, 500, true, "any"},
		{10, 60, 10, true, "10-60 m"},
		{10, 60, 60, true, "10-60 m"},
		{10, 60, 9.99, false, "10-60 m"},
		{10, 60, 60.01, false, "10-60 m"},
		{7.07, 14.14, 10, true, "7.07-14.14 m"},
		{7.07, 14.14, 30, false, "7.07-14.14 m"},
		{7.07, 14.14, 5, false, "7.07-14.14 m"},
		{10, 0, 1000, true, ">= 10 m"},
		{10, 0, 5, false, ">= 10 m"},
		{0, 20, 0.5, true, "<= 20 m"},
		{0, 20, 30, false, "<= 20 m"},
	}
	for _, tt := range tests {
		m := &Manifest{MinResolution: tt.min, MaxResolution: tt.max}
		if got := m.Supports(tt.res); got != tt.want {
			t.Errorf("range %g-%g: Supports(%g) = %v, want %v", tt.min, tt.max, tt.res, got, tt.want)
		}
		if got := m.ResolutionRange(); got != tt.text {
			t.Errorf("range %g-%g: ResolutionRange() = %q, want %q", tt.min, tt.max, got, tt.text)
		}
		if m.Ranged() != (tt.min > 0 || tt.max > 0) {
			t.Errorf("range %g-%g: Ranged() = %v", tt.min, tt.max, m.Ranged())
		}
	}
}

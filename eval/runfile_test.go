package eval

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const runJSON = `{
  "name": "demo",
  "data_root": "../data",
  "sensor": "landsat8",
  "bands": "red=3,green=2,nir=4",
  "resolution_m": 30,
  "label_map": {"128": 0, "255": 1, "192": 2, "64": 3, "0": null},
  "groups": {"clear": [0], "cloud": [1, 2], "shadow": [3]},
  "scenes": [
    {"image": "l8/a_image.tif", "mask": "l8/a_mask.tif"},
    {"name": "chip4", "sensor": "sentinel2", "image": ["c/B04.tif", "c/B03.tif", "c/B08.tif"],
     "mask": "c/label.tif", "bands": "1,2,3", "resolution_m": 10,
     "label_map": {"0": 0, "1": "cloud", "255": null}}
  ]
}`

const runYAML = `name: demo
data_root: ../data
sensor: landsat8
bands: red=3,green=2,nir=4
resolution_m: 30
label_map: {128: 0, 255: 1, 192: 2, 64: 3, 0: null}
groups:
  clear: [0]
  cloud: [1, 2]
  shadow: [3]
scenes:
  - image: l8/a_image.tif
    mask: l8/a_mask.tif
  - name: chip4
    sensor: sentinel2
    image: [c/B04.tif, c/B03.tif, c/B08.tif]
    mask: c/label.tif
    bands: "1,2,3"
    resolution_m: 10
    label_map:
      0: 0
      1: cloud
      255: ~
`

func TestParseRunFileJSONAndYAML(t *testing.T) {
	j, err := ParseRunFile("demo.json", []byte(runJSON))
	if err != nil {
		t.Fatal(err)
	}
	y, err := ParseRunFile("demo.yaml", []byte(runYAML))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(j, y) {
		t.Errorf("JSON and YAML differ:\n%+v\n%+v", j, y)
	}
	if names := []string{j.Groups[0].Name, j.Groups[1].Name, j.Groups[2].Name}; !reflect.DeepEqual(names, []string{"clear", "cloud", "shadow"}) {
		t.Errorf("group order %v", names)
	}
	a, c := j.Scenes[0], j.Scenes[1]
	if a.Name != "a" || a.Sensor != "landsat8" || a.Bands != "red=3,green=2,nir=4" || a.Resolution != 30 || a.LabelMap[192] != (Label{Class: 2}) {
		t.Errorf("defaults not applied to scene a: %+v", a)
	}
	if a.LabelMap[0] != (Label{Ignore: true}) {
		t.Errorf("null code: %+v", a.LabelMap[0])
	}
	if c.Sensor != "sentinel2" || len(c.Image) != 3 || c.Resolution != 10 || c.LabelMap[1] != (Label{Group: "cloud"}) || len(c.LabelMap) != 3 {
		t.Errorf("scene overrides lost: %+v", c)
	}
}

func TestParseRunFileErrors(t *testing.T) {
	base := `"groups": {"clear": [0], "cloud": [1]}, "label_map": {"0": 0, "1": 1}`
	scene := `"scenes": [{"image": "a.tif", "mask": "m.tif"}]`
	tests := []struct {
		name, file, data, want string
	}{
		{"unknown field", "r.json", `{` + base + `, ` + scene + `, "scales": 2}`, "unknown field"},
		{"unknown YAML field", "r.yaml", "groups: {a: [0], b: [1]}\nlabel_map: {0: 0}\nscenes: [{image: a, mask: b}]\nscal: 2\n", "not found"},
		{"one group", "r.json", `{"groups": {"all": [0, 1]}, "label_map": {"0": 0}, ` + scene + `}`, "two scoring groups"},
		{"class in two groups", "r.json", `{"groups": {"a": [0], "b": [0, 1]}, "label_map": {"0": 0}, ` + scene + `}`, "both"},
		{"empty group", "r.json", `{"groups": {"a": [0], "b": []}, "label_map": {"0": 0}, ` + scene + `}`, "no classes"},
		{"class out of range", "r.json", `{"groups": {"a": [0], "b": [255]}, "label_map": {"0": 0}, ` + scene + `}`, "outside"},
		{"no scenes", "r.json", `{` + base + `}`, "no scenes"},
		{"no mask", "r.json", `{` + base + `, "scenes": [{"image": "a.tif"}]}`, "required"},
		{"no label map", "r.json", `{"groups": {"a": [0], "b": [1]}, ` + scene + `}`, "no label_map"},
		{"unknown group", "r.json", `{"groups": {"a": [0], "b": [1]}, "label_map": {"1": "cloud"}, ` + scene + `}`, "no group"},
		{"class in no group", "r.json", `{"groups": {"a": [0], "b": [1]}, "label_map": {"1": 3}, ` + scene + `}`, "in no group"},
		{"bad code", "r.json", `{"groups": {"a": [0], "b": [1]}, "label_map": {"x": 0}, ` + scene + `}`, "not an integer"},
		{"bad label", "r.json", `{"groups": {"a": [0], "b": [1]}, "label_map": {"1": true}, ` + scene + `}`, "not a class id"},
		{"negative resolution", "r.json", `{` + base + `, "resolution_m": -3, ` + scene + `}`, "resolution_m"},
		{"duplicate names", "r.json", `{` + base + `, "scenes": [{"image": "x/a.tif", "mask": "m"}, {"image": "y/a.tif", "mask": "n"}]}`, "twice"},
		{"trailing data", "r.json", `{` + base + `, ` + scene + `} {}`, "trailing"},
		{"empty YAML", "r.yaml", "", "empty"},
		{"YAML image not a list", "r.yml", "groups: {a: [0], b: [1]}\nlabel_map: {0: 0}\nscenes: [{image: {x: 1}, mask: b}]\n", "image"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseRunFile(tt.file, []byte(tt.data))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "eval: "+tt.file+": ") {
				t.Errorf("error %q, want it to start with %q and mention %q", err, "eval: "+tt.file, tt.want)
			}
		})
	}
}

func TestRoot(t *testing.T) {
	tests := []struct {
		name, path, dataRoot, override, want string
	}{
		{"run folder", "/x/runs/r.json", "", "", "/x/runs"},
		{"relative data_root", "/x/runs/r.json", "../../data", "", "/data"},
		{"absolute data_root", "/x/runs/r.json", "/d", "", "/d"},
		{"override", "/x/runs/r.json", "../data", "shared", "shared"},
		{"parsed from bytes", "", "data", "", "data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Run{Path: tt.path, DataRoot: tt.dataRoot}
			if got := r.Root(tt.override); got != filepath.FromSlash(tt.want) {
				t.Errorf("Root = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseSteps(t *testing.T) {
	tests := []struct {
		name, scales, res string
		want              []Step
		bad               bool
	}{
		{"default", "", "", []Step{{Scale: 1}}, false},
		{"scales", "1, 2,3.5", "", []Step{{Scale: 1}, {Scale: 2}, {Scale: 3.5}}, false},
		{"both", "1", "60", []Step{{Scale: 1}, {Resolution: 60}}, false},
		{"zero", "0", "", nil, true},
		{"negative resolution", "", "-30", nil, true},
		{"junk", "1,x", "", nil, true},
		{"duplicate", "2,2", "", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSteps(tt.scales, tt.res)
			if (err != nil) != tt.bad || (!tt.bad && !reflect.DeepEqual(got, tt.want)) {
				t.Errorf("ParseSteps(%q, %q) = %v, %v", tt.scales, tt.res, got, err)
			}
		})
	}
	if s := (Step{Scale: 2}).String() + "," + (Step{Resolution: 60}).String(); s != "x2,60 m" {
		t.Errorf("Step.String: %q", s)
	}
}

func FuzzParseRunFile(f *testing.F) {
	f.Add([]byte(runJSON), false)
	f.Add([]byte(runYAML), true)
	f.Add([]byte(`{"groups": {"a": [0], "b": [1]}, "label_map": {"0": 0}, "scenes": [{"image": ["x", "y"], "mask": "m"}]}`), false)
	f.Add([]byte("groups: [1, 2]\n"), true)
	f.Add([]byte(`{"label_map": {"-1": null}}`), false)
	f.Fuzz(func(t *testing.T, data []byte, yaml bool) {
		name := "f.json"
		if yaml {
			name = "f.yaml"
		}
		r, err := ParseRunFile(name, data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "eval: "+name+": ") {
				t.Errorf("error without prefix: %v", err)
			}
			return
		}
		if len(r.Groups) < 2 || len(r.Scenes) == 0 {
			t.Fatalf("accepted a run with %d groups and %d scenes", len(r.Groups), len(r.Scenes))
		}
		names := map[string]bool{}
		for _, s := range r.Scenes {
			if len(s.Image) == 0 || s.Mask == "" || s.Sensor == "" || len(s.LabelMap) == 0 || names[s.Name] {
				t.Fatalf("accepted an incomplete scene %+v", s)
			}
			names[s.Name] = true
		}
	})
}

// Scale and offset (reflectance for models that want it) are run defaults a
// scene may override, as a pair.
func TestRunFileScale(t *testing.T) {
	r, err := ParseRunFile("run.json", []byte(`{"name": "x", "scale": [0.0001], "label_map": {"0": 0, "1": 1}, "groups": {"clear": [0], "cloud": [1]},
		"scenes": [{"image": "a.tif", "mask": "m.tif"}, {"image": "b.tif", "mask": "n.tif", "scale": [1], "offset": [-0.1]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	a, b := r.Scenes[0], r.Scenes[1]
	if len(a.Scale) != 1 || a.Scale[0] != 0.0001 || a.Offset != nil || b.Scale[0] != 1 || b.Offset[0] != -0.1 {
		t.Fatalf("scales %v %v, offsets %v %v", a.Scale, b.Scale, a.Offset, b.Offset)
	}
}

// TestWaterRunFile: the shipped water run file names the water product and
// scores its classes (land, water, cloud, shadow).
func TestWaterRunFile(t *testing.T) {
	r, err := LoadRunFile(filepath.Join("runs", "water-s2.json"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Product != "water" || len(r.Groups) != 4 || r.Groups[1].Name != "water" || r.Groups[1].Classes[0] != 1 {
		t.Errorf("product %q groups %+v", r.Product, r.Groups)
	}
}

// TestSettingsOr: a scene's settings override the run's field by field,
// scale and offset as a pair (a scene's offset alone keeps no scale).
func TestSettingsOr(t *testing.T) {
	run := Settings{Sensor: "landsat8", Bands: "1,2,3", Resolution: 30, LabelMap: LabelMap{0: {}}, Scale: []float64{2}, Offset: []float64{1}}
	for _, tc := range []struct {
		scene, want Settings
	}{
		{Settings{}, run},
		{Settings{Sensor: "s2", Resolution: 10}, Settings{Sensor: "s2", Bands: "1,2,3", Resolution: 10, LabelMap: run.LabelMap, Scale: run.Scale, Offset: run.Offset}},
		{Settings{Bands: "4", LabelMap: LabelMap{}}, Settings{Sensor: "landsat8", Bands: "4", Resolution: 30, LabelMap: LabelMap{}, Scale: run.Scale, Offset: run.Offset}},
		{Settings{Offset: []float64{-0.1}}, Settings{Sensor: "landsat8", Bands: "1,2,3", Resolution: 30, LabelMap: run.LabelMap, Offset: []float64{-0.1}}},
	} {
		if got := tc.scene.or(run); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%+v.or(run) = %+v, want %+v", tc.scene, got, tc.want)
		}
	}
}

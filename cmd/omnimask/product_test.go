package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airbusgeo/godal"
)

// TestPredictProduct: predict --product, built in and from a file with a
// min_prob rule: one mask, each model's probabilities once (ndwi-water is
// both the water model and the NDWI check of a three-band scene), and a
// bad min_prob refused with its name.
func TestPredictProduct(t *testing.T) {
	d := cliInputs(t)
	out := t.TempDir()
	stdout, stderr, err := cli(t, "predict", d.scene, "--product", "water", "--output-dir", out, "--threads", "1", "--confidence", "float32")
	if err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	for _, w := range []string{"land", "water", "thick_cloud", "cloud_shadow"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("stdout lacks %q:\n%s", w, stdout)
		}
	}
	mask := maskIn(out, d.scene)
	wantRaster(t, mask, 1, godal.Byte)
	wantRaster(t, strings.TrimSuffix(mask, ".tif")+"_confidence.tif", 6, godal.Float32) // omnicloud 4 + ndwi-water 2

	// A six-band scene runs water-cnn and ndwi-water, which share class
	// names: their probability bands say whose they are.
	six := tif{w: 96, h: 80, bands: 6, names: []string{"blue", "green", "red", "nir", "swir1", "swir2"}}.write(t, filepath.Join(t.TempDir(), "six.tif"))
	dir := t.TempDir()
	conf := filepath.Join(dir, "six_mask_confidence.tif")
	if _, stderr, err := cli(t, "predict", six, "--product", "water", "-o", filepath.Join(dir, "six_mask.tif"), "--threads", "1",
		"--confidence", "float32"); err != nil {
		t.Fatalf("six bands: %v: %s", err, stderr)
	}
	ds, err := godal.Open(conf)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range ds.Bands() {
		names = append(names, b.Description())
	}
	ds.Close()
	if got := strings.Join(names, ","); got != "p_clear,p_thick_cloud,p_thin_cloud,p_cloud_shadow,p_land (water-cnn),p_water (water-cnn),p_land (ndwi-water),p_water (ndwi-water)" {
		t.Errorf("probability bands %s", got)
	}

	pointwise, err := filepath.Abs(testModel("pointwise.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	product := func(minProb string) string {
		js := `{"name": "veto", "models": [{"role": "cloud", "models": [` + `"` + pointwise + `"` + `]}, {"role": "water", "models": ["ndwi-water"]}],
 "classes": [{"id": 0, "name": "land", "color": [1, 2, 3]}, {"id": 1, "name": "water", "color": [0, 0, 255]}, {"id": 4, "name": "cloud_shadow", "color": [90, 60, 30]}],
 "rules": [{"when": {"cloud": "cloud_shadow", "water": "water"}, "min_prob": {"water": ` + minProb + `}, "class": "water"},
  {"when": {"cloud": "cloud_shadow"}, "class": "cloud_shadow"}, {"when": {"water": "water"}, "class": "water"}, {"class": "land"}]}`
		p := filepath.Join(t.TempDir(), "veto.json")
		if err := os.WriteFile(p, []byte(js), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	out2 := t.TempDir()
	if _, stderr, err := cli(t, "predict", d.scene, "--product", product("0.9"), "--output-dir", out2, "--threads", "1"); err != nil {
		t.Fatalf("min_prob 0.9: %v: %s", err, stderr)
	}
	wantRaster(t, maskIn(out2, d.scene), 1, godal.Byte)
	_, stderr, err = cli(t, "predict", d.scene, "--product", product("2"), "--output-dir", t.TempDir(), "--threads", "1")
	if exitCode(err) != exitFailed || !strings.Contains(stderr, "min_prob") {
		t.Errorf("min_prob 2: exit %d, stderr %q", exitCode(err), stderr)
	}
}

// TestInfoProductResolution: `info --product water` on a six-band scene
// says which water model runs: water-cnn at 10 m, mndwi-water where the
// models see 30 m pixels (water-cnn supports 7.07-14.14 m), with a note.
func TestInfoProductResolution(t *testing.T) {
	six := tif{w: 96, h: 80, bands: 6, names: []string{"blue", "green", "red", "nir", "swir1", "swir2"}}.write(t, filepath.Join(t.TempDir(), "six.tif"))
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{nil, []string{"product     water: omnicloud + water-cnn + ndwi-water"}},
		{[]string{"--resolution", "30"}, []string{"product     water: omnicloud + mndwi-water + ndwi-water",
			"note        water: running mndwi-water: the models see 30 m pixels, outside the range of water-cnn (supports 7.07-14.14 m)"}},
		{[]string{"--processing-resolution", "20"}, []string{"product     water: omnicloud + mndwi-water + ndwi-water", "the models see 20 m pixels"}},
	} {
		stdout, stderr, err := cli(t, append([]string{"info", six, "--product", "water"}, tt.args...)...)
		if err != nil {
			t.Fatalf("%v: %v: %s", tt.args, err, stderr)
		}
		for _, w := range tt.want {
			if !strings.Contains(stdout, w) {
				t.Errorf("%v: stdout lacks %q:\n%s", tt.args, w, stdout)
			}
		}
		if tt.args == nil && strings.Contains(stdout, "supports") {
			t.Errorf("10 m: unexpected note:\n%s", stdout)
		}
	}
}

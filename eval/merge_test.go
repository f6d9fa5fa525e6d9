package eval

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/omnimask/omnimask/engine"
	"github.com/omnimask/omnimask/internal/synth"
)

// Evaluating a run scene by scene, sending each report through JSON and
// merging them gives the report of one Evaluate over the whole run.
func TestMergeEqualsEvaluate(t *testing.T) {
	data := t.TempDir()
	var scenes strings.Builder
	for i, o := range []synth.Options{
		{Width: 96, Height: 80, Seed: 21, NoDataCorners: true},
		{Width: 80, Height: 96, Seed: 22, ResolutionM: 20, Cloud: 0.6},
		{Width: 72, Height: 72, Seed: 23, ResolutionM: 30},
	} {
		g := synth.New(o)
		name := string(rune('a' + i))
		if err := g.WriteGeoTIFF(filepath.Join(data, name+".tif"), synth.FileOptions{}); err != nil {
			t.Fatal(err)
		}
		writeTruth(t, g, filepath.Join(data, name+"_truth.tif"), g.Geo())
		scenes.WriteString("  - {name: " + name + ", sensor: s" + string(rune('0'+i%2)) + ", image: " + name + ".tif, mask: " + name + "_truth.tif}\n")
	}
	scenes.WriteString("  - {name: broken, sensor: s0, image: none.tif, mask: a_truth.tif}\n")
	path := filepath.Join(data, "run.yaml")
	os.WriteFile(path, []byte("name: parts\nlabel_map: {128: 0, 255: 1, 192: 2, 64: 3}\ngroups:\n  clear: [0]\n  cloud: [1, 2]\n  shadow: [3]\nscenes:\n"+scenes.String()), 0o644)
	run, err := LoadRunFile(path)
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(engine.Options{Models: []string{filepath.Join("..", "testdata", "models", "pointwise.onnx")}, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	opts := Options{Steps: []Step{{Scale: 1}, {Scale: 2}}}
	whole, err := Evaluate(context.Background(), e, run, opts)
	if err != nil {
		t.Fatal(err)
	}
	var parts []*Report
	for i := range run.Scenes {
		sub := *run
		sub.Scenes = run.Scenes[i : i+1]
		p, err := Evaluate(context.Background(), e, &sub, opts)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(p)
		var back Report
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		parts = append(parts, &back)
	}
	merged, err := Merge(run, parts)
	if err != nil {
		t.Fatal(err)
	}
	seconds := regexp.MustCompile(`"seconds": [0-9.e+-]+`)
	render := func(r *Report) []byte {
		var b bytes.Buffer
		r.writeJSON(&b)
		r.WriteCSV(&b)
		r.WriteMarkdown(&b, true)
		return seconds.ReplaceAll(b.Bytes(), nil)
	}
	if a, b := render(whole), render(merged); !bytes.Equal(a, b) {
		t.Errorf("merged report differs:\n%s\nwant:\n%s", b, a)
	}

	if _, err := Merge(run, nil); err == nil {
		t.Error("merging nothing")
	}
	other := *parts[1]
	other.Steps = other.Steps[:1]
	if _, err := Merge(run, []*Report{parts[0], &other}); err == nil {
		t.Error("merged parts evaluated at other steps")
	}
}

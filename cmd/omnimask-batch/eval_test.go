package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/omnimask/omnimask/internal/cmdline"
	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/internal/synth"
)

// writeTruth writes a generator's truth as L8 Biome codes (nodata → 0,
// unmapped, so it is ignored).
func writeTruth(t *testing.T, g *synth.Generator, path string) {
	t.Helper()
	codes := map[uint8]uint8{synth.Clear: 128, synth.ThickCloud: 255, synth.ThinCloud: 192, synth.Shadow: 64, synth.NoData: 0}
	o := g.Opts
	w, err := gdalio.Create(path, image.Pt(o.Width, o.Height), g.Geo(), gdalio.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	buf := make([]uint8, o.Width*o.Height)
	for y := range o.Height {
		for x := range o.Width {
			buf[y*o.Width+x] = codes[g.Truth(x, y)]
		}
	}
	if err := w.WriteUint8(0, image.Rect(0, 0, o.Width, o.Height), buf); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
}

// sameReports compares the reports of `omnimask eval` (want) and
// `omnimask-batch eval` (got): report.md and metrics.csv byte for byte,
// metrics.json byte for byte once the per-scene wall times are blanked.
func sameReports(t *testing.T, want, got string) {
	t.Helper()
	seconds := regexp.MustCompile(`"seconds": [0-9.e+-]+`)
	for _, name := range []string{"report.md", "metrics.csv", "metrics.json"} {
		a, err := os.ReadFile(filepath.Join(want, name))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(got, name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "metrics.json" {
			if !json.Valid(b) {
				t.Errorf("%s: not JSON", name)
			}
			a, b = seconds.ReplaceAll(a, []byte(`"seconds": 0`)), seconds.ReplaceAll(b, []byte(`"seconds": 0`))
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs from omnimask eval's (%d and %d bytes)\n--- eval:\n%.3000s\n--- batch:\n%.3000s", name, len(a), len(b), a, b)
		}
	}
}

func evalBoth(t *testing.T, runFile string, code int, extra ...string) {
	t.Helper()
	want, got := t.TempDir(), t.TempDir()
	args := append([]string{"eval", runFile, "--out", want, "--quiet"}, extra...)
	var wantOut bytes.Buffer
	cmd := exec.Command(predictBin(t), args...)
	cmd.Stdout = &wantOut
	err := cmd.Run()
	if got := cmd.ProcessState.ExitCode(); got != code {
		t.Fatalf("omnimask eval: exit %d (%v), want %d", got, err, code)
	}
	args[3] = got
	stdout, _, err := batchRun(t, context.Background(), args...)
	if c := cmdline.ExitCode(err); c != code {
		t.Fatalf("omnimask-batch eval: exit %d (%v), want %d", c, err, code)
	}
	if stdout != wantOut.String() {
		t.Errorf("stdout differs:\n%s\nwant:\n%s", stdout, wantOut.String())
	}
	sameReports(t, want, got)
}

// omnimask-batch eval writes exactly the report omnimask eval writes:
// synthetic scenes of two sensors with known truth, one unreadable, at
// two steps of a resolution sweep.
func TestEvalMatchesOmnimaskEval(t *testing.T) {
	dir := t.TempDir()
	var scenes strings.Builder
	for i, o := range []synth.Options{
		{Width: 120, Height: 100, Seed: 11, NoDataCorners: true},
		{Width: 96, Height: 90, Seed: 12, ResolutionM: 20, Cloud: 0.6},
		{Width: 100, Height: 110, Seed: 13, ResolutionM: 30},
	} {
		g := synth.New(o)
		name := string(rune('a' + i))
		if err := g.WriteGeoTIFF(filepath.Join(dir, name+".tif"), synth.FileOptions{}); err != nil {
			t.Fatal(err)
		}
		writeTruth(t, g, filepath.Join(dir, name+"_truth.tif"))
		sensor := []string{"sensorA", "sensorB"}[i%2]
		scenes.WriteString("  - {name: " + name + ", sensor: " + sensor + ", image: " + name + ".tif, mask: " + name + "_truth.tif}\n")
	}
	scenes.WriteString("  - {name: broken, sensor: sensorA, image: missing.tif, mask: a_truth.tif}\n")
	run := filepath.Join(dir, "synthetic.yaml")
	os.WriteFile(run, []byte("name: synthetic\nlabel_map: {128: 0, 255: 1, 192: 2, 64: 3}\ngroups:\n  clear: [0]\n  cloud: [1, 2]\n  shadow: [3]\nscenes:\n"+scenes.String()), 0o644)
	evalBoth(t, run, cmdline.ExitFailed, "--model", pointwise, "--threads", "1", "--scales", "1,2")
}

// The same on the shipped run files with the built-in model, when
// ../shared/data is present.
func TestEvalShippedRunFiles(t *testing.T) {
	if _, err := os.Stat(filepath.Join("..", "..", "..", "shared", "data", "catalog.json")); err != nil {
		t.Skip("../shared/data not present")
	}
	if testing.Short() {
		t.Skip("built-in model on every shipped scene: not in -short")
	}
	runs, _ := filepath.Glob(filepath.Join("..", "..", "eval", "runs", "*.*"))
	for _, r := range runs {
		if ext := filepath.Ext(r); ext != ".json" && ext != ".yaml" {
			continue
		}
		t.Run(filepath.Base(r), func(t *testing.T) {
			evalBoth(t, r, cmdline.ExitOK, "--data", filepath.Join("..", "..", "..", "shared", "data"))
		})
	}
}

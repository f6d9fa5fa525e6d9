package eval

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/omnimask/omnimask/engine"
)

// sharedData is the project's sibling data folder, seen from this package.
const sharedData = "../../shared/data"

func needSharedData(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(sharedData, "cloud")); err != nil {
		t.Skipf("%s not present: %v", sharedData, err)
	}
}

// TestShippedRuns checks that every run file under runs/ parses and points
// at existing files of the shared data through its own data_root.
func TestShippedRuns(t *testing.T) {
	files, _ := filepath.Glob("runs/*.json")
	yamls, _ := filepath.Glob("runs/*.yaml")
	files = append(files, yamls...)
	if len(files) < 3 {
		t.Fatalf("only %d run files in runs/", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			run, err := LoadRunFile(f)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := filepath.Abs(sharedData)
			if got, _ := filepath.Abs(run.Root("")); got != want {
				t.Errorf("data_root resolves to %s, want %s", got, want)
			}
			needSharedData(t)
			for _, s := range run.Scenes {
				for _, p := range append(append([]string(nil), s.Image...), s.Mask) {
					if _, err := os.Stat(resolve(run.Root(""), p)); err != nil {
						t.Errorf("scene %s: %v", s.Name, err)
					}
				}
			}
		})
	}
}

// TestCrossSensorRealData scores the real held-out scenes with a test
// network: nothing may fail, and every code of the labels must be mapped
// (only On Cloud N's 255 is nodata).
func TestCrossSensorRealData(t *testing.T) {
	needSharedData(t)
	if testing.Short() {
		t.Skip("short")
	}
	run, err := LoadRunFile("runs/cross-sensor-test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(engine.Options{Models: []string{filepath.Join("..", "testdata", "models", "pointwise_zscore.onnx")}, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	rep, err := Evaluate(context.Background(), e, run, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range rep.Scenes {
		if s.Error != "" {
			t.Errorf("%s: %s", s.Scene, s.Error)
			continue
		}
		if s.Sensor == "landsat8" && s.Metrics.Ignored != 0 {
			t.Errorf("%s: %d reference pixels ignored, want 0", s.Scene, s.Metrics.Ignored)
		}
		if s.Metrics.Pixels == 0 {
			t.Errorf("%s: no pixel scored", s.Scene)
		}
	}
	if len(rep.Sensors) != 2 || rep.Overall[0].Scenes != 7 {
		t.Errorf("%d sensor aggregates, %d scenes overall", len(rep.Sensors), rep.Overall[0].Scenes)
	}
}

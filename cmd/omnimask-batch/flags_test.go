package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/omnimask/omnimask/batch"
	"github.com/omnimask/omnimask/engine"
	"github.com/omnimask/omnimask/internal/cmdline"
	"github.com/omnimask/omnimask/internal/synth"
	"github.com/omnimask/omnimask/raster"
	"github.com/omnimask/omnimask/tiling"
	"github.com/omnimask/omnimask/tta"
)

// flagBlocks splits flag.PrintDefaults output into one block per flag.
func flagBlocks(help string) map[string]string {
	blocks := map[string]string{}
	name := ""
	for _, l := range strings.Split(help, "\n") {
		if strings.HasPrefix(l, "  -") {
			name = strings.Fields(l)[0][1:]
			blocks[name] = l
			continue
		}
		if name != "" && strings.HasPrefix(l, "    \t") {
			blocks[name] += "\n" + l
		} else {
			name = ""
		}
	}
	return blocks
}

// Predict's flags that omnimask-batch does not take: one output file, a
// stack of band files as one scene, previews.
var predictOnly = []string{"o", "stack", "preview"}

// Every predict flag (but predictOnly) exists in omnimask-batch with the
// same type, meaning and default, as `omnimask predict -h` prints them.
func TestFlagsMatchPredict(t *testing.T) {
	var help bytes.Buffer
	cmd := exec.Command(predictBin(t), "predict", "-h")
	cmd.Stderr = &help
	if err := cmd.Run(); err != nil {
		t.Fatalf("omnimask predict -h: %v", err)
	}
	pred := flagBlocks(help.String())
	if len(pred) < 15 {
		t.Fatalf("parsed %d flags from predict -h:\n%s", len(pred), help.String())
	}
	var own bytes.Buffer
	fs, _ := newFlagSet(io.Discard)
	fs.SetOutput(&own)
	fs.PrintDefaults()
	mine := flagBlocks(own.String())
	for name, want := range pred {
		if slices.Contains(predictOnly, name) {
			if _, ok := mine[name]; ok {
				t.Errorf("-%s is listed as predict-only but omnimask-batch has it", name)
			}
			continue
		}
		if got := mine[name]; got != want {
			t.Errorf("-%s differs from predict's:\n%s\nwant:\n%s", name, got, want)
		}
	}
}

// The flags map onto the engine's options and request as predict maps
// them, and the identity holds the pixel-changing ones.
func TestFlagsConfig(t *testing.T) {
	fs, f := newFlagSet(io.Discard)
	pos, err := cmdline.Parse(fs, []string{"a.tif", "--model", "m1.onnx", "--model", "m2.onnx", "--threads", "3", "--streams", "1",
		"--batch-size", "2", "--tta", "flips", "--sensor", "landsat8", "--bands", "4,3,5", "--nodata", "0", "--resolution", "30",
		"--processing-resolution", "60", "--no-resample", "--patch-size", "256", "--overlap", "-1", "--blend", "hann",
		"--confidence", "F32", "--scale", "0.0001", "--offset", "-0.1,0,0", "b.tif", "--output-dir", "out", "--force", "--parallel", "2"})
	if err != nil || !reflect.DeepEqual(pos, []string{"a.tif", "b.tif"}) {
		t.Fatalf("parse: %q, %v", pos, err)
	}
	cfg, err := f.config(setFlags(fs))
	if err != nil {
		t.Fatal(err)
	}
	opts := cfg.options(nil)
	if !reflect.DeepEqual(opts, engine.Options{Models: []string{"m1.onnx", "m2.onnx"}, Threads: 3, Streams: 1, BatchSize: 2, TTA: tta.Flips}) {
		t.Errorf("options %+v", opts)
	}
	req, err := cfg.request()
	want := engine.Request{Sensor: "landsat8", Bands: "4,3,5", NoData: raster.NoDataValue(0), Resolution: 30,
		ProcessingResolution: 60, NoResample: true, PatchSize: 256, Overlap: -1, Blend: tiling.Hann, Confidence: engine.ConfidenceFloat32,
		BandsByPosition: true, Scale: []float64{0.0001}, Offset: []float64{-0.1, 0, 0}}
	if err != nil || !reflect.DeepEqual(req, want) {
		t.Errorf("request %+v, %v; want %+v", req, err, want)
	}
	if !cfg.Force || cfg.Parallel != 2 || f.outDir != "out" {
		t.Errorf("batch flags: %+v", cfg)
	}
	pf := cfg.pixelFlags()
	for k, v := range map[string]string{"sensor": "landsat8", "bands": "4,3,5", "nodata": "0", "resolution": "30",
		"processing-resolution": "60", "no-resample": "true", "patch-size": "256", "overlap": "-1", "blend": "hann",
		"confidence": "float32", "batch-size": "2", "tta": "flips", "scale": "0.0001", "offset": "-0.1,0,0"} {
		if pf[k] != v {
			t.Errorf("identity flag %s = %q, want %q", k, pf[k], v)
		}
	}
	for _, k := range []string{"threads", "streams", "model", "output-dir", "force", "parallel"} {
		if _, ok := pf[k]; ok {
			t.Errorf("%s is in the identity but does not change pixels", k)
		}
	}

	fs, f = newFlagSet(io.Discard)
	cmdline.Parse(fs, []string{"a.tif", "--overlap", "0"})
	if cfg, err := f.config(setFlags(fs)); err != nil || cfg.Overlap != -1 {
		t.Errorf("--overlap 0 means none, as in predict: %d, %v", cfg.Overlap, err)
	}

	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	scene := filepath.Join(t.TempDir(), "s.tif")
	if err := synth.New(synth.Options{Width: 64, Height: 64}).WriteGeoTIFF(scene, synth.FileOptions{}); err != nil {
		t.Fatal(err)
	}
	// A scene whose mask would replace another scene of the batch.
	victim := batch.MaskPath(scene, "")
	if b, err := os.ReadFile(scene); err != nil || os.WriteFile(victim, b, 0o644) != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{}, cmdline.ExitUsage},
		{[]string{victim, scene, "--model", pointwise}, cmdline.ExitUsage},
		{[]string{"a.tif", "--threads", "0"}, cmdline.ExitUsage},
		{[]string{"a.tif", "--product", "water", "--model", "m.onnx"}, cmdline.ExitUsage},
		{[]string{"a.tif", "--threads", "2", "--streams", "3"}, cmdline.ExitUsage},
		{[]string{"a.tif", "--batch-size", "1000"}, cmdline.ExitUsage},
		{[]string{"a.tif", "--resolution", "-3"}, cmdline.ExitUsage},
		{[]string{"a.tif", "--processing-resolution", "NaN"}, cmdline.ExitUsage},
		{[]string{"a.tif", "--sensor", "landsat9000"}, cmdline.ExitUsage},
		{[]string{"a.tif", "--output-dir", file}, cmdline.ExitUsage},
		{[]string{scene, "--model", pointwise, "--patch-size", "7"}, cmdline.ExitUsage},
		{[]string{scene, "--model", pointwise, "--overlap", "40"}, cmdline.ExitUsage},
		{[]string{scene, "--model", pointwise, "--output-dir", filepath.Dir(scene), "--confidence", "uint8", "-o"}, cmdline.ExitUsage},
		{[]string{"a.tif", "--confidence", "int16"}, cmdline.ExitUsage},
		{[]string{"a.tif", "--parallel", "0"}, cmdline.ExitUsage},
		{[]string{"a.tif", "--blend", "cubic"}, cmdline.ExitUsage},
		{[]string{"a.tif", "--tta", "rot90"}, cmdline.ExitUsage},
		{[]string{"a.tif", "--tta", ""}, cmdline.ExitUsage},
		{[]string{"a.tif", "--threads", "x"}, cmdline.ExitUsage},
		{[]string{"a.tif", "--runner", "direct"}, cmdline.ExitUsage},
		{[]string{"/nonexistent/*.tif"}, cmdline.ExitUsage},
		{[]string{"a.tif", "--output-dir", "/nonexistent"}, cmdline.ExitFailed},
		{[]string{"-h"}, cmdline.ExitOK},
	} {
		var stderr bytes.Buffer
		err := run(t.Context(), c.args, io.Discard, &stderr)
		if got := cmdline.ExitCode(err); got != c.code {
			t.Errorf("%q: exit %d (%v), want %d", c.args, got, err, c.code)
		}
	}
}

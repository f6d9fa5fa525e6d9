package main

// The CLI through run(): every command, every predict flag at least once,
// usage errors, exit codes (0 ok, 1 failure, 2 usage, 130 interrupted) and
// the key lines of the output. Ctrl-C is tested on a child process running
// main(), as a user would send it.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/omnimask/omnimask/internal/cmdline"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/airbusgeo/godal"

	"github.com/omnimask/omnimask/internal/testutil"
	"github.com/omnimask/omnimask/raster"
)

// cli runs the program and returns its output.
func cli(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var o, e bytes.Buffer
	err = run(ctx, args, &o, &e)
	t.Logf("omnimask %s -> %v\nstdout:\n%sstderr:\n%s", strings.Join(args, " "), err, o.String(), e.String())
	return o.String(), e.String(), err
}

type cliCase struct {
	name   string
	args   func(d *cliDirs) []string
	code   int
	stdout []string // substrings of stdout ({scene}, {bad}, {nogeo}: those inputs' paths)
	stderr []string // substrings of stderr (idem)
	quiet  bool     // stdout must be empty
	files  func(t *testing.T, d *cliDirs)
}

// cliDirs are the inputs every case may use, and its own output folder.
type cliDirs struct {
	scene, scene2, nogeo, bad string
	twin                      string // another scene.tif, in another folder
	stack                     []string
	out                       string
}

func cliInputs(t *testing.T) *cliDirs {
	in := t.TempDir()
	d := &cliDirs{
		scene:  tif{w: 96, h: 80, seed: 1}.write(t, filepath.Join(in, "scene.tif")),
		scene2: tif{w: 70, h: 90, seed: 2}.write(t, filepath.Join(in, "other.tif")),
		nogeo:  tif{w: 64, h: 64, geo: &raster.Geo{}}.write(t, filepath.Join(in, "nogeo.tif")),
		bad:    writeFile(t, filepath.Join(in, "bad.tif"), []byte("not a raster")),
	}
	os.Mkdir(filepath.Join(in, "twin"), 0o755)
	d.twin = tif{w: 64, h: 64, seed: 3}.write(t, filepath.Join(in, "twin", "scene.tif"))
	for _, b := range []string{"red", "green", "nir"} {
		d.stack = append(d.stack, tif{w: 64, h: 64, bands: 1, names: []string{b}}.write(t, filepath.Join(in, "B_"+b+".tif")))
	}
	return d
}

func predictArgs(d *cliDirs, extra ...string) []string {
	return append([]string{"predict", d.scene, "--model", pointwise, "--output-dir", d.out, "--threads", "1"}, extra...)
}

// maskIn is the mask path predict writes for scene into dir.
func maskIn(dir, scene string) string { return cmdline.MaskPath(scene, dir) }

func wantRaster(t *testing.T, path string, bands int, dtype godal.DataType) {
	t.Helper()
	ds, err := godal.Open(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer ds.Close()
	st := ds.Structure()
	if st.NBands != bands || st.DataType != dtype {
		t.Errorf("%s: %d bands of %s, want %d of %s", path, st.NBands, st.DataType, bands, dtype)
	}
}

func wantPNG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestCLI(t *testing.T) {
	ensemble := testModel("pointwise_b.onnx")
	cases := []cliCase{
		// --- commands ---
		{name: "no-command", args: func(d *cliDirs) []string { return nil }, code: exitUsage, stderr: []string{"Usage:", "omnimask predict"}},
		{name: "help", args: func(d *cliDirs) []string { return []string{"help"} }, stdout: []string{"Usage:", "Exit codes"}},
		{name: "--help", args: func(d *cliDirs) []string { return []string{"--help"} }, stdout: []string{"Usage:"}},
		{name: "-h", args: func(d *cliDirs) []string { return []string{"-h"} }, stdout: []string{"Usage:"}},
		{name: "unknown-command", args: func(d *cliDirs) []string { return []string{"frobnicate"} }, code: exitUsage,
			stderr: []string{"Usage:"}},
		{name: "unknown-command-named", args: func(d *cliDirs) []string { return []string{"frobnicate"} }, code: exitUsage,
			stderr: []string{`unknown command "frobnicate"`}},
		{name: "version", args: func(d *cliDirs) []string { return []string{"version"} },
			stdout: []string{"omnimask " + Version, "GDAL 3.", "ONNX Runtime 1.24"}},
		{name: "--version", args: func(d *cliDirs) []string { return []string{"--version"} }, stdout: []string{"omnimask " + Version}},
		{name: "version-bad-flag", args: func(d *cliDirs) []string { return []string{"version", "--nope"} }, code: exitUsage,
			stderr: []string{"flag provided but not defined: -nope"}},
		{name: "models", args: func(d *cliDirs) []string { return []string{"models"} },
			stdout: []string{"omnicloud (default)", "bands       red, green, nir", "classes", "ndwi-water", "mndwi-water",
				"product water (--product water)", "models      cloud = omnicloud (10-60 m); water = water-cnn (7.07-14.14 m) | mndwi-water | ndwi-water; ndwi = ndwi-water", "classes     0 land, 1 water, 2 thick_cloud, 3 thin_cloud, 4 cloud_shadow"}},
		{name: "models-file", args: func(d *cliDirs) []string { return []string{"models", pointwise} },
			stdout: []string{pointwise, "pointwise 0.0.1", "resolution  10 m (supported 10-60 m)", "patch 64, overlap 16", "0 clear, 1 thick_cloud, 2 thin_cloud, 3 cloud_shadow (logits)"}},
		{name: "models-check", args: func(d *cliDirs) []string {
			return []string{"models", "check", testModel("pointwise_sigmoid.onnx"), "--size", "64", "--threads", "1"}
		},
			stdout: []string{"pointwise_sigmoid.onnx: ok", "units any", "output      sigmoid, 1 channel(s), threshold 0.5", "classes     0 clear, 1 cloud", "ms per Mpx (64x64 scene"}},
		{name: "models-check-wrong-multiple", args: func(d *cliDirs) []string { return []string{"models", "check", testModel("bad_multiple.onnx")} },
			code: exitFailed, stderr: []string{`the manifest should say "size_multiple": 4`}},
		{name: "models-check-nothing", args: func(d *cliDirs) []string { return []string{"models", "check"} }, code: exitUsage,
			stderr: []string{"no model given"}},
		{name: "models-corrupt", args: func(d *cliDirs) []string { return []string{"models", testModel("corrupt.onnx")} }, code: exitFailed,
			stderr: []string{"omnimask models: " + testModel("corrupt.onnx")}},
		{name: "models-unknown", args: func(d *cliDirs) []string { return []string{"models", "nosuchmodel"} }, code: exitFailed,
			stderr: []string{"nosuchmodel"}},
		{name: "info", args: func(d *cliDirs) []string { return []string{"info", d.scene, "--model", pointwise} },
			stdout: []string{"{scene}", "GTiff, 96x80 pixels, 3 bands", "1  red", "inputs      red, green, nir",
				"resolution  native 10 x 10 m", "tiling      patch 64, overlap 16"}},
		{name: "info-tta", args: func(d *cliDirs) []string { return []string{"info", d.scene, "--model", pointwise, "--tta", "D4"} },
			stdout: []string{"tta         d4 (8 inference calls per patch)"}},
		{name: "info-tta-default", args: func(d *cliDirs) []string { return []string{"info", d.scene, "--model", pointwise} },
			stdout: []string{"tta         none (1 inference calls per patch)"}},
		{name: "predict-bad-tta", args: func(d *cliDirs) []string { return []string{"predict", d.scene, "--model", pointwise, "--tta", "rot90"} },
			code: exitUsage, stderr: []string{`invalid value "rot90" for flag -tta: unknown mode "rot90" (want none, flips or d4)`}},
		{name: "predict-empty-tta", args: func(d *cliDirs) []string { return []string{"predict", d.scene, "--model", pointwise, "--tta", ""} },
			code: exitUsage, stderr: []string{`flag -tta: empty mode (want none, flips or d4)`}},
		{name: "models-tta", args: func(d *cliDirs) []string { return []string{"models", pointwise} },
			stdout: []string{"tta         none (default test-time augmentation; --tta overrides)"}},
		{name: "info-derived", args: func(d *cliDirs) []string { return []string{"info", d.scene, "--model", "ndwi-water"} },
			stdout: []string{"model       ndwi-water 1.0.0 (bands nd(green,nir))", "inputs      green, nir",
				"derived     nd(green,nir) = (green - nir) / (green + nir), not normalised"}},
		{name: "models-water", args: func(d *cliDirs) []string { return []string{"models", "ndwi-water", "mndwi-water", "water-cnn"} },
			stdout: []string{"bands       nd(green,nir)", "bands       nd(green,swir1)", "0 land, 1 water (logits)",
				"bands       nd(green,nir), nd(green,swir1), nd(nir,red), nd(swir1,swir2), blue, green, red, nir, swir1, swir2",
				"resolution  10 m (supported 7.07-14.14 m)", "resolution  10 m (any supported)"}},
		{name: "info-product-water", args: func(d *cliDirs) []string { return []string{"info", d.scene, "--product", "water"} },
			stdout: []string{"product     water: omnicloud + ndwi-water", "derived     nd(green,nir) = (green - nir) / (green + nir), not normalised"}},
		{name: "product-and-model", args: func(d *cliDirs) []string {
			return []string{"info", d.scene, "--product", "water", "--model", pointwise}
		},
			code: exitUsage, stderr: []string{"give --model or --product, not both"}},
		{name: "product-unknown", args: func(d *cliDirs) []string { return []string{"info", d.scene, "--product", "lakes"} },
			code: exitFailed, stderr: []string{`no built-in product "lakes" (built-in: water)`}},
		{name: "info-two-scenes-one-bad", args: func(d *cliDirs) []string { return []string{"info", d.scene, d.bad, "--model", pointwise} },
			code: exitFailed, stdout: []string{"96x80 pixels"}, stderr: []string{"not a raster", "1 of 2 scenes failed"}},
		{name: "info-stack", args: func(d *cliDirs) []string {
			return append([]string{"info", "--stack", "--model", pointwise}, d.stack...)
		},
			stdout: []string{" + ", "inputs      red, green, nir"}},
		{name: "info-nogeo", args: func(d *cliDirs) []string { return []string{"info", d.nogeo, "--model", pointwise} }, code: exitFailed,
			stdout: []string{"georef      none", "cannot run"}, stderr: []string{"omnimask info: {nogeo}: not georeferenced", "--resolution"}},
		{name: "info-nogeo-resolution", args: func(d *cliDirs) []string {
			return []string{"info", d.nogeo, "--model", pointwise, "--resolution", "20"}
		},
			stdout: []string{"resolution  native 20 x 20 m"}},
		{name: "info-no-scene", args: func(d *cliDirs) []string { return []string{"info"} }, code: exitUsage, stderr: []string{"no scene given"}},

		// --- predict, every flag ---
		{name: "predict", args: func(d *cliDirs) []string { return predictArgs(d) },
			stdout: []string{"_omnimask.tif  96x80  at 10 m  ", "patches (0 skipped)", "clear", "thick_cloud", "cloud_shadow"},
			files:  func(t *testing.T, d *cliDirs) { wantRaster(t, maskIn(d.out, d.scene), 1, godal.Byte) }},
		{name: "predict-o", args: func(d *cliDirs) []string {
			return []string{"predict", d.scene, "--model", pointwise, "-o", filepath.Join(d.out, "named.tif")}
		}, stdout: []string{"named.tif  96x80"}, files: func(t *testing.T, d *cliDirs) {
			wantRaster(t, filepath.Join(d.out, "named.tif"), 1, godal.Byte)
			if n := testutil.DirNames(t, d.out); strings.Join(n, " ") != "named.tif named.tif.aux.xml" {
				t.Errorf("output folder holds %v, want the mask and its category names", n)
			}
		}},
		{name: "predict-flags-after-scene-and-double-dash", args: func(d *cliDirs) []string {
			return []string{"predict", "--model", pointwise, "--output-dir", d.out, "--", d.scene}
		}, files: func(t *testing.T, d *cliDirs) { wantRaster(t, maskIn(d.out, d.scene), 1, godal.Byte) }},
		{name: "confidence-uint8", args: func(d *cliDirs) []string { return predictArgs(d, "--confidence", "uint8") },
			stdout: []string{"probabilities: "}, files: func(t *testing.T, d *cliDirs) {
				wantRaster(t, strings.TrimSuffix(maskIn(d.out, d.scene), ".tif")+"_confidence.tif", 4, godal.Byte)
			}},
		{name: "confidence-float32", args: func(d *cliDirs) []string { return predictArgs(d, "--confidence", "float32") },
			stdout: []string{"probabilities: "}, files: func(t *testing.T, d *cliDirs) {
				wantRaster(t, strings.TrimSuffix(maskIn(d.out, d.scene), ".tif")+"_confidence.tif", 4, godal.Float32)
			}},
		{name: "confidence-short-names", args: func(d *cliDirs) []string { return predictArgs(d, "--confidence", "F32") },
			files: func(t *testing.T, d *cliDirs) {
				wantRaster(t, strings.TrimSuffix(maskIn(d.out, d.scene), ".tif")+"_confidence.tif", 4, godal.Float32)
			}},
		{name: "preview-file", args: func(d *cliDirs) []string { return predictArgs(d, "--preview", filepath.Join(d.out, "look.png")) },
			files: func(t *testing.T, d *cliDirs) { wantPNG(t, filepath.Join(d.out, "look.png")) }},
		{name: "preview-folder-two-scenes", args: func(d *cliDirs) []string {
			return []string{"predict", d.scene, d.scene2, "--model", pointwise, "--output-dir", d.out, "--preview", d.out}
		}, files: func(t *testing.T, d *cliDirs) {
			wantPNG(t, filepath.Join(d.out, "scene_omnimask.png"))
			wantPNG(t, filepath.Join(d.out, "other_omnimask.png"))
		}},
		{name: "preview-file-two-scenes", args: func(d *cliDirs) []string {
			return []string{"predict", d.scene, d.scene2, "--model", pointwise, "--output-dir", d.out, "--preview", filepath.Join(d.out, "x.png")}
		}, code: exitUsage, stderr: []string{"give a folder"}},
		{name: "stack", args: func(d *cliDirs) []string {
			return append([]string{"predict", "--stack", "--model", pointwise, "--output-dir", d.out}, d.stack...)
		}, stdout: []string{"64x64"}, files: func(t *testing.T, d *cliDirs) { wantRaster(t, maskIn(d.out, d.stack[0]), 1, godal.Byte) }},
		{name: "bands-indices", args: func(d *cliDirs) []string { return predictArgs(d, "--bands", "1,2,3") }},
		{name: "bands-names", args: func(d *cliDirs) []string { return predictArgs(d, "--bands", "red,green,nir") }},
		{name: "bands-mapping", args: func(d *cliDirs) []string { return predictArgs(d, "--bands", "red=1,green=green,nir=3") }},
		{name: "bands-unknown", args: func(d *cliDirs) []string { return predictArgs(d, "--bands", "red=B99,green=2,nir=3") },
			code: exitFailed, stderr: []string{`no band named "B99"`, "1 of 1 scenes failed"}},
		{name: "sensor", args: func(d *cliDirs) []string { return predictArgs(d, "--sensor", "auto") }},
		{name: "nodata", args: func(d *cliDirs) []string { return predictArgs(d, "--nodata", "0") }},
		{name: "nodata-bad", args: func(d *cliDirs) []string { return predictArgs(d, "--nodata", "abc") }, code: exitUsage,
			stderr: []string{`invalid value "abc" for flag -nodata`}},
		{name: "resolution", args: func(d *cliDirs) []string {
			return []string{"predict", d.nogeo, "--model", pointwise, "--output-dir", d.out, "--resolution", "20"}
		}, stdout: []string{"at 20 m"}},
		{name: "resolution-missing", args: func(d *cliDirs) []string {
			return []string{"predict", d.nogeo, "--model", pointwise, "--output-dir", d.out}
		}, code: exitFailed, stderr: []string{"--resolution"}},
		{name: "processing-resolution", args: func(d *cliDirs) []string { return predictArgs(d, "--processing-resolution", "20") },
			stdout: []string{"96x80  at 20 m"}},
		{name: "no-resample", args: func(d *cliDirs) []string { return predictArgs(d, "--no-resample", "--processing-resolution", "20") },
			stdout: []string{"96x80  ", "patches"}},
		{name: "patch-overlap", args: func(d *cliDirs) []string { return predictArgs(d, "--patch-size", "48", "--overlap", "8") },
			stdout: []string{"6 patches"}},
		{name: "overlap-none", args: func(d *cliDirs) []string { return predictArgs(d, "--patch-size", "40", "--overlap", "-1") },
			stdout: []string{"6 patches"}},
		{name: "blend-hann", args: func(d *cliDirs) []string { return predictArgs(d, "--blend", "hann") }},
		{name: "blend-boxcar", args: func(d *cliDirs) []string { return predictArgs(d, "--blend", "BOXCAR") }},
		{name: "blend-ramp", args: func(d *cliDirs) []string { return predictArgs(d, "--blend", "ramp") }},
		{name: "batch-size", args: func(d *cliDirs) []string { return predictArgs(d, "--batch-size", "4") }},
		{name: "batch-size-too-big", args: func(d *cliDirs) []string { return predictArgs(d, "--batch-size", "1000") }, code: exitUsage,
			stderr: []string{"--batch-size 1000: want 1..256"}},
		{name: "threads", args: func(d *cliDirs) []string { return predictArgs(d, "--threads", "2") }},
		{name: "quiet", args: func(d *cliDirs) []string { return predictArgs(d, "--quiet") }, quiet: true},
		{name: "verbose", args: func(d *cliDirs) []string { return predictArgs(d, "-v", "--preview", filepath.Join(d.out, "p.png")) },
			stderr: []string{"level=DEBUG", "preview written"}},
		{name: "ensemble", args: func(d *cliDirs) []string { return predictArgs(d, "--model", ensemble) }},
		{name: "default-model", args: func(d *cliDirs) []string {
			return []string{"predict", d.scene, "--output-dir", d.out, "--threads", "1"}
		}, stdout: []string{"96x80"}},
		{name: "two-scenes-one-bad", args: func(d *cliDirs) []string {
			return []string{"predict", d.scene, d.bad, d.scene2, "--model", pointwise, "--output-dir", d.out}
		}, code: exitFailed, stdout: []string{"scene_omnimask.tif", "other_omnimask.tif"},
			stderr: []string{"omnimask predict: {bad}: not a raster", "1 of 3 scenes failed"},
			files: func(t *testing.T, d *cliDirs) {
				if n := testutil.DirNames(t, d.out); len(n) != 4 {
					t.Errorf("output folder holds %v, want the two good masks and their .aux.xml", n)
				}
			}},
		{name: "warning-printed", args: func(d *cliDirs) []string {
			return []string{"predict", d.nogeo, "--model", pointwise, "--output-dir", d.out, "--resolution", "5"}
		}, stdout: []string{"at 10 m"}, stderr: []string{"level=WARN", "finer than the model's supported 10-60 m"}},

		// --- usage errors ---
		{name: "predict-scale-not-a-number", args: func(d *cliDirs) []string { return append(predictArgs(d), "--scale", "1e-4,x") }, code: exitUsage,
			stderr: []string{`invalid value "1e-4,x" for flag -scale: not a finite number: "x"`}},
		{name: "predict-scale-ignored-by-any-units-model", args: func(d *cliDirs) []string { return append(predictArgs(d), "--scale", "0.0001") },
			stderr: []string{"takes values in any units: --scale/--offset ignored"}},
		{name: "predict-no-scene", args: func(d *cliDirs) []string { return []string{"predict", "--model", pointwise} }, code: exitUsage,
			stderr: []string{"no scene given", "Usage: omnimask predict"}},
		{name: "blend-nope", args: func(d *cliDirs) []string { return predictArgs(d, "--blend", "nope") }, code: exitUsage,
			stderr: []string{"unknown blend window"}},
		{name: "confidence-nope", args: func(d *cliDirs) []string { return predictArgs(d, "--confidence", "nope") }, code: exitUsage,
			stderr: []string{`--confidence "nope"`}},
		{name: "o-with-two-scenes", args: func(d *cliDirs) []string {
			return []string{"predict", d.scene, d.scene2, "--model", pointwise, "-o", filepath.Join(d.out, "m.tif")}
		}, code: exitUsage, stderr: []string{"-o names one file but 2 scenes"}},
		{name: "unknown-flag", args: func(d *cliDirs) []string { return predictArgs(d, "--frobnicate") }, code: exitUsage,
			stderr: []string{"flag provided but not defined: -frobnicate"}},
		{name: "patch-size-not-a-number", args: func(d *cliDirs) []string { return predictArgs(d, "--patch-size", "big") }, code: exitUsage,
			stderr: []string{"invalid value"}},
		{name: "flag-missing-value", args: func(d *cliDirs) []string { return append(predictArgs(d), "--bands") }, code: exitUsage,
			stderr: []string{"flag needs an argument: -bands"}},
		{name: "output-dir-missing", args: func(d *cliDirs) []string {
			return []string{"predict", d.scene, "--model", pointwise, "--output-dir", filepath.Join(d.out, "nope")}
		}, code: exitFailed, stderr: []string{"output folder does not exist"}},
		{name: "two-scenes-one-mask-name", args: func(d *cliDirs) []string {
			return []string{"predict", d.scene, d.twin, "--model", pointwise, "--output-dir", d.out}
		}, code: exitUsage, stderr: []string{"scene_omnimask.tif"}},
		{name: "predict-help", args: func(d *cliDirs) []string { return []string{"predict", "-h"} }, code: exitOK,
			stderr: []string{"Usage: omnimask predict", "-confidence"}},
	}
	inputs := cliInputs(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := *inputs
			d.out = t.TempDir()
			stdout, stderr, err := cli(t, tc.args(&d)...)
			if got := exitCode(err); got != tc.code {
				t.Errorf("exit code %d, want %d (err %v)", got, tc.code, err)
			}
			for _, w := range tc.stdout {
				if !strings.Contains(stdout, resolve(w, &d)) {
					t.Errorf("stdout lacks %q", resolve(w, &d))
				}
			}
			for _, w := range tc.stderr {
				if !strings.Contains(stderr, resolve(w, &d)) {
					t.Errorf("stderr lacks %q", resolve(w, &d))
				}
			}
			if tc.quiet && stdout != "" {
				t.Errorf("--quiet printed %q", stdout)
			}
			if tc.code == exitOK && strings.Contains(stderr, "level=ERROR") {
				t.Errorf("errors logged on success")
			}
			if tc.files != nil {
				tc.files(t, &d)
			}
			if tc.code != exitOK && tc.files == nil {
				if n := testutil.DirNames(t, d.out); len(n) > 0 {
					t.Errorf("output folder holds %v after a failure", n)
				}
			}
		})
	}
}

// resolve replaces {scene}, {bad} and {nogeo} in w by those inputs' paths.
func resolve(w string, d *cliDirs) string {
	return strings.NewReplacer("{scene}", d.scene, "{bad}", d.bad, "{nogeo}", d.nogeo).Replace(w)
}

func TestExitCodes(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errors.New("x.tif: broken"), 1},
		{fmt.Errorf("1 of 2 scenes failed"), 1},
		{usagef("no scene given"), 2},
		{context.Canceled, 130},
		{fmt.Errorf("x.tif: %w", context.Canceled), 130},
		{context.DeadlineExceeded, 1},
	} {
		if got := exitCode(tt.err); got != tt.want {
			t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

// A context cancelled before or during the run: exit 130, nothing written.
func TestCLICancelled(t *testing.T) {
	d := cliInputs(t)
	d.out = t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var o, e bytes.Buffer
	err := run(ctx, predictArgs(d), &o, &e)
	if exitCode(err) != exitInterrupted {
		t.Fatalf("exit code %d (err %v), want 130", exitCode(err), err)
	}
	if n := testutil.DirNames(t, d.out); len(n) > 0 {
		t.Fatalf("left behind: %v", n)
	}
	if strings.Count(e.String(), "\n") > 2 {
		t.Errorf("stderr %q", e.String())
	}
}

const childArgsEnv = "OMNIMASK_TEST_MAIN_ARGS"

// TestMainChild is main() itself when run as a child by TestCtrlC.
func TestMainChild(t *testing.T) {
	args := os.Getenv(childArgsEnv)
	if args == "" {
		t.Skip("runs only as a child of TestCtrlC")
	}
	os.Args = append([]string{"omnimask"}, strings.Split(args, "\x1f")...)
	main() // exits
}

// Ctrl-C (SIGINT) during a prediction: the process exits 130 promptly and
// leaves nothing in the output folder.
func TestCtrlC(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process; not for -short")
	}
	in, out := t.TempDir(), t.TempDir()
	scene := tif{w: 800, h: 800}.write(t, filepath.Join(in, "big.tif"))
	args := []string{"predict", scene, "--model", pointwise, "--output-dir", out, "--patch-size", "32", "--overlap", "0",
		"--threads", "1", "--confidence", "uint8"}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestMainChild$")
	cmd.Env = append(os.Environ(), childArgsEnv+"="+strings.Join(args, "\x1f"))
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// Wait until the mask's temporary file exists: the run is under way.
	deadline := time.Now().Add(30 * time.Second)
	for len(testutil.DirNames(t, out)) == 0 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no temporary file after 30 s:\n%s", stderr.String())
		}
		select {
		case err := <-done:
			t.Fatalf("finished before the interrupt (%v):\n%s", err, stderr.String())
		case <-time.After(2 * time.Millisecond):
		}
	}
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("still running 30 s after SIGINT:\n%s", stderr.String())
	}
	t.Logf("exited %v after SIGINT (%v):\n%s", time.Since(sent).Round(time.Millisecond), err, stderr.String())
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Fatalf("exit %v, want code 130", err)
	}
	if !strings.Contains(stderr.String(), "omnimask predict: "+scene+": interrupt") || strings.Contains(stderr.String(), "panic") {
		t.Errorf("stderr %q", stderr.String())
	}
	if n := testutil.DirNames(t, out); len(n) > 0 {
		t.Fatalf("left behind after SIGINT: %v", n)
	}
}

package main

// The hostile-input matrix of issue 6: every case runs through the library
// (engine.New + engine.PredictFile with Request.Output in a fresh folder) and
// through the CLI (run("predict", …, "--output-dir", folder)). A failing case
// must return an error whose message is one line naming the offending file
// (scene, model, ORT library or output) and the problem, exit with the
// documented code, not panic, and leave nothing — no mask, no temp file — in
// the output folder. A succeeding case checks what it must produce instead.
// What is an error and what is a warning is decided in the table at the top
// of engine/hostile_test.go.
//
// Cases that need a fresh process (the ONNX Runtime library is loaded once per
// process) re-run this test binary on just that subtest, with
// OMNIMASK_TEST_CHILD set.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/airbusgeo/godal"

	"github.com/omnimask/omnimask/engine"
	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/internal/ort"
	"github.com/omnimask/omnimask/internal/synth"
	"github.com/omnimask/omnimask/raster"
)

const childEnv = "OMNIMASK_TEST_CHILD"

func testModel(name string) string { return filepath.Join("..", "..", "testdata", "models", name) }

var pointwise = testModel("pointwise.onnx")

// tif describes a GeoTIFF to write for a test.
type tif struct {
	w, h   int
	bands  int            // default 3
	names  []string       // band descriptions; default red, green, nir for 3 bands
	dtype  godal.DataType // default Float32
	nodata *float64
	geo    *raster.Geo               // nil: synthetic UTM 33N at 10 m; &raster.Geo{}: none
	pix    func(c, x, y int) float64 // default a cheap smooth pattern in 500..2500 (all classes of pointwise.onnx)
	co     []string                  // creation options; default tiled, DEFLATE
	seed   uint64
}

func f64(v float64) *float64 { return &v }

// write writes the GeoTIFF and returns its path.
func (s tif) write(t testing.TB, path string) string {
	t.Helper()
	gdalio.Register()
	if s.bands == 0 {
		s.bands = 3
	}
	if s.names == nil && s.bands == 3 {
		s.names = []string{"red", "green", "nir"}
	}
	if s.dtype == godal.Unknown {
		s.dtype = godal.Float32
	}
	if s.co == nil {
		s.co = []string{"TILED=YES", "BLOCKXSIZE=128", "BLOCKYSIZE=128", "COMPRESS=DEFLATE"}
	}
	g := synth.New(synth.Options{Width: s.w, Height: s.h})
	if s.pix == nil {
		k := float64(s.seed)
		s.pix = func(c, x, y int) float64 {
			return 1500 + 1000*math.Sin(float64(x)/(7+k)+float64(c))*math.Cos(float64(y)/(11+float64(c)))
		}
	}
	ds, err := godal.Create(godal.GTiff, path, s.bands, s.dtype, s.w, s.h, godal.CreationOption(s.co...))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := ds.Close(); err != nil {
			t.Fatal(err)
		}
	}()
	geo := g.Geo()
	if s.geo != nil {
		geo = *s.geo
	}
	if geo.Transform != (raster.GeoTransform{}) && !geo.Transform.IsIdentity() {
		if err := ds.SetGeoTransform(geo.Transform); err != nil {
			t.Fatal(err)
		}
	}
	if geo.CRS != "" {
		if err := ds.SetProjection(geo.CRS); err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]float64, s.w*s.h)
	for c, b := range ds.Bands() {
		if c < len(s.names) {
			if err := b.SetDescription(s.names[c]); err != nil {
				t.Fatal(err)
			}
		}
		if s.nodata != nil {
			if err := b.SetNoData(*s.nodata); err != nil {
				t.Fatal(err)
			}
		}
		for y := 0; y < s.h; y++ {
			for x := 0; x < s.w; x++ {
				buf[y*s.w+x] = s.pix(c, x, y)
			}
		}
		if err := b.Write(0, 0, buf, s.w, s.h); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// writeFile writes raw bytes and returns the path.
func writeFile(t testing.TB, path string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func wgs84(t testing.TB) string {
	t.Helper()
	gdalio.Register()
	sr, err := godal.NewSpatialRefFromEPSG(4326)
	if err != nil {
		t.Fatal(err)
	}
	defer sr.Close()
	wkt, err := sr.WKT()
	if err != nil {
		t.Fatal(err)
	}
	return wkt
}

// readMask reads band 1 of a written mask and its geotransform.
func readMask(t testing.TB, path string) (pix []uint8, w, h int, gt [6]float64) {
	t.Helper()
	ds, err := godal.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	st := ds.Structure()
	w, h = st.SizeX, st.SizeY
	pix = make([]uint8, w*h)
	if err := ds.Bands()[0].Read(0, 0, pix, w, h); err != nil {
		t.Fatal(err)
	}
	gt, _ = ds.GeoTransform()
	return pix, w, h, gt
}

// dirNames lists a folder ("" entries when it does not exist).
func dirNames(t testing.TB, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var n []string
	for _, e := range es {
		n = append(n, e.Name())
	}
	return n
}

// mountTmpfs mounts a tmpfs of the given size (with extra options such as
// "ro") on a new folder, or skips the test when that is not allowed.
func mountTmpfs(t testing.TB, size string, ro bool) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("tmpfs mounts need Linux")
	}
	dir := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var flags uintptr
	if ro {
		flags |= syscall.MS_RDONLY
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", flags, "size="+size); err != nil {
		t.Skipf("cannot mount a tmpfs (%v): needs root or CAP_SYS_ADMIN", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

// readOnlyDir returns a folder the test process cannot create files in:
// chmod 0555 for ordinary users, a read-only tmpfs for root (whom
// permissions do not stop).
func readOnlyDir(t testing.TB) string {
	t.Helper()
	if os.Geteuid() == 0 {
		return mountTmpfs(t, "64k", true)
	}
	dir := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	return dir
}

// Libraries for the ONNX Runtime cases.
var (
	fakeORTOnce sync.Once
	fakeORTPath string
	fakeORTErr  error
)

// fakeOldORT builds a shared library that looks like ONNX Runtime 1.10
// (OrtGetApiBase exists, GetApi(24) returns NULL, as an old release does).
func fakeOldORT(t testing.TB) string {
	fakeORTOnce.Do(func() {
		// Built once into a fixed folder and reused by later runs.
		dir := filepath.Join(os.TempDir(), "omnimask-test-fake-ort-v1")
		fakeORTPath = filepath.Join(dir, "libonnxruntime.so.1")
		if _, err := os.Stat(fakeORTPath); err == nil {
			return
		}
		cc, err := exec.LookPath("gcc")
		if err != nil {
			if cc, err = exec.LookPath("cc"); err != nil {
				fakeORTErr = fmt.Errorf("no C compiler: %v", err)
				return
			}
		}
		if fakeORTErr = os.MkdirAll(dir, 0o755); fakeORTErr != nil {
			return
		}
		src := filepath.Join(dir, fmt.Sprintf("fake-%d.c", os.Getpid()))
		defer os.Remove(src)
		os.WriteFile(src, []byte(`
#include <stddef.h>
typedef struct { const void* (*GetApi)(unsigned); const char* (*GetVersionString)(void); } Base;
static const void* get_api(unsigned v) { (void)v; return NULL; }
static const char* version(void) { return "1.10.0"; }
static const Base base = { get_api, version };
const Base* OrtGetApiBase(void) { return &base; }
`), 0o644)
		tmp := fmt.Sprintf("%s.part-%d", fakeORTPath, os.Getpid())
		if out, err := exec.Command(cc, "-shared", "-fPIC", "-o", tmp, src).CombinedOutput(); err != nil {
			fakeORTErr = fmt.Errorf("%v: %s", err, out)
			return
		}
		fakeORTErr = os.Rename(tmp, fakeORTPath)
	})
	if fakeORTErr != nil {
		t.Skipf("cannot build a fake ONNX Runtime library: %v", fakeORTErr)
	}
	return fakeORTPath
}

// loadedLibrary returns the path of a shared library this process has
// mapped whose name contains name (libgdal: a real library, but not ORT).
func loadedLibrary(t testing.TB, name string) string {
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Skipf("no /proc/self/maps: %v", err)
	}
	for _, line := range strings.Split(string(maps), "\n") {
		if i := strings.IndexByte(line, '/'); i >= 0 && strings.Contains(filepath.Base(line[i:]), name) {
			return line[i:]
		}
	}
	t.Skipf("no %s library mapped", name)
	return ""
}

// env is what a case's hooks see.
type env struct {
	in       string   // input folder
	scenes   []string // scene paths given to predict
	model    string
	ortLib   string
	outDir   string // output folder
	output   string // mask path
	explicit bool   // output named with -o instead of --output-dir
}

type hostile struct {
	name   string
	setup  func(t *testing.T, in string) []string // writes inputs, returns the scene paths
	flags  []string                               // CLI flags…
	req    engine.Request                         // …and the same for the library
	model  string                                 // default pointwise.onnx
	ortLib func(t *testing.T) string              // run in a fresh process with this library
	ortEnv bool                                   // name the library by $ONNXRUNTIME_LIB, not --ort-lib
	fresh  bool                                   // run in a fresh process (it may crash) with 6 GiB more address space at most
	out    func(t *testing.T, e *env)             // choose the output folder / -o file
	stack  bool

	want  []string            // the problem, as substrings of the one-line message; nil = success
	names func(e *env) string // the file the message must name (default the first scene)
	code  int                 // CLI exit code (default 1 for errors, 0 for success)
	cause error               // errors.Is target for the library error, if any

	check   func(t *testing.T, e *env, res *engine.Result) // success: res is nil for the CLI
	warn    string                                         // success: warning expected (library warnings, CLI stderr)
	timeout time.Duration                                  // per-run deadline (default 30 s)
	cancel  bool                                           // cancel mid-run
}

func scene(e *env) string  { return e.scenes[0] }
func model(e *env) string  { return e.model }
func ortLib(e *env) string { return e.ortLib }
func output(e *env) string { return e.output }

// plain writes a 3-band float32 scene of the given size.
func plain(w, h int) func(t *testing.T, in string) []string {
	return func(t *testing.T, in string) []string {
		return []string{tif{w: w, h: h}.write(t, filepath.Join(in, "scene.tif"))}
	}
}

func hostileCases() []hostile {
	nan := math.NaN()
	return []hostile{
		// --- the scene file itself ---
		{name: "missing-path", setup: func(t *testing.T, in string) []string {
			return []string{filepath.Join(in, "nope.tif")}
		}, want: []string{"no such file"}},
		{name: "missing-path-with-colon", setup: func(t *testing.T, in string) []string {
			return []string{filepath.Join(in, "a:b.tif")}
		}, want: []string{"no such file"}},
		{name: "missing-relative-path-with-colon", setup: func(t *testing.T, in string) []string {
			return []string{"nosuchdriver:nope.tif"}
		}, want: []string{"not a raster"}},
		{name: "directory", setup: func(t *testing.T, in string) []string {
			d := filepath.Join(in, "folder.tif")
			os.Mkdir(d, 0o755)
			return []string{d}
		}, want: []string{"folder", "no per-band files"}},
		{name: "empty-file", setup: func(t *testing.T, in string) []string {
			return []string{writeFile(t, filepath.Join(in, "empty.tif"), nil)}
		}, want: []string{"empty"}},
		{name: "fifo", setup: func(t *testing.T, in string) []string {
			p := filepath.Join(in, "pipe.tif")
			if err := syscall.Mkfifo(p, 0o644); err != nil {
				t.Skipf("mkfifo: %v", err)
			}
			return []string{p}
		}, want: []string{"not a regular file", "named pipe"}, timeout: 10 * time.Second},
		{name: "fifo-without-extension", setup: func(t *testing.T, in string) []string {
			p := filepath.Join(in, "pipe")
			if err := syscall.Mkfifo(p, 0o644); err != nil {
				t.Skipf("mkfifo: %v", err)
			}
			return []string{p}
		}, want: []string{"not a regular file"}, timeout: 10 * time.Second},
		{name: "text-named-tif", setup: func(t *testing.T, in string) []string {
			return []string{writeFile(t, filepath.Join(in, "notes.tif"), []byte("these are not pixels\n"))}
		}, want: []string{"not a raster"}},
		{name: "truncated-geotiff", setup: func(t *testing.T, in string) []string {
			p := tif{w: 256, h: 256}.write(t, filepath.Join(in, "cut.tif"))
			st, _ := os.Stat(p)
			if err := os.Truncate(p, st.Size()/2); err != nil {
				t.Fatal(err)
			}
			return []string{p}
		}, want: []string{"reading band"}},
		{name: "truncated-geotiff-header", setup: func(t *testing.T, in string) []string {
			p := tif{w: 256, h: 256}.write(t, filepath.Join(in, "cut.tif"))
			if err := os.Truncate(p, 16); err != nil {
				t.Fatal(err)
			}
			return []string{p}
		}, want: []string{"not a raster"}},
		{name: "corrupt-tile", setup: func(t *testing.T, in string) []string {
			p := tif{w: 256, h: 256}.write(t, filepath.Join(in, "corrupt.tif"))
			corruptMiddle(t, p)
			return []string{p}
		}, want: []string{"reading band"}},
		{name: "raster-1x1", setup: plain(1, 1), want: []string{"smaller than", "1x1 pixels"}},
		{name: "raster-31x31", setup: plain(31, 31), want: []string{"smaller than", "31x31 pixels"}},
		{name: "raster-32x32-ok", setup: plain(32, 32), check: func(t *testing.T, e *env, res *engine.Result) {
			pix, w, h, _ := readMask(t, e.output)
			if w != 32 || h != 32 || len(pix) != 1024 {
				t.Fatalf("mask %dx%d", w, h)
			}
		}},
		{name: "unicode-spaces-name-ok", setup: func(t *testing.T, in string) []string {
			return []string{tif{w: 64, h: 64}.write(t, filepath.Join(in, "scène d'été 1.tif"))}
		}, check: func(t *testing.T, e *env, res *engine.Result) { readMask(t, e.output) }},

		// --- bands ---
		{name: "1-band-for-3-band-model", setup: func(t *testing.T, in string) []string {
			return []string{tif{w: 64, h: 64, bands: 1, dtype: godal.UInt16}.write(t, filepath.Join(in, "gray.tif"))}
		}, want: []string{"1 band", "red, green, nir"}},
		{name: "2-bands-no-nir", setup: func(t *testing.T, in string) []string {
			return []string{tif{w: 64, h: 64, bands: 2, names: []string{"red", "green"}}.write(t, filepath.Join(in, "rg.tif"))}
		}, want: []string{"nir"}},
		{name: "unknown-band-name", setup: plain(64, 64),
			flags: []string{"--bands", "red=swir9,green=2,nir=3"}, req: engine.Request{Bands: "red=swir9,green=2,nir=3"},
			want: []string{"swir9"}},
		{name: "duplicate-bands", setup: plain(64, 64),
			flags: []string{"--bands", "1,1,2"}, req: engine.Request{Bands: "1,1,2"},
			want: []string{"band 1 twice"}},
		{name: "band-out-of-range", setup: plain(64, 64),
			flags: []string{"--bands", "9,2,3"}, req: engine.Request{Bands: "9,2,3"},
			want: []string{"band 9", "only 3 bands"}},
		{name: "band-count-mismatch", setup: plain(64, 64),
			flags: []string{"--bands", "1,2"}, req: engine.Request{Bands: "1,2"},
			want: []string{"gives 2 bands", "wants 3"}},
		{name: "malformed-band-spec", setup: plain(64, 64),
			flags: []string{"--bands", "red=,green=2,nir=3"}, req: engine.Request{Bands: "red=,green=2,nir=3"},
			want: []string{"name=band"}},
		{name: "stack-other-extent", stack: true, setup: func(t *testing.T, in string) []string {
			return []string{
				tif{w: 64, h: 64, bands: 1, names: []string{"red"}}.write(t, filepath.Join(in, "red.tif")),
				tif{w: 96, h: 64, bands: 1, names: []string{"green"}}.write(t, filepath.Join(in, "green.tif")),
				tif{w: 64, h: 64, bands: 1, names: []string{"nir"}}.write(t, filepath.Join(in, "nir.tif")),
			}
		}, want: []string{"extent"}},
		{name: "stack-multi-resolution-ok", stack: true, setup: func(t *testing.T, in string) []string {
			// green at 20 m is read through a VRT resampling it onto the
			// 10 m grid (closing that VRT after its source used to crash).
			g20 := synth.New(synth.Options{ResolutionM: 20}).Geo()
			return []string{
				tif{w: 64, h: 64, bands: 1, names: []string{"red"}}.write(t, filepath.Join(in, "red.tif")),
				tif{w: 32, h: 32, bands: 1, names: []string{"green"}, geo: &g20}.write(t, filepath.Join(in, "green.tif")),
				tif{w: 64, h: 64, bands: 1, names: []string{"nir"}}.write(t, filepath.Join(in, "nir.tif")),
			}
		}, check: func(t *testing.T, e *env, res *engine.Result) {
			if _, w, h, _ := readMask(t, e.output); w != 64 || h != 64 {
				t.Fatalf("mask %dx%d, want the finest grid 64x64", w, h)
			}
		}},
		{name: "stack-size-mismatch-no-georeference", stack: true, setup: func(t *testing.T, in string) []string {
			none := &raster.Geo{}
			return []string{
				tif{w: 64, h: 64, bands: 1, names: []string{"red"}, geo: none}.write(t, filepath.Join(in, "red.tif")),
				tif{w: 65, h: 64, bands: 1, names: []string{"green"}, geo: none}.write(t, filepath.Join(in, "green.tif")),
				tif{w: 64, h: 64, bands: 1, names: []string{"nir"}, geo: none}.write(t, filepath.Join(in, "nir.tif")),
			}
		}, flags: []string{"--resolution", "10"}, req: engine.Request{Resolution: 10}, want: []string{"64x64", "cannot be aligned"}},

		// --- pixel values ---
		{name: "nan-inf-pixels-ok", setup: func(t *testing.T, in string) []string {
			bad := map[[2]int]float64{{5, 5}: nan, {6, 6}: math.Inf(1), {7, 7}: math.Inf(-1), {40, 3}: nan}
			g := synth.New(synth.Options{Width: 64, Height: 64, Seed: 2})
			return []string{tif{w: 64, h: 64, pix: func(c, x, y int) float64 {
				if v, ok := bad[[2]int{x, y}]; ok && (c == 1 || v != v) {
					return v
				}
				return g.Reflectance(x, y, []string{"red", "green", "nir"}[c])
			}}.write(t, filepath.Join(in, "naninf.tif"))}
		}, check: func(t *testing.T, e *env, res *engine.Result) {
			pix, w, _, _ := readMask(t, e.output)
			n := 0
			for i, v := range pix {
				p := [2]int{i % w, i / w}
				isBad := p == [2]int{5, 5} || p == [2]int{6, 6} || p == [2]int{7, 7} || p == [2]int{40, 3}
				if (v == 255) != isBad {
					t.Errorf("pixel %v = %d (invalid input: %v)", p, v, isBad)
				}
				if v == 255 {
					n++
				}
			}
			if res != nil && res.ClassCounts[255] != 4 {
				t.Errorf("%d nodata pixels, want 4", res.ClassCounts[255])
			}
		}},
		{name: "extreme-finite-values-ok", setup: func(t *testing.T, in string) []string {
			return []string{tif{w: 64, h: 64, pix: func(c, x, y int) float64 {
				switch {
				case y < 16:
					return math.MaxFloat32
				case y < 32:
					return -math.MaxFloat32
				case y < 48:
					return 1e-45 // subnormal
				}
				return 0
			}}.write(t, filepath.Join(in, "extreme.tif"))}
		}, check: func(t *testing.T, e *env, res *engine.Result) {
			pix, _, _, _ := readMask(t, e.output)
			for i, v := range pix {
				if v == 255 {
					t.Fatalf("pixel %d of a scene of finite values is nodata", i)
				}
			}
		}},
		{name: "all-nodata-ok-warns", setup: func(t *testing.T, in string) []string {
			return []string{tif{w: 64, h: 64, dtype: godal.UInt16, nodata: f64(0),
				pix: func(c, x, y int) float64 { return 0 }}.write(t, filepath.Join(in, "void.tif"))}
		}, warn: "no valid pixel", check: func(t *testing.T, e *env, res *engine.Result) {
			pix, _, _, _ := readMask(t, e.output)
			for i, v := range pix {
				if v != 255 {
					t.Fatalf("pixel %d = %d in the mask of an all-nodata scene", i, v)
				}
			}
		}},
		{name: "nodata-nan-ok", setup: func(t *testing.T, in string) []string {
			g := synth.New(synth.Options{Width: 64, Height: 64, Seed: 4})
			return []string{tif{w: 64, h: 64, nodata: f64(nan), pix: func(c, x, y int) float64 {
				if x < 10 {
					return nan
				}
				return g.Reflectance(x, y, []string{"red", "green", "nir"}[c])
			}}.write(t, filepath.Join(in, "nannd.tif"))}
		}, check: func(t *testing.T, e *env, res *engine.Result) {
			pix, w, _, _ := readMask(t, e.output)
			for i, v := range pix {
				if (v == 255) != (i%w < 10) {
					t.Fatalf("pixel (%d,%d) = %d", i%w, i/w, v)
				}
			}
		}},
		{name: "nodata-flag-nan-ok", setup: plain(64, 64), flags: []string{"--nodata", "nan"},
			req:   engine.Request{NoData: raster.NoDataValue(nan)},
			check: func(t *testing.T, e *env, res *engine.Result) { readMask(t, e.output) }},

		// --- sizes and types ---
		{name: "huge-declared-vrt", setup: func(t *testing.T, in string) []string {
			return []string{writeFile(t, filepath.Join(in, "huge.vrt"), []byte(`<VRTDataset rasterXSize="30000" rasterYSize="30000">
  <VRTRasterBand dataType="UInt16" band="1"><Description>red</Description></VRTRasterBand>
  <VRTRasterBand dataType="UInt16" band="2"><Description>green</Description></VRTRasterBand>
  <VRTRasterBand dataType="UInt16" band="3"><Description>nir</Description></VRTRasterBand>
</VRTDataset>`))}
		}, flags: []string{"--resolution", "10"}, req: engine.Request{Resolution: 10},
			timeout: time.Second, want: []string{"deadline exceeded"}, cause: context.DeadlineExceeded},
		{name: "huge-declared-envi", setup: func(t *testing.T, in string) []string {
			writeFile(t, filepath.Join(in, "huge.hdr"), []byte("ENVI\nsamples = 100000\nlines = 100000\nbands = 3\nheader offset = 0\n"+
				"file type = ENVI Standard\ndata type = 12\ninterleave = bsq\nbyte order = 0\nband names = {red, green, nir}\n"))
			return []string{writeFile(t, filepath.Join(in, "huge.bin"), make([]byte, 1000))}
		}, want: []string{"not a raster"}, timeout: 5 * time.Second},
		{name: "huge-declared-width", fresh: true, setup: func(t *testing.T, in string) []string {
			return []string{writeFile(t, filepath.Join(in, "wide.vrt"), []byte(`<VRTDataset rasterXSize="2000000000" rasterYSize="64">
  <VRTRasterBand dataType="UInt16" band="1"><Description>red</Description></VRTRasterBand>
  <VRTRasterBand dataType="UInt16" band="2"><Description>green</Description></VRTRasterBand>
  <VRTRasterBand dataType="UInt16" band="3"><Description>nir</Description></VRTRasterBand>
</VRTDataset>`))}
		}, flags: []string{"--resolution", "10"}, req: engine.Request{Resolution: 10}, timeout: 20 * time.Second,
			want: []string{"2000000000"}},
		{name: "vrt-without-bands", setup: func(t *testing.T, in string) []string {
			return []string{writeFile(t, filepath.Join(in, "nobands.vrt"), []byte(`<VRTDataset rasterXSize="64" rasterYSize="64"></VRTDataset>`))}
		}, want: []string{"not a raster"}},
		{name: "vrt-missing-source", setup: func(t *testing.T, in string) []string {
			var b strings.Builder
			b.WriteString(`<VRTDataset rasterXSize="64" rasterYSize="64">`)
			for i, n := range []string{"red", "green", "nir"} {
				fmt.Fprintf(&b, `<VRTRasterBand dataType="UInt16" band="%d"><Description>%s</Description><SimpleSource>`+
					`<SourceFilename relativeToVRT="1">gone.tif</SourceFilename><SourceBand>1</SourceBand></SimpleSource></VRTRasterBand>`, i+1, n)
			}
			b.WriteString(`</VRTDataset>`)
			return []string{writeFile(t, filepath.Join(in, "dangling.vrt"), []byte(b.String()))}
		}, flags: []string{"--resolution", "10"}, req: engine.Request{Resolution: 10}, want: []string{"gone.tif"}},
		{name: "complex-cint16", setup: func(t *testing.T, in string) []string {
			return []string{tif{w: 64, h: 64, dtype: godal.CInt16}.write(t, filepath.Join(in, "complex.tif"))}
		}, want: []string{"complex", "CInt16"}},

		// --- georeference and resolution ---
		{name: "geographic-near-pole", setup: func(t *testing.T, in string) []string {
			return []string{tif{w: 64, h: 64, geo: &raster.Geo{Transform: raster.GeoTransform{0, 1e-4, 0, 90, 0, -1e-4}, CRS: wgs84(t)}}.
				write(t, filepath.Join(in, "pole.tif"))}
		}, want: []string{"pixel size", "--resolution"}},
		{name: "geographic-near-pole-with-resolution-ok", setup: func(t *testing.T, in string) []string {
			return []string{tif{w: 64, h: 64, geo: &raster.Geo{Transform: raster.GeoTransform{0, 1e-4, 0, 90, 0, -1e-4}, CRS: wgs84(t)}}.
				write(t, filepath.Join(in, "pole.tif"))}
		}, flags: []string{"--resolution", "10"}, req: engine.Request{Resolution: 10},
			check: func(t *testing.T, e *env, res *engine.Result) { readMask(t, e.output) }},
		{name: "latitude-beyond-90", setup: func(t *testing.T, in string) []string {
			return []string{tif{w: 64, h: 64, geo: &raster.Geo{Transform: raster.GeoTransform{0, 1e-4, 0, 95, 0, -1e-4}, CRS: wgs84(t)}}.
				write(t, filepath.Join(in, "beyond.tif"))}
		}, want: []string{"--resolution"}},
		{name: "no-georeference", setup: func(t *testing.T, in string) []string {
			return []string{tif{w: 64, h: 64, geo: &raster.Geo{}}.write(t, filepath.Join(in, "nogeo.tif"))}
		}, want: []string{"not georeferenced", "--resolution"}},
		{name: "rotated-geotransform-ok", setup: func(t *testing.T, in string) []string {
			return []string{tif{w: 80, h: 70, geo: &raster.Geo{Transform: raster.GeoTransform{500000, 8, 6, 5000000, 6, -8}, CRS: synth.UTM33N}}.
				write(t, filepath.Join(in, "rotated.tif"))}
		}, warn: "rotated", check: func(t *testing.T, e *env, res *engine.Result) {
			_, w, h, gt := readMask(t, e.output)
			if w != 80 || h != 70 || gt != [6]float64{500000, 8, 6, 5000000, 6, -8} {
				t.Fatalf("mask %dx%d with geotransform %v, want 80x70 and the input's exactly", w, h, gt)
			}
		}},
		{name: "resolution-nan", setup: plain(64, 64), flags: []string{"--resolution", "NaN"},
			req: engine.Request{Resolution: nan}, want: []string{"resolution"}},
		{name: "resolution-negative", setup: plain(64, 64), flags: []string{"--resolution", "-10"},
			req: engine.Request{Resolution: -10}, want: []string{"resolution"}},
		{name: "resolution-inf", setup: plain(64, 64), flags: []string{"--resolution", "+Inf"},
			req: engine.Request{Resolution: math.Inf(1)}, want: []string{"resolution"}},
		{name: "processing-resolution-inf", setup: plain(64, 64), flags: []string{"--processing-resolution", "Inf"},
			req: engine.Request{ProcessingResolution: math.Inf(1)}, want: []string{"resolution"}},
		{name: "upsample-more-than-4x", setup: plain(64, 64), flags: []string{"--processing-resolution", "1"},
			req: engine.Request{ProcessingResolution: 1}, want: []string{"upsample", "4x"}},

		// --- tiling ---
		{name: "overlap-not-below-patch", setup: plain(64, 64), flags: []string{"--patch-size", "48", "--overlap", "48"},
			req: engine.Request{PatchSize: 48, Overlap: 48}, want: []string{"overlap 48", "patch size 48"}},
		{name: "patch-below-minimum", setup: plain(64, 64), flags: []string{"--patch-size", "16"},
			req: engine.Request{PatchSize: 16}, want: []string{"patch size 16"}},
		{name: "negative-patch-size", setup: plain(64, 64), flags: []string{"--patch-size", "-64"},
			req: engine.Request{PatchSize: -64}, want: []string{"patch size -64"}},

		// --- models ---
		{name: "model-corrupt", setup: plain(64, 64), model: testModel("corrupt.onnx"), names: model, want: []string{"unusable model"}},
		{name: "model-bad-rank", setup: plain(64, 64), model: testModel("bad_rank.onnx"), names: model, want: []string{"rank 3"}},
		{name: "model-bad-channels", setup: plain(64, 64), model: testModel("bad_channels.onnx"), names: model, want: []string{"2 channels"}},
		{name: "model-manifest-disagrees", setup: plain(64, 64), model: testModel("bad_manifest.onnx"), names: model, want: []string{"4 bands"}},
		{name: "model-no-manifest", setup: plain(64, 64), model: testModel("no_manifest.onnx"), names: model, want: []string{"no manifest"}},
		{name: "model-missing", setup: plain(64, 64), model: testModel("gone.onnx"), names: model, want: []string{"no such model file"}},
		{name: "model-empty-file", setup: func(t *testing.T, in string) []string {
			writeFile(t, filepath.Join(in, "empty.onnx"), nil)
			return plain(64, 64)(t, in)
		}, model: "@in/empty.onnx", names: model, want: []string{"empty model file"}},
		{name: "model-is-directory", setup: func(t *testing.T, in string) []string {
			os.Mkdir(filepath.Join(in, "dir.onnx"), 0o755)
			return plain(64, 64)(t, in)
		}, model: "@in/dir.onnx", names: model, want: []string{"directory"}},
		{name: "model-unknown-builtin", setup: plain(64, 64), model: "nosuchmodel", names: model, want: []string{"nosuchmodel"}},

		// --- ONNX Runtime library (each in a fresh process) ---
		{name: "ort-missing", setup: plain(64, 64), ortLib: func(t *testing.T) string { return "/nonexistent/libonnxruntime.so" },
			names: ortLib, want: []string{"ONNX Runtime", "no such file"}},
		{name: "ort-missing-env", setup: plain(64, 64), ortLib: func(t *testing.T) string { return "/nonexistent/libonnxruntime.so.1" },
			ortEnv: true, names: ortLib, want: []string{"ONNX Runtime", "no such file"}},
		{name: "ort-wrong-library", setup: plain(64, 64), ortLib: func(t *testing.T) string { return loadedLibrary(t, "libgdal") },
			names: ortLib, want: []string{"ONNX Runtime", "OrtGetApiBase"}},
		{name: "ort-not-a-library", setup: plain(64, 64), ortLib: func(t *testing.T) string {
			return writeFile(t, filepath.Join(t.TempDir(), "libonnxruntime.so"), []byte("not an ELF file\n"))
		}, names: ortLib, want: []string{"ONNX Runtime"}},
		{name: "ort-wrong-version", setup: plain(64, 64), ortLib: func(t *testing.T) string { return fakeOldORT(t) },
			names: ortLib, want: []string{"ONNX Runtime older than 1.24"}},

		// --- outputs ---
		{name: "output-is-input", setup: plain(64, 64), out: func(t *testing.T, e *env) {
			e.output, e.outDir, e.explicit = e.scenes[0], e.in, true
		}, names: output, want: []string{"output path is an input"}, cause: engine.ErrOutputIsInput},
		{name: "output-is-symlink-to-input", setup: plain(64, 64), out: func(t *testing.T, e *env) {
			e.outDir = t.TempDir()
			e.output, e.explicit = filepath.Join(e.outDir, "link.tif"), true
			if err := os.Symlink(e.scenes[0], e.output); err != nil {
				t.Fatal(err)
			}
		}, names: output, want: []string{"output path is an input"}, cause: engine.ErrOutputIsInput},
		{name: "output-is-a-band-file-of-a-product-folder", setup: func(t *testing.T, in string) []string {
			dir := filepath.Join(in, "S2_product")
			os.Mkdir(dir, 0o755)
			for _, b := range []string{"B04", "B03", "B08"} {
				tif{w: 64, h: 64, bands: 1, names: []string{b}}.write(t, filepath.Join(dir, "T33_"+b+".tif"))
			}
			return []string{dir}
		}, out: func(t *testing.T, e *env) {
			e.outDir, e.output, e.explicit = e.scenes[0], filepath.Join(e.scenes[0], "T33_B04.tif"), true
		}, names: output, want: []string{"output path is an input"}, cause: engine.ErrOutputIsInput},
		{name: "confidence-output-is-input", setup: func(t *testing.T, in string) []string {
			return []string{tif{w: 64, h: 64}.write(t, filepath.Join(in, "m_confidence.tif"))}
		}, flags: []string{"--confidence", "uint8"}, req: engine.Request{Confidence: engine.ConfidenceUint8},
			out:   func(t *testing.T, e *env) { e.output, e.outDir, e.explicit = filepath.Join(e.in, "m.tif"), e.in, true },
			names: scene, want: []string{"output path is an input"}, cause: engine.ErrOutputIsInput},
		{name: "output-folder-missing", setup: plain(64, 64), out: func(t *testing.T, e *env) {
			e.outDir = filepath.Join(t.TempDir(), "nope")
			e.output = filepath.Join(e.outDir, "scene_omnimask.tif")
		}, names: func(e *env) string { return e.outDir }, want: []string{"does not exist"}},
		{name: "output-is-directory", setup: plain(64, 64), out: func(t *testing.T, e *env) {
			e.outDir = t.TempDir()
			e.output, e.explicit = filepath.Join(e.outDir, "sub"), true
			os.Mkdir(e.output, 0o755)
		}, names: output, want: []string{"directory"}},
		{name: "output-folder-read-only", setup: plain(64, 64), out: func(t *testing.T, e *env) {
			e.outDir = readOnlyDir(t)
			e.output = filepath.Join(e.outDir, "scene_omnimask.tif")
		}, names: output, want: []string{"cannot create"}},
		{name: "disk-full", setup: plain(256, 256), flags: []string{"--confidence", "float32"},
			req: engine.Request{Confidence: engine.ConfidenceFloat32}, out: func(t *testing.T, e *env) {
				e.outDir = mountTmpfs(t, "32k", false)
				e.output = filepath.Join(e.outDir, "scene_omnimask.tif")
			}, names: func(e *env) string { return filepath.Join(e.outDir, "scene_omnimask") }, want: []string{"space"}},

		// --- interruption ---
		{name: "cancel-mid-run", setup: plain(512, 512), flags: []string{"--patch-size", "32", "--overlap", "0"},
			req: engine.Request{PatchSize: 32, Overlap: -1}, cancel: true,
			want: []string{"context canceled"}, code: exitInterrupted, cause: context.Canceled},
	}
}

// corruptMiddle overwrites bytes in the middle of a file's largest stretch
// of tile data (away from the header and the directory at either end).
func corruptMiddle(t testing.TB, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	junk := bytes.Repeat([]byte{0xA5, 0x5A, 0xFF, 0x00}, 64)
	for _, at := range []int64{st.Size() / 3, st.Size() / 2, 2 * st.Size() / 3} {
		if _, err := f.WriteAt(junk, at); err != nil {
			t.Fatal(err)
		}
	}
}

func TestHostileInputs(t *testing.T) {
	cases := hostileCases()
	if len(cases) < 30 {
		t.Fatalf("only %d hostile cases", len(cases))
	}
	child := os.Getenv(childEnv) != ""
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.ortLib == nil && !tc.fresh && child {
				t.Skip("child process runs only the case it was started for")
			}
			if (tc.ortLib != nil || tc.fresh) && !child {
				// Both modes in one fresh process: ORT's set-up failing
				// leaves nothing loaded, so the CLI run tries it afresh.
				var env []string
				if tc.ortLib != nil {
					lib := tc.ortLib(t)
					env = append(env, "OMNIMASK_TEST_ORTLIB="+lib)
					if tc.ortEnv {
						env = append(env, ort.LibraryEnv+"="+lib)
					}
				}
				runChild(t, "TestHostileInputs", tc.name, env)
				return
			}
			for _, mode := range []string{"lib", "cli"} {
				t.Run(mode, func(t *testing.T) {
					if child {
						limitAddressSpace(t, 6<<30)
					}
					in := t.TempDir() // fresh inputs: a failing case may have written over them
					scenes := tc.setup(t, in)
					e := &env{in: in, scenes: scenes, model: tc.model}
					if e.model == "" {
						e.model = pointwise
					}
					e.model = strings.Replace(e.model, "@in", in, 1)
					if tc.ortLib != nil {
						e.ortLib = os.Getenv("OMNIMASK_TEST_ORTLIB")
					}
					if tc.out != nil {
						tc.out(t, e)
					} else {
						e.outDir = t.TempDir()
						e.output = maskPath(scenes[0], e.outDir)
					}
					before := dirNames(t, e.outDir)
					var res *engine.Result
					var msg string
					var err error
					noPanic(t, func() {
						if mode == "lib" {
							res, err = runLib(t, &tc, e)
							if err != nil {
								msg = err.Error()
							} else {
								msg = strings.Join(res.Warnings, "\n")
							}
						} else {
							msg, err = runCLI(t, &tc, e)
						}
					})
					if tc.want == nil {
						if err != nil {
							t.Fatalf("failed: %v", err)
						}
						if tc.check != nil {
							tc.check(t, e, res)
						}
						if tc.warn != "" && !strings.Contains(strings.ToLower(msg), tc.warn) {
							t.Errorf("warnings %q lack %q", msg, tc.warn)
						}
						return
					}
					if err == nil {
						t.Fatalf("no error, want one about %q", tc.want)
					}
					if mode == "lib" && tc.cause != nil && !errors.Is(err, tc.cause) {
						t.Errorf("error %v does not wrap %v", err, tc.cause)
					}
					checkMessage(t, msg, &tc, e)
					if got := dirNames(t, e.outDir); strings.Join(got, "|") != strings.Join(before, "|") {
						t.Errorf("output folder holds %v after the error, held %v", got, before)
					}
				})
			}
		})
	}
}

// limitAddressSpace caps the process's address space at its current size
// plus extra, so that a runaway allocation fails instead of swapping.
func limitAddressSpace(t testing.TB, extra uint64) {
	t.Helper()
	vm := procStatusKB(t, "VmSize") << 10
	lim := syscall.Rlimit{Cur: vm + extra, Max: vm + extra}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_AS, &old); err == nil && old.Cur < lim.Cur {
		return
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_AS, &lim); err != nil {
		t.Logf("cannot limit the address space: %v", err)
	}
}

// procStatusKB reads a "kB" field of /proc/self/status.
func procStatusKB(t testing.TB, field string) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			var n uint64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &n)
			return n
		}
	}
	t.Skipf("no %s in /proc/self/status", field)
	return 0
}

// checkMessage asserts msg is one line that names the offending file and
// contains the wanted words.
func checkMessage(t *testing.T, msg string, tc *hostile, e *env) {
	t.Helper()
	if strings.Contains(msg, "\n") {
		t.Errorf("message spans several lines: %q", msg)
	}
	name := scene(e)
	if tc.names != nil {
		name = tc.names(e)
	}
	if !strings.Contains(msg, name) {
		t.Errorf("message %q does not name %s", msg, name)
	}
	// Temporary folders are named after the test: keep them out of the match.
	bare := strings.ReplaceAll(msg, tc.name, "")
	for _, w := range tc.want {
		if !strings.Contains(strings.ToLower(bare), strings.ToLower(w)) {
			t.Errorf("message %q lacks %q", msg, w)
		}
	}
}

// noPanic runs f and turns a panic in it into a test failure.
func noPanic(t *testing.T, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("panic: %v", r)
		}
	}()
	f()
}

func caseContext(tc *hostile) (context.Context, context.CancelFunc) {
	d := tc.timeout
	if d == 0 {
		d = 30 * time.Second
	}
	return context.WithTimeout(context.Background(), d)
}

// runLib runs a case through the library: engine.New, then PredictFile.
func runLib(t *testing.T, tc *hostile, e *env) (*engine.Result, error) {
	ctx, cancel := caseContext(tc)
	defer cancel()
	eng, err := engine.New(engine.Options{Models: []string{e.model}, ORTLibrary: libFlag(tc, e), Threads: 1})
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := eng.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}()
	req := tc.req
	req.Output = e.output
	if tc.cancel {
		req.Progress = func(p engine.Progress) {
			if p.Done >= 2 {
				cancel()
			}
		}
	}
	res, err := eng.PredictFile(ctx, e.scenes, req)
	if err != nil {
		return nil, err
	}
	t.Logf("warnings: %q", res.Warnings)
	return res, nil
}

// libFlag is the --ort-lib value of a case (empty when named by env).
func libFlag(tc *hostile, e *env) string {
	if tc.ortEnv {
		return ""
	}
	return e.ortLib
}

// runCLI runs a case through run() and returns the error line it printed
// for the offending file (or all of stderr on success).
func runCLI(t *testing.T, tc *hostile, e *env) (string, error) {
	ctx, cancel := caseContext(tc)
	defer cancel()
	args := append([]string{"predict"}, e.scenes...)
	args = append(args, "--model", e.model, "--threads", "1")
	if e.explicit {
		args = append(args, "-o", e.output)
	} else {
		args = append(args, "--output-dir", e.outDir)
	}
	if tc.stack {
		args = append(args, "--stack")
	}
	if l := libFlag(tc, e); l != "" {
		args = append(args, "--ort-lib", l)
	}
	args = append(args, tc.flags...)
	if tc.cancel {
		stop := cancelWhenTempFile(ctx, cancel, e.outDir)
		defer stop()
	}
	var stdout, stderr bytes.Buffer
	err := run(ctx, args, &stdout, &stderr)
	out := stderr.String()
	t.Logf("omnimask %s\nstdout:\n%sstderr:\n%s", strings.Join(args, " "), stdout.String(), out)
	for _, bad := range []string{"panic", "goroutine ", "runtime error"} {
		if strings.Contains(out, bad) {
			t.Errorf("stderr mentions %q", bad)
		}
	}
	want := exitOK
	if tc.want != nil {
		want = exitFailed
		if tc.code != 0 {
			want = tc.code
		}
	}
	if got := exitCode(err); got != want {
		t.Errorf("exit code %d, want %d (err %v)", got, want, err)
	}
	if err == nil {
		if tc.check != nil && stdout.Len() == 0 {
			t.Errorf("no summary on stdout")
		}
		return out, nil
	}
	// The line about the offending file.
	name := scene(e)
	if tc.names != nil {
		name = tc.names(e)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "omnimask predict: ") && strings.Contains(line, name) {
			return line, err
		}
	}
	t.Errorf("no 'omnimask predict:' line on stderr names %s", name)
	return out, err
}

// cancelWhenTempFile cancels ctx as soon as a file appears in dir (the
// mask's temporary file: the run is under way).
func cancelWhenTempFile(ctx context.Context, cancel context.CancelFunc, dir string) (stop func()) {
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
				if es, _ := os.ReadDir(dir); len(es) > 0 {
					cancel()
					return
				}
			}
		}
	}()
	return func() { close(done) }
}

var subtestName = regexp.MustCompile(`[^A-Za-z0-9_-]`)

// runChild re-runs test/name (its lib and cli subtests) in a fresh process
// with env added, and fails unless both passed there.
func runChild(t *testing.T, test, name string, env []string) {
	t.Helper()
	pattern := fmt.Sprintf("^%s$/^%s$", test, subtestName.ReplaceAllString(name, "."))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run", pattern, "-test.v", "-test.count=1")
	cmd.Env = append(append(os.Environ(), childEnv+"=1"), env...)
	out, err := cmd.CombinedOutput()
	s := string(out)
	if err == nil && strings.Contains(s, "--- SKIP: "+test+"/"+name) {
		t.Skipf("skipped in the child:\n%s", s)
	}
	for _, mode := range []string{"lib", "cli"} {
		if err != nil || !strings.Contains(s, "--- PASS: "+test+"/"+name+"/"+mode) {
			t.Fatalf("child process (%v):\n%s", err, s)
		}
	}
	t.Logf("child process:\n%s", s)
}

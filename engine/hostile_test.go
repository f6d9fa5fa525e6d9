package engine

// What omnimask treats as an error and what as a warning (issue 6).
//
// An ERROR fails the scene: PredictFile/Predict return a one-line error that
// names the offending file (scene, model, ONNX Runtime library or output)
// and the problem, the CLI prints it as "omnimask predict: …", goes on with
// the next scene and exits 1, and no mask, confidence or temporary file is
// left (an existing mask at the output path is left untouched). A WARNING
// lets the run finish: the mask is written, the warning is in
// Result.Warnings and logged at WARN level (the CLI prints it on stderr).
//
//	input                                              outcome
//	-------------------------------------------------  --------------------------------------------------------------
//	missing path / folder without band files           error  "no such file" / "a folder, but no per-band files …"
//	empty file; FIFO, socket or device                 error  "empty file" / "not a regular file but a named pipe"
//	not a raster (text .tif, truncated header, VRT     error  "not a raster GDAL can read: …GDAL's reason…"
//	  without bands, ENVI header bigger than its data)
//	truncated GeoTIFF, corrupt DEFLATE tile,           error  at read time: "reading band N rows a-b: …GDAL's reason…"
//	  VRT whose source is missing
//	complex samples (CInt16, CFloat32…)                error  "band N has complex data type CInt16"
//	0x0 raster (in memory; GTiff cannot hold one)      error  "empty raster (0x0)"
//	smaller than 32 px on a side at the processing     error  tiling.ErrTooSmall "scene smaller than the minimum patch"
//	  resolution (1x1, 31x31, 100 px at 10 m run at
//	  60 m) or than a fixed-shape model's input
//	fewer bands than the model needs, unknown band     error  naming the bands the model wants / the scene has
//	  name, duplicated or out-of-range --bands
//	stacked files of another extent, or of another     error  "covers another extent" / "cannot be aligned"
//	  size without georeference
//	stacked files of another resolution, same extent   ok     resampled (bilinear VRT) onto the finest grid
//	NaN, ±Inf pixels; nodata value NaN                 ok     those pixels are nodata (255) in the mask
//	extreme finite values (±3.4e38, subnormals)        ok     every pixel gets a class
//	all pixels nodata                                  WARN   "the scene has no valid pixel": an all-255 mask is written
//	resolution coarser than the model's range          WARN   processed at native resolution, "expect lower accuracy"
//	resolution finer than the model's range            WARN   processed at the model's finest resolution, upsampled back
//	rotated / sheared geotransform                     WARN   the mask keeps the geotransform exactly
//	band names do not match, counts do                 error  strict by default (InputError "Bands")
//	  … with Request.BandsByPosition                   WARN   bands taken in order
//	bands without names, counts match                  WARN   bands taken in order
//	not georeferenced (model has a range)              error  "not georeferenced … give the resolution" (InputError, Field Resolution)
//	geographic CRS near a pole (degenerate pixel)      error  "unusable pixel size … give the resolution"; with it: ok
//	latitude beyond ±90°                               error  as not georeferenced
//	--resolution / --processing-resolution NaN, ≤0,    error  "resolutions must be positive" / "upsample … more than 4x"
//	  ±Inf, or upsampling more than 4x
//	overlap ≥ patch, patch < 32, negative patch        error
//	unknown Request.Blend window                       error
//	huge declared size, tiny data (VRT 100000²)        runs strip by strip in bounded memory until done or cancelled
//	declared width beyond memory (VRT 2e9 px wide)     error  before allocating
//	corrupt ONNX, wrong input rank / channel count,    error  at engine.New, naming the model file
//	  manifest that disagrees with the graph, none
//	ONNX Runtime missing, not a library, wrong         error  at engine.New, naming the library: "cannot load the ONNX
//	  library (libgdal), too old (1.10)                       Runtime library … (omnimask needs ONNX Runtime 1.24.x)"
//	output = an input (also through a symlink, the     error  ErrOutputIsInput, before anything is read or written
//	  derived _confidence file, or a band file of a
//	  product folder)
//	output folder missing / read-only / a directory    error  "does not exist" / "cannot create output" / "is a directory"
//	disk full while writing                            error  "No space left on device"; temporary files removed
//	CLI: two scenes that map to one mask name          usage error (exit 2) before predicting
//	context cancelled (Ctrl-C) or deadline passed      error  context.Canceled (CLI exit 130) / DeadlineExceeded
//	Predict after Engine.Close                         error  "session closed"; predictions in flight at Close
//	                                                          finish as documented
//
// The CLI-and-library matrix over files is TestHostileInputs in
// cmd/omnimask/hostile_test.go; this file covers the library-only cases.

import (
	"context"
	"errors"
	"image"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/airbusgeo/godal"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/internal/testutil"
	"github.com/omnimask/omnimask/raster"
	"github.com/omnimask/omnimask/tiling"
)

func filled(w, h int, v float32) *Scene {
	sc := synthScene(max(w, 1), max(h, 1), 1)
	sc.Bands = raster.NewFloat32(3, image.Rect(0, 0, w, h))
	for i := range sc.Bands.Pix {
		sc.Bands.Pix[i] = v
	}
	return sc
}

func TestHostileInMemoryScenes(t *testing.T) {
	e := fakeEngine(t, Options{Models: []string{testModel("pointwise.onnx")}, Threads: 1})
	nan := float32(math.NaN())
	tests := []struct {
		name  string
		scene func() *Scene
		req   Request
		want  string // error substring; "" = success
		is    error
		warn  string // success: a warning containing this
		check func(t *testing.T, r *Result)
	}{
		{name: "nil scene", scene: func() *Scene { return nil }, want: "nil scene"},
		{name: "nil bands", scene: func() *Scene { return &Scene{} }, want: "nil scene"},
		{name: "0x0", scene: func() *Scene { return filled(0, 0, 1) }, want: "empty raster (0x0)"},
		{name: "0x100", scene: func() *Scene { return filled(0, 100, 1) }, want: "empty raster"},
		{name: "band names count", scene: func() *Scene { sc := synthScene(64, 64, 1); sc.Names = sc.Names[:2]; return sc }, want: "2 band names for 3 bands"},
		{name: "bounds off origin", scene: func() *Scene {
			sc := synthScene(64, 64, 1)
			sc.Bands = sc.Bands.SubImage(image.Rect(10, 10, 64, 64))
			return sc
		}, want: "must start at (0,0)"},
		{name: "1x1", scene: func() *Scene { return synthScene(1, 1, 1) }, req: Request{NoResample: true}, is: tiling.ErrTooSmall},
		{name: "31x31", scene: func() *Scene { return synthScene(31, 31, 1) }, req: Request{NoResample: true}, is: tiling.ErrTooSmall},
		{name: "31x500", scene: func() *Scene { return synthScene(31, 500, 1) }, req: Request{NoResample: true}, is: tiling.ErrTooSmall},
		{name: "500x31", scene: func() *Scene { return synthScene(500, 31, 1) }, req: Request{NoResample: true}, is: tiling.ErrTooSmall},
		{name: "32x32", scene: func() *Scene { return synthScene(32, 32, 1) }, req: Request{NoResample: true}},
		{name: "too small at processing resolution", scene: func() *Scene { return synthScene(100, 100, 1) },
			req: Request{ProcessingResolution: 60}, is: tiling.ErrTooSmall},
		{name: "smaller than a fixed-shape input", scene: func() *Scene { return synthScene(50, 80, 1) },
			req: Request{NoResample: true}, want: "scene smaller"},
		{name: "all NaN", scene: func() *Scene { return filled(64, 64, nan) }, req: Request{NoResample: true},
			warn: "no valid pixel", check: allNoData},
		{name: "all +Inf", scene: func() *Scene { return filled(64, 64, float32(math.Inf(1))) }, req: Request{NoResample: true},
			warn: "no valid pixel", check: allNoData},
		{name: "all nodata value", scene: func() *Scene { sc := filled(64, 64, 7); sc.NoData = raster.NoDataValue(7); return sc },
			req: Request{NoResample: true}, warn: "no valid pixel", check: allNoData},
		{name: "nodata NaN", scene: func() *Scene {
			sc := synthScene(64, 64, 1)
			sc.NoData = raster.NoDataValue(math.NaN())
			for c := 0; c < 3; c++ {
				sc.Bands.Set(c, 3, 4, nan)
			}
			return sc
		}, req: Request{NoResample: true}, check: func(t *testing.T, r *Result) {
			if r.ClassCounts[255] != 1 || r.Mask.GrayAt(3, 4).Y != 255 {
				t.Errorf("%d nodata pixels, (3,4) = %d", r.ClassCounts[255], r.Mask.GrayAt(3, 4).Y)
			}
		}},
		{name: "one NaN band", scene: func() *Scene {
			sc := synthScene(64, 64, 1)
			sc.Bands.Set(2, 9, 9, nan) // one band invalid is enough
			return sc
		}, req: Request{NoResample: true}, check: func(t *testing.T, r *Result) {
			if r.Mask.GrayAt(9, 9).Y != 255 || r.ClassCounts[255] != 1 {
				t.Errorf("(9,9) = %d, %d nodata", r.Mask.GrayAt(9, 9).Y, r.ClassCounts[255])
			}
		}},
		{name: "coarser than the range", scene: func() *Scene {
			sc := synthScene(64, 64, 1)
			sc.Geo.Transform = raster.GeoTransform{0, 500, 0, 0, 0, -500}
			return sc
		},
			warn: "coarser"},
		{name: "finer than the range", scene: func() *Scene {
			sc := synthScene(128, 128, 1)
			sc.Geo.Transform = raster.GeoTransform{0, 5, 0, 0, 0, -5}
			return sc
		},
			warn: "finer"},
		{name: "rotated", scene: func() *Scene {
			sc := synthScene(64, 64, 1)
			sc.Geo.Transform = raster.GeoTransform{0, 8, 6, 0, 6, -8}
			return sc
		},
			warn: "rotated"},
		{name: "band names do not match", scene: func() *Scene { sc := synthScene(64, 64, 1); sc.Names = []string{"a", "b", "c"}; return sc },
			want: "Request.BandsByPosition"},
		{name: "band names do not match, by position", scene: func() *Scene { sc := synthScene(64, 64, 1); sc.Names = []string{"a", "b", "c"}; return sc },
			req: Request{BandsByPosition: true}, warn: "no matching names"},
		{name: "no names at all", scene: func() *Scene { sc := synthScene(64, 64, 1); sc.Names = nil; return sc },
			warn: "no matching names"},
		{name: "resolution NaN", scene: func() *Scene { return synthScene(64, 64, 1) }, req: Request{Resolution: math.NaN()}, want: "positive"},
		{name: "processing resolution negative", scene: func() *Scene { return synthScene(64, 64, 1) }, req: Request{ProcessingResolution: -1}, want: "positive"},
		{name: "resolution +Inf", scene: func() *Scene { return synthScene(64, 64, 1) }, req: Request{Resolution: math.Inf(1)}, want: "resolution"},
		{name: "overlap not below patch", scene: func() *Scene { return synthScene(64, 64, 1) }, req: Request{PatchSize: 40, Overlap: 40}, want: "overlap 40"},
		{name: "patch below 32", scene: func() *Scene { return synthScene(64, 64, 1) }, req: Request{PatchSize: 8}, want: "patch size 8"},
		{name: "negative patch", scene: func() *Scene { return synthScene(64, 64, 1) }, req: Request{PatchSize: -64}, want: "patch size -64"},
		{name: "unknown blend window", scene: func() *Scene { return synthScene(64, 64, 1) }, req: Request{Blend: tiling.Window(42)}, want: "blend"},
		{name: "extreme finite values", scene: func() *Scene {
			sc := synthScene(64, 64, 1)
			for i := range sc.Bands.Pix[:64*32] { // top half of band 0
				sc.Bands.Pix[i] = -math.MaxFloat32
			}
			for c := 1; c < 3; c++ {
				for i := 0; i < 64*32; i++ {
					sc.Bands.Pix[c*sc.Bands.PlaneStride+i] = -math.MaxFloat32
				}
			}
			return sc
		}, req: Request{NoResample: true}, check: func(t *testing.T, r *Result) {
			if r.ClassCounts[255] != 0 || r.Uncovered != 0 {
				t.Errorf("%d nodata, %d 'uncovered' pixels in a scene of finite values; warnings %q", r.ClassCounts[255], r.Uncovered, r.Warnings)
			}
		}},
	}
	fixed := fakeEngine(t, Options{Models: []string{testModel("fixed64.onnx")}, Threads: 1})
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := e
			if strings.Contains(tt.name, "fixed-shape") {
				eng = fixed
			}
			var res *Result
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("panic: %v", r)
					}
				}()
				res, err = eng.Predict(ctx, tt.scene(), tt.req)
			}()
			if tt.want == "" && tt.is == nil {
				if err != nil {
					t.Fatal(err)
				}
				if tt.warn != "" && !strings.Contains(strings.Join(res.Warnings, "; "), tt.warn) {
					t.Errorf("warnings %q lack %q", res.Warnings, tt.warn)
				}
				if tt.warn == "" && len(res.Warnings) > 0 {
					t.Errorf("unexpected warnings %q", res.Warnings)
				}
				if tt.check != nil {
					tt.check(t, res)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q lacks %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("multi-line error %q", err)
			}
		})
	}
}

func allNoData(t *testing.T, r *Result) {
	t.Helper()
	for i, v := range r.Mask.Pix {
		if v != 255 {
			t.Fatalf("pixel %d = %d, want nodata", i, v)
		}
	}
	if r.Skipped != r.Plan.Patches {
		t.Errorf("%d of %d patches skipped: all-nodata patches should not be inferred", r.Skipped, r.Plan.Patches)
	}
}

// A huge declared size backed by no data (a 100000x100000 VRT) is processed
// strip by strip: memory stays bounded while it runs, and a deadline stops
// it with nothing left behind.
func TestHugeDeclaredSizeStreamsInBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams for a while; not for -short")
	}
	dir := t.TempDir()
	vrt := filepath.Join(dir, "huge.vrt")
	if err := os.WriteFile(vrt, []byte(`<VRTDataset rasterXSize="100000" rasterYSize="100000">
  <VRTRasterBand dataType="UInt16" band="1"><Description>red</Description></VRTRasterBand>
  <VRTRasterBand dataType="UInt16" band="2"><Description>green</Description></VRTRasterBand>
  <VRTRasterBand dataType="UInt16" band="3"><Description>nir</Description></VRTRasterBand>
</VRTDataset>`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	e := fakeEngine(t, Options{Models: []string{testModel("pointwise.onnx")}, Threads: 1})
	rss0 := settle(t)
	var peak atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
				if v := testutil.ProcStatus(t, "VmRSS"); v > peak.Load() {
					peak.Store(v)
				}
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	var patches atomic.Int64
	t0 := time.Now()
	_, err := e.PredictFile(ctx, []string{vrt}, Request{Resolution: 10, Output: filepath.Join(out, "m.tif"),
		Progress: func(p Progress) { patches.Store(int64(p.Done)) }})
	close(stop)
	<-sampled
	t.Logf("stopped after %v and %d patches: %v; RSS %d kB before, peak %+d kB", time.Since(t0).Round(time.Millisecond), patches.Load(), err, rss0, peak.Load()-rss0)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the deadline", err)
	}
	if n := testutil.DirNames(t, out); len(n) > 0 {
		t.Errorf("left behind: %v", n)
	}
	// A 112-row strip of 100000 x 3 float32 is 134 MB; a few are in flight,
	// plus the accumulator and GDAL's cache. The whole scene would be 120 GB.
	if g := peak.Load() - rss0; g > 2<<20 {
		t.Errorf("RSS grew by %d MB while streaming", g>>10)
	}
}

// The writer on a full disk: the error names the file, and neither the
// temporary GeoTIFF nor the COG copy is left.
func TestWriterDiskFull(t *testing.T) {
	dir := testutil.MountTmpfs(t, "64k", false)
	path := filepath.Join(dir, "probs.tif")
	size := image.Pt(300, 300)
	w, err := gdalio.Create(path, size, raster.Geo{}, gdalio.WriteOptions{Bands: 4, Float32: true})
	if err != nil {
		t.Fatalf("create: %v", err) // creating a header fits in 64k
	}
	defer w.Close()
	noise := make([]float32, size.X*size.Y)
	for i := range noise {
		noise[i] = rand.Float32()
	}
	for b := 0; b < 4 && err == nil; b++ {
		err = w.WriteFloat32(b, image.Rectangle{Max: size}, noise)
	}
	if err == nil {
		err = w.Commit()
	}
	if err == nil {
		t.Fatal("1.4 MB of noise fitted in a 64k file system")
	}
	t.Logf("error: %v", err)
	if !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "\n") {
		t.Errorf("error %q should be one line naming %s", err, path)
	}
	w.Close()
	if n := testutil.DirNames(t, dir); len(n) > 0 {
		t.Errorf("left behind: %v", n)
	}
}

// An abandoned writer removes its temporary file; Close is idempotent.
func TestWriterCloseWithoutCommit(t *testing.T) {
	dir := t.TempDir()
	w, err := gdalio.Create(filepath.Join(dir, "m.tif"), image.Pt(64, 64), raster.Geo{}, gdalio.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteUint8(0, image.Rect(0, 0, 64, 64), make([]uint8, 64*64)); err != nil {
		t.Fatal(err)
	}
	if n := testutil.DirNames(t, dir); len(n) != 1 || !strings.Contains(n[0], ".tmp-") {
		t.Fatalf("while writing the folder holds %v, want one temporary file", n)
	}
	for i := 0; i < 2; i++ {
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(); err == nil {
		t.Error("commit after close succeeded")
	}
	if n := testutil.DirNames(t, dir); len(n) != 0 {
		t.Fatalf("left behind: %v", n)
	}
}

// A failed or cancelled run leaves a mask from an earlier run untouched;
// a successful one replaces it.
func TestFailedRunKeepsPreviousMask(t *testing.T) {
	dir := t.TempDir()
	scene, _ := writeScene(t, dir, 400, 300, 10)
	e := fakeEngine(t, Options{Models: []string{testModel("pointwise.onnx")}, Threads: 1})
	out := filepath.Join(dir, "mask.tif")
	old := []byte("a mask from an earlier run")
	if err := os.WriteFile(out, old, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	_, err := e.PredictFile(ctx, []string{scene}, Request{Output: out, PatchSize: 32, Progress: func(p Progress) {
		if p.Done > 3 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	for _, req := range []Request{{Output: out, Bands: "9,1,2"}, {Output: out, PatchSize: 48, Overlap: 48}} {
		if _, err := e.PredictFile(context.Background(), []string{scene}, req); err == nil {
			t.Fatalf("%+v: no error", req)
		}
	}
	if b, _ := os.ReadFile(out); string(b) != string(old) {
		t.Fatal("a failed run changed the existing mask")
	}
	if n := testutil.DirNames(t, dir); len(n) != 2 {
		t.Fatalf("folder holds %v", n)
	}
	if _, err := e.PredictFile(context.Background(), []string{scene}, Request{Output: out}); err != nil {
		t.Fatal(err)
	}
	ds, err := godal.Open(out)
	if err != nil {
		t.Fatalf("the mask was not replaced: %v", err)
	}
	ds.Close()
}

// Predict on a closed engine returns ErrClosed.
func TestPredictAfterClose(t *testing.T) {
	e := fakeEngine(t, Options{Models: []string{testModel("pointwise.onnx")}, Threads: 1})
	e.Close()
	_, err := e.Predict(context.Background(), synthScene(64, 64, 1), Request{})
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("err = %v, want ErrClosed", err)
	}
	dir := t.TempDir()
	scene, _ := writeScene(t, dir, 64, 64, 10)
	_, err = e.PredictFile(context.Background(), []string{scene}, Request{Output: filepath.Join(dir, "m.tif")})
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("err = %v, want ErrClosed", err)
	}
	if n := testutil.DirNames(t, dir); len(n) != 1 {
		t.Fatalf("left behind: %v", n)
	}
}

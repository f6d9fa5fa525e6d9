package main

// The hostile-input cases run by TestHostileInputs (hostile_harness_test.go):
// the scene file, bands, nodata, georeference and resolution, tiling,
// models, the ONNX Runtime library, outputs and interruption.

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/airbusgeo/godal"

	"github.com/omnimask/omnimask/engine"
	"github.com/omnimask/omnimask/internal/synth"
	"github.com/omnimask/omnimask/internal/testutil"
	"github.com/omnimask/omnimask/raster"
)

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
			req: engine.Request{Resolution: nan}, want: []string{"resolution"}, usage: "resolution"},
		{name: "resolution-negative", setup: plain(64, 64), flags: []string{"--resolution", "-10"},
			req: engine.Request{Resolution: -10}, want: []string{"resolution"}, usage: "resolution"},
		{name: "resolution-inf", setup: plain(64, 64), flags: []string{"--resolution", "+Inf"},
			req: engine.Request{Resolution: math.Inf(1)}, want: []string{"resolution"}, usage: "resolution"},
		{name: "processing-resolution-inf", setup: plain(64, 64), flags: []string{"--processing-resolution", "Inf"},
			req: engine.Request{ProcessingResolution: math.Inf(1)}, want: []string{"resolution"}, usage: "processing-resolution"},
		{name: "upsample-more-than-4x", setup: plain(64, 64), flags: []string{"--processing-resolution", "1"},
			req: engine.Request{ProcessingResolution: 1}, want: []string{"upsample", "4x"}},

		// --- tiling ---
		{name: "overlap-not-below-patch", setup: plain(64, 64), flags: []string{"--patch-size", "48", "--overlap", "48"},
			req: engine.Request{PatchSize: 48, Overlap: 48}, want: []string{"overlap 48", "patch size 48"}, usage: "overlap"},
		{name: "patch-below-minimum", setup: plain(64, 64), flags: []string{"--patch-size", "16"},
			req: engine.Request{PatchSize: 16}, want: []string{"patch size 16"}, usage: "patch-size"},
		{name: "negative-patch-size", setup: plain(64, 64), flags: []string{"--patch-size", "-64"},
			req: engine.Request{PatchSize: -64}, want: []string{"patch size -64"}, usage: "patch-size"},

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
		}, names: output, want: []string{"output path is an input"}, cause: engine.ErrOutputIsInput, code: exitUsage},
		{name: "output-is-symlink-to-input", setup: plain(64, 64), out: func(t *testing.T, e *env) {
			e.outDir = t.TempDir()
			e.output, e.explicit = filepath.Join(e.outDir, "link.tif"), true
			if err := os.Symlink(e.scenes[0], e.output); err != nil {
				t.Fatal(err)
			}
		}, names: output, want: []string{"output path is an input"}, cause: engine.ErrOutputIsInput, code: exitUsage},
		{name: "output-is-a-band-file-of-a-product-folder", setup: func(t *testing.T, in string) []string {
			dir := filepath.Join(in, "S2_product")
			os.Mkdir(dir, 0o755)
			for _, b := range []string{"B04", "B03", "B08"} {
				tif{w: 64, h: 64, bands: 1, names: []string{b}}.write(t, filepath.Join(dir, "T33_"+b+".tif"))
			}
			return []string{dir}
		}, out: func(t *testing.T, e *env) {
			e.outDir, e.output, e.explicit = e.scenes[0], filepath.Join(e.scenes[0], "T33_B04.tif"), true
		}, names: output, want: []string{"output path is an input"}, cause: engine.ErrOutputIsInput, code: exitUsage},
		{name: "confidence-output-is-input", setup: func(t *testing.T, in string) []string {
			return []string{tif{w: 64, h: 64}.write(t, filepath.Join(in, "m_confidence.tif"))}
		}, flags: []string{"--confidence", "uint8"}, req: engine.Request{Confidence: engine.ConfidenceUint8},
			out:   func(t *testing.T, e *env) { e.output, e.outDir, e.explicit = filepath.Join(e.in, "m.tif"), e.in, true },
			names: scene, want: []string{"output path is an input"}, cause: engine.ErrOutputIsInput, code: exitUsage},
		{name: "output-folder-missing", setup: plain(64, 64), out: func(t *testing.T, e *env) {
			e.outDir = filepath.Join(t.TempDir(), "nope")
			e.output = filepath.Join(e.outDir, "scene_omnimask.tif")
		}, names: func(e *env) string { return e.outDir }, want: []string{"does not exist"}},
		{name: "output-is-directory", setup: plain(64, 64), out: func(t *testing.T, e *env) {
			e.outDir = t.TempDir()
			e.output, e.explicit = filepath.Join(e.outDir, "sub"), true
			os.Mkdir(e.output, 0o755)
		}, names: output, want: []string{"directory"}, cause: engine.ErrOutputNotFile, code: exitUsage},
		{name: "output-folder-read-only", setup: plain(64, 64), out: func(t *testing.T, e *env) {
			e.outDir = testutil.ReadOnlyDir(t)
			e.output = filepath.Join(e.outDir, "scene_omnimask.tif")
		}, names: output, want: []string{"cannot create"}},
		{name: "disk-full", setup: plain(256, 256), flags: []string{"--confidence", "float32"},
			req: engine.Request{Confidence: engine.ConfidenceFloat32}, out: func(t *testing.T, e *env) {
				e.outDir = testutil.MountTmpfs(t, "32k", false)
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

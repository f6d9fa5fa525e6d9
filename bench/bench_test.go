// Package bench holds omnimask's end-to-end benchmarks (make bench): speed
// of the engine on synthetic Sentinel-2-like scenes at 2048², 5490² and
// 10980² pixels, its overhead over ONNX Runtime, peak memory of the CLI, and
// the machine's attainable FLOP/s measured with ONNX Runtime itself.
//
// Scenes are generated on first use into $OMNIMASK_BENCH_DIR (default
// $TMPDIR/omnimask-bench) and reused. OMNIMASK_BENCH_SIZES limits the sizes
// (e.g. "2048,5490").
package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/omnimask/omnimask/engine"
	"github.com/omnimask/omnimask/internal/synth"
)

func benchDir(tb testing.TB) string {
	d := os.Getenv("OMNIMASK_BENCH_DIR")
	if d == "" {
		d = filepath.Join(os.TempDir(), "omnimask-bench")
	}
	if err := os.MkdirAll(d, 0o755); err != nil {
		tb.Fatal(err)
	}
	return d
}

func sizes() []int {
	s := os.Getenv("OMNIMASK_BENCH_SIZES")
	if s == "" {
		return []int{2048, 5490, 10980}
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil {
			out = append(out, n)
		}
	}
	return out
}

var sceneMu sync.Mutex

// scene returns a cached synthetic uint16 Sentinel-2-like scene (blue,
// green, red, nir at 10 m, ~30% cloud, nodata corners).
func scene(tb testing.TB, size int) string {
	sceneMu.Lock()
	defer sceneMu.Unlock()
	path := filepath.Join(benchDir(tb), fmt.Sprintf("s2like_%d.tif", size))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	t0 := time.Now()
	g := synth.New(synth.Options{Width: size, Height: size, Seed: 42, NoDataCorners: true, CloudScale: 300,
		Bands: []string{"blue", "green", "red", "nir"}})
	tmp := path + ".part"
	if err := g.WriteGeoTIFF(tmp, synth.FileOptions{}); err != nil {
		tb.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("generated %s in %v", path, time.Since(t0).Round(time.Second))
	return path
}

func newEngine(tb testing.TB, opts engine.Options) *engine.Engine {
	e, err := engine.New(opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { e.Close() })
	return e
}

// predict runs one prediction to a file and reports engine and ORT time.
func predict(b *testing.B, e *engine.Engine, path string, req engine.Request) {
	req.Output = filepath.Join(b.TempDir(), "mask.tif")
	var wall, ort time.Duration
	var px, patchPx float64
	for b.Loop() {
		res, err := e.PredictFile(context.Background(), []string{path}, req)
		if err != nil {
			b.Fatal(err)
		}
		wall += res.Elapsed
		ort += res.InferTime
		px = float64(res.Plan.Size.X) * float64(res.Plan.Size.Y)
		patchPx = float64(res.Plan.Patches-res.Skipped) * float64(res.Plan.Patch*res.Plan.Patch)
	}
	n := float64(b.N)
	b.ReportMetric(px*n/1e6/wall.Seconds(), "Mpx/s")
	b.ReportMetric(wall.Seconds()/n/(px/1e6)*1e3, "ms/Mpx")
	// Tiles overlap, and how much depends on how the grid falls on the scene
	// (2048² needs 1.56 patch pixels per scene pixel, 10980² 1.83): time per
	// patch megapixel separates the engine's scaling from the tiling's.
	b.ReportMetric(wall.Seconds()/n/(patchPx/1e6)*1e3, "ms/patch-Mpx")
	b.ReportMetric(wall.Seconds()/ort.Seconds(), "engine/ort")
	b.ReportMetric(ort.Seconds()/n, "ort-s/op")
	if g := flops(b); g > 0 {
		// FLOPs the network actually executes (patches overlap) per second
		// of end-to-end time; compare with BenchmarkAttainable.
		b.ReportMetric(g*patchPx/1e6*n/wall.Seconds(), "GFLOP/s")
	}
}

// BenchmarkPredict: the default model end to end (read, preprocess, infer,
// stitch, write a COG) at each size, at native 10 m.
func BenchmarkPredict(b *testing.B) {
	e := newEngine(b, engine.Options{BatchSize: batchSize()})
	for _, n := range sizes() {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			predict(b, e, scene(b, n), engine.Request{})
		})
	}
}

// BenchmarkResolution: the same 10 m scene processed at 10, 20 and 30 m.
func BenchmarkResolution(b *testing.B) {
	e := newEngine(b, engine.Options{BatchSize: batchSize()})
	n := 5490
	if s := sizes(); len(s) > 0 && s[0] < n {
		n = s[0]
	}
	path := scene(b, n)
	for _, r := range []float64{10, 20, 30} {
		b.Run(fmt.Sprintf("%gm", r), func(b *testing.B) {
			predict(b, e, path, engine.Request{ProcessingResolution: r})
		})
	}
}

func batchSize() int {
	n, _ := strconv.Atoi(os.Getenv("OMNIMASK_BENCH_BATCH"))
	return n
}

// BenchmarkPeakRSS runs the CLI as a child process and reports its peak
// resident memory (rusage maxrss).
func BenchmarkPeakRSS(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "omnimask")
	build := exec.Command("go", "build", "-o", bin, "../cmd/omnimask")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	for _, n := range sizes() {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			path := scene(b, n)
			var peak int64
			for b.Loop() {
				cmd := exec.Command(bin, "predict", path, "-o", filepath.Join(b.TempDir(), "m.tif"), "--quiet")
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("%v\n%s", err, out)
				}
				if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
					peak = max(peak, ru.Maxrss*1024)
				}
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
		})
	}
}

// flops reads models/builtin/flops.json (written by models/train/flops.py):
// the default model's multiply-adds x2 per megapixel.
func flops(tb testing.TB) float64 {
	data, err := os.ReadFile("../models/builtin/flops.json")
	if err != nil {
		tb.Logf("no FLOP count: %v (run models/train/flops.py)", err)
		return 0
	}
	var f struct {
		GFLOPPerMpx float64 `json:"gflop_per_mpx"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		tb.Fatal(err)
	}
	return f.GFLOPPerMpx
}

package engine

// Concurrency, cancellation and leaks (issue 6):
//
//   - one Engine shared by 8 goroutines gives byte-identical masks (and
//     probabilities) to sequential runs of the same requests;
//   - cancelling the context stops a 5490x5490 prediction promptly, returns
//     context.Canceled and leaves no file (latency is logged; it is asserted
//     only with OMNIMASK_TIMING=1, and measured by BenchmarkCancelLatency);
//   - 100 predictions keep RSS flat and close every file, and 20 engines
//     created and closed leak no file descriptor, thread or memory.
//
// The heavy tests skip under -short; the 5490x5490 one also under -race
// (stopping times mean nothing there). Its scene is cached in the system's
// temporary folder (omnimask-test-5490-v1.tif, 28 MB; ~6 s to write once).

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airbusgeo/godal"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/internal/synth"
	"github.com/omnimask/omnimask/internal/testutil"
)

// concurrentJob is one prediction of the concurrency test.
type concurrentJob struct {
	name  string
	paths []string // PredictFile; nil = Predict(scene)
	scene *Scene
	req   Request
}

// concurrencyJobs writes 8 different scenes: sizes, seeds, resolutions that
// resample (5 m → 10 m up, 80 m coarser than the range), nodata corners,
// confidence outputs, blend windows and an in-memory scene.
func concurrencyJobs(t testing.TB) []concurrentJob {
	dir := t.TempDir()
	write := func(name string, o synth.Options, fo synth.FileOptions) string {
		p := filepath.Join(dir, name+".tif")
		if err := synth.New(o).WriteGeoTIFF(p, fo); err != nil {
			t.Fatal(err)
		}
		return p
	}
	rgn := []string{"red", "green", "nir"}
	jobs := []concurrentJob{
		{name: "native", paths: []string{write("a", synth.Options{Width: 211, Height: 173, Seed: 1, Bands: rgn}, synth.FileOptions{})},
			req: Request{PatchSize: 64, Overlap: 16}},
		{name: "resampled-5m", paths: []string{write("b", synth.Options{Width: 240, Height: 200, Seed: 2, ResolutionM: 5, Bands: rgn, NoDataCorners: true}, synth.FileOptions{})},
			req: Request{Confidence: ConfidenceFloat32}},
		{name: "processing-20m", paths: []string{write("c", synth.Options{Width: 260, Height: 190, Seed: 3, Bands: rgn}, synth.FileOptions{})},
			req: Request{ProcessingResolution: 20, Blend: 1}},
		{name: "coarse-80m", paths: []string{write("d", synth.Options{Width: 150, Height: 150, Seed: 4, ResolutionM: 80, Bands: rgn}, synth.FileOptions{Type: godal.Float32, Scale: 1})},
			req: Request{Overlap: -1}},
		{name: "nodata-corners", paths: []string{write("e", synth.Options{Width: 300, Height: 120, Seed: 5, Bands: []string{"blue", "green", "red", "nir"}, NoDataCorners: true}, synth.FileOptions{})},
			req: Request{PatchSize: 48, Overlap: 12, Blend: 2, Confidence: ConfidenceUint8}},
		{name: "bands-by-index", paths: []string{write("f", synth.Options{Width: 128, Height: 256, Seed: 6, Bands: []string{"nir", "red", "green"}}, synth.FileOptions{})},
			req: Request{Bands: "2,3,1", NoResample: true}},
		{name: "resampled-7m", paths: []string{write("g", synth.Options{Width: 199, Height: 221, Seed: 7, ResolutionM: 7, Bands: rgn}, synth.FileOptions{})},
			req: Request{PatchSize: 40}},
		{name: "in-memory", scene: synthScene(180, 140, 8), req: Request{Confidence: ConfidenceFloat32, PatchSize: 64}},
	}
	return jobs
}

func (j concurrentJob) run(ctx context.Context, e *Engine) (*Result, error) {
	if j.paths == nil {
		return e.Predict(ctx, j.scene, j.req)
	}
	return e.PredictFile(ctx, j.paths, j.req)
}

func TestConcurrentPredictionsMatchSequential(t *testing.T) {
	e := fakeEngine(t, Options{Models: []string{testModel("pointwise.onnx")}, Threads: 1, BatchSize: 2})
	jobs := concurrencyJobs(t)
	ctx := context.Background()
	want := make([]*Result, len(jobs))
	for i, j := range jobs {
		res, err := j.run(ctx, e)
		if err != nil {
			t.Fatalf("%s: %v", j.name, err)
		}
		want[i] = res
	}
	if !want[1].Plan.Resampled() || !want[6].Plan.Resampled() || !want[2].Plan.Resampled() {
		t.Fatal("the resampling jobs do not resample")
	}
	rounds := 2
	if testing.Short() {
		rounds = 1
	}
	for round := 0; round < rounds; round++ {
		got := make([]*Result, len(jobs))
		errs := make([]error, len(jobs))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range jobs {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				<-start
				// The second round runs the jobs in reverse so different
				// pairs overlap.
				k := i
				if round == 1 {
					k = len(jobs) - 1 - i
				}
				got[k], errs[k] = jobs[k].run(ctx, e)
			}(i)
		}
		close(start)
		wg.Wait()
		for i, j := range jobs {
			if errs[i] != nil {
				t.Fatalf("round %d, %s: %v", round, j.name, errs[i])
			}
			if !bytes.Equal(got[i].Mask.Pix, want[i].Mask.Pix) {
				t.Errorf("round %d, %s: concurrent mask differs from the sequential one", round, j.name)
			}
			if got[i].ClassCounts != want[i].ClassCounts || got[i].Skipped != want[i].Skipped {
				t.Errorf("round %d, %s: counts differ", round, j.name)
			}
			if (want[i].Probabilities == nil) != (got[i].Probabilities == nil) {
				t.Fatalf("round %d, %s: probabilities present in one run only", round, j.name)
			}
			if want[i].Probabilities != nil {
				for k, v := range want[i].Probabilities.Pix {
					w := got[i].Probabilities.Pix[k]
					if math.Float32bits(v) != math.Float32bits(w) && !(v != v && w != w) {
						t.Errorf("round %d, %s: probability %d is %v, sequentially %v", round, j.name, k, w, v)
						break
					}
				}
			}
		}
	}
}

// Writing files concurrently: each goroutine writes its own mask; the files
// match the in-memory masks of the same requests.
func TestConcurrentPredictFileOutputs(t *testing.T) {
	e := fakeEngine(t, Options{Models: []string{testModel("pointwise.onnx")}, Threads: 1})
	jobs := concurrencyJobs(t)
	out := t.TempDir()
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, len(jobs))
	mem := make([]*Result, len(jobs))
	for i := range jobs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			j := jobs[i]
			if mem[i], errs[i] = j.run(ctx, e); errs[i] != nil {
				return
			}
			j.req.Output = filepath.Join(out, fmt.Sprintf("%d.tif", i))
			_, errs[i] = j.run(ctx, e)
		}(i)
	}
	wg.Wait()
	for i, j := range jobs {
		if errs[i] != nil {
			t.Fatalf("%s: %v", j.name, errs[i])
		}
		ds, err := godal.Open(filepath.Join(out, fmt.Sprintf("%d.tif", i)))
		if err != nil {
			t.Fatal(err)
		}
		r := mem[i].Mask.Rect
		pix := make([]uint8, r.Dx()*r.Dy())
		err = ds.Bands()[0].Read(0, 0, pix, r.Dx(), r.Dy())
		ds.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(pix, mem[i].Mask.Pix) {
			t.Errorf("%s: file mask differs from the in-memory mask", j.name)
		}
	}
	// Only the masks (with their category names' .aux.xml) and the
	// confidence files asked for are left: no temporary file from any
	// goroutine.
	for _, n := range testutil.DirNames(t, out) {
		if !strings.HasSuffix(strings.TrimSuffix(n, ".aux.xml"), ".tif") || strings.Contains(n, ".tmp") {
			t.Errorf("left behind: %s", n)
		}
	}
}

// --- cancellation of a Sentinel-2-sized prediction ---

var (
	bigSceneOnce sync.Once
	bigScenePath string
	bigSceneErr  error
)

// bigScene returns a 5490x5490 (Sentinel-2 tile sized) red/green/nir uint16
// scene, written once (atomically) in the system's temporary folder and
// reused by later test binaries. Its pixels are a cheap smooth pattern with
// nodata corners, not synth's clouds: the cancellation tests need the size,
// and synth takes half a minute for it.
func bigScene(tb testing.TB) string {
	if testing.Short() {
		tb.Skip("a 5490x5490 scene is too heavy for -short")
	}
	bigSceneOnce.Do(func() {
		const n = 5490
		bigScenePath = filepath.Join(os.TempDir(), "omnimask-test-5490-v1.tif")
		if s, err := gdalio.Open(bigScenePath); err == nil {
			ok := s.Size == image.Pt(n, n) && len(s.Bands) == 3
			s.Close()
			if ok {
				return
			}
		}
		t0 := time.Now()
		tmp := fmt.Sprintf("%s.part-%d", bigScenePath, os.Getpid())
		bigSceneErr = writePattern(tmp, n)
		if bigSceneErr == nil {
			bigSceneErr = os.Rename(tmp, bigScenePath)
		}
		os.Remove(tmp)
		tb.Logf("wrote %s in %v", bigScenePath, time.Since(t0).Round(time.Millisecond))
	})
	if bigSceneErr != nil {
		tb.Fatal(bigSceneErr)
	}
	return bigScenePath
}

func writePattern(path string, n int) error {
	gdalio.Register()
	ds, err := godal.Create(godal.GTiff, path, 3, godal.UInt16, n, n,
		godal.CreationOption("TILED=YES", "COMPRESS=DEFLATE", "ZLEVEL=1", "PREDICTOR=2"))
	if err != nil {
		return err
	}
	geo := synth.New(synth.Options{}).Geo()
	if err := errors.Join(ds.SetGeoTransform(geo.Transform), ds.SetProjection(geo.CRS)); err != nil {
		ds.Close()
		return err
	}
	const rows = 512
	buf := make([]uint16, n*rows)
	for c, b := range ds.Bands() {
		if err := errors.Join(b.SetDescription([]string{"red", "green", "nir"}[c]), b.SetNoData(0)); err != nil {
			ds.Close()
			return err
		}
		for y0 := 0; y0 < n; y0 += rows {
			h := min(rows, n-y0)
			for y := y0; y < y0+h; y++ {
				row := buf[(y-y0)*n : (y-y0+1)*n]
				for x := range row {
					if x+y < n/5 || 2*n-2-x-y < n/5 {
						row[x] = 0
						continue
					}
					v := 1500 + 1200*math.Sin(float64(x)/(97+13*float64(c)))*math.Cos(float64(y)/(131-17*float64(c)))
					row[x] = uint16(v)
				}
			}
			if err := b.Write(0, y0, buf[:n*h], n, h); err != nil {
				ds.Close()
				return err
			}
		}
	}
	return ds.Close()
}

// cancelAfter predicts path to a file in a fresh folder, cancels once
// `after` patches are done and returns how long the prediction took to
// return after the cancel.
func cancelAfter(tb testing.TB, e *Engine, path string, after int) time.Duration {
	dir := tb.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	var at time.Time
	req := Request{Output: filepath.Join(dir, "mask.tif"), PatchSize: 512, Confidence: ConfidenceUint8,
		Progress: func(p Progress) {
			if p.Done >= after {
				once.Do(func() { at = time.Now(); cancel() })
			}
		}}
	_, err := e.PredictFile(ctx, []string{path}, req)
	lat := time.Since(at)
	if at.IsZero() {
		tb.Fatalf("finished before %d patches (err %v)", after, err)
	}
	if !errors.Is(err, context.Canceled) {
		tb.Fatalf("err = %v, want context.Canceled", err)
	}
	if strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), path) {
		tb.Errorf("error %q should be one line naming the scene", err)
	}
	if n := testutil.DirNames(tb, dir); len(n) != 0 {
		tb.Fatalf("left behind after cancel: %v", n)
	}
	return lat
}

func TestCancel5490WithinASecond(t *testing.T) {
	if raceEnabled {
		t.Skip("stopping times under -race say nothing; run without -race")
	}
	path := bigScene(t)
	e := newEngine(t, Options{Models: []string{testModel("pointwise.onnx")}})
	var worst time.Duration
	for _, after := range []int{2, 45} {
		lat := cancelAfter(t, e, path, after)
		t.Logf("cancel after %d patches: PredictFile returned %v later", after, lat)
		worst = max(worst, lat)
	}
	if os.Getenv("OMNIMASK_TIMING") != "" && worst > time.Second {
		t.Errorf("cancellation took %v, want < 1 s", worst)
	}
}

// BenchmarkCancelLatency reports how long a 5490x5490 prediction takes to
// stop once its context is cancelled (ms/cancel), a few patches in.
func BenchmarkCancelLatency(b *testing.B) {
	path := bigScene(b)
	e := newEngine(b, Options{Models: []string{testModel("pointwise.onnx")}})
	var total time.Duration
	for b.Loop() {
		total += cancelAfter(b, e, path, 10)
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/cancel")
}

// --- leaks ---

// settle returns RSS in kB after collecting garbage and returning memory to
// the OS.
func settle(t testing.TB) int64 {
	runtime.GC()
	debug.FreeOSMemory()
	return testutil.ProcStatus(t, "VmRSS")
}

func fdDiff(before, after map[string]string) []string {
	var d []string
	for fd, l := range after {
		if before[fd] != l {
			d = append(d, fd+" -> "+l)
		}
	}
	return d
}

// rssLimitKB is the growth allowed after warm-up; the race detector's
// shadow memory grows with the heap, so it gets more room.
func rssLimitKB() int64 {
	if raceEnabled {
		return 80 << 10
	}
	return 30 << 10
}

func TestNoLeaksOver100Predictions(t *testing.T) {
	if testing.Short() {
		t.Skip("100 predictions are too slow for -short")
	}
	dir := t.TempDir()
	scene, _ := writeScene(t, dir, 160, 140, 10)
	fine, _ := writeScene(t, t.TempDir(), 200, 180, 5) // resampled 5 m -> 10 m
	bad := filepath.Join(dir, "bad.tif")
	if err := os.WriteFile(bad, []byte("not a raster"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "mask.tif")
	e := newEngine(t, Options{Models: []string{testModel("pointwise.onnx")}, Threads: 1})
	ctx := context.Background()
	mem := synthScene(120, 100, 3)
	one := func(i int) {
		var err error
		switch i % 5 {
		case 0:
			_, err = e.PredictFile(ctx, []string{scene}, Request{Output: out, Confidence: ConfidenceUint8})
		case 1:
			_, err = e.PredictFile(ctx, []string{fine}, Request{})
		case 2:
			_, err = e.Predict(ctx, mem, Request{Confidence: ConfidenceFloat32})
		case 3:
			_, err = e.PredictFile(ctx, []string{bad}, Request{Output: out})
			if err == nil {
				t.Fatal("a text file predicted")
			}
			err = nil
		case 4:
			c, cancel := context.WithCancel(ctx)
			_, err = e.PredictFile(c, []string{fine}, Request{Output: out, PatchSize: 32, Progress: func(p Progress) {
				if p.Done > 2 {
					cancel()
				}
			}})
			cancel()
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want canceled", err)
			}
			err = nil
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 20; i++ { // warm-up: caches, arenas, thread pools
		one(i)
	}
	fds0, rss0, thr0 := testutil.OpenFDs(t), settle(t), testutil.ProcStatus(t, "Threads")
	t0 := time.Now()
	for i := 0; i < 100; i++ {
		one(i)
	}
	fds1, rss1, thr1 := testutil.OpenFDs(t), settle(t), testutil.ProcStatus(t, "Threads")
	t.Logf("100 predictions in %v: RSS %d -> %d kB (%+d), %d -> %d fds, %d -> %d threads",
		time.Since(t0).Round(time.Millisecond), rss0, rss1, rss1-rss0, len(fds0), len(fds1), thr0, thr1)
	if d := fdDiff(fds0, fds1); len(d) > 0 {
		t.Errorf("file descriptors left open: %v", d)
	}
	if rss1-rss0 > rssLimitKB() {
		t.Errorf("RSS grew by %d kB over 100 predictions", rss1-rss0)
	}
	if thr1 > thr0+4 {
		t.Errorf("threads grew from %d to %d", thr0, thr1)
	}
	if n := testutil.DirNames(t, filepath.Dir(out)); len(n) != 3 { // mask.tif, mask.tif.aux.xml, mask_confidence.tif
		t.Errorf("output folder holds %v", n)
	}
}

func TestNoLeaksOver20Engines(t *testing.T) {
	if testing.Short() {
		t.Skip("20 engines are too slow for -short")
	}
	requireORT(t)
	sc := synthScene(96, 96, 1)
	cycle := func() {
		e, err := New(Options{Models: []string{testModel("pointwise.onnx"), testModel("pointwise_b.onnx")}, Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Predict(context.Background(), sc, Request{}); err != nil {
			t.Fatal(err)
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		if err := e.Close(); err != nil { // twice is fine
			t.Fatal(err)
		}
	}
	for i := 0; i < 3; i++ {
		cycle()
	}
	fds0, rss0, thr0 := testutil.OpenFDs(t), settle(t), testutil.ProcStatus(t, "Threads")
	for i := 0; i < 20; i++ {
		cycle()
	}
	fds1, rss1, thr1 := testutil.OpenFDs(t), settle(t), testutil.ProcStatus(t, "Threads")
	t.Logf("20 engines: RSS %d -> %d kB (%+d), %d -> %d fds, %d -> %d threads", rss0, rss1, rss1-rss0, len(fds0), len(fds1), thr0, thr1)
	if d := fdDiff(fds0, fds1); len(d) > 0 {
		t.Errorf("file descriptors left open: %v", d)
	}
	if rss1-rss0 > rssLimitKB() {
		t.Errorf("RSS grew by %d kB over 20 engines", rss1-rss0)
	}
	// Each leaked session would keep its intra-op thread pool.
	if thr1 > thr0+4 {
		t.Errorf("threads grew from %d to %d: sessions not released?", thr0, thr1)
	}
}

// A closed engine refuses work with an error; closing while predictions
// are in flight neither crashes nor hangs (see also
// TestCloseWaitsForPredictionsInFlight).
func TestCloseWhilePredicting(t *testing.T) {
	sc := synthScene(400, 400, 2)
	e := fakeEngine(t, Options{Models: []string{testModel("pointwise.onnx")}, Threads: 1})
	started := make(chan struct{})
	var once sync.Once
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		go func() {
			_, err := e.Predict(context.Background(), sc, Request{PatchSize: 32, Progress: func(Progress) {
				once.Do(func() { close(started) })
			}})
			errs <- err
		}()
	}
	<-started
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		select {
		case err := <-errs:
			t.Logf("prediction in flight at Close: %v", err)
		case <-time.After(30 * time.Second):
			t.Fatal("a prediction hangs after Close")
		}
	}
	_, err := e.Predict(context.Background(), sc, Request{})
	if err == nil {
		t.Fatal("a closed engine predicted")
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("multi-line error %q", err)
	}
	t.Logf("after Close: %v", err)
}

// raceEnabled reports whether the test binary was built with -race.
var raceEnabled = func() bool {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" {
				return s.Value == "true"
			}
		}
	}
	return false
}()

// Engine.Close is documented to wait for predictions in flight: those
// finish normally, only later ones fail.
func TestCloseWaitsForPredictionsInFlight(t *testing.T) {
	sc := synthScene(300, 300, 2)
	e := fakeEngine(t, Options{Models: []string{testModel("pointwise.onnx")}, Threads: 1})
	var started sync.WaitGroup // both predictions under way
	started.Add(2)
	errs := make(chan error, 2)
	for i := 0; i < 2; i++ {
		go func() {
			var once sync.Once
			_, err := e.Predict(context.Background(), sc, Request{PatchSize: 32, Progress: func(Progress) {
				once.Do(started.Done)
			}})
			errs <- err
		}()
	}
	started.Wait()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := <-errs; err != nil {
			t.Errorf("prediction in flight at Close failed: %v", err)
		}
	}
}

// TestStreamsMatchOneStream: running inference calls concurrently (each on
// its own thread) changes nothing in the outputs: masks, probabilities and
// counts are byte-identical to one stream, for single models and ensembles
// and for batches of 1 and 2.
func TestStreamsMatchOneStream(t *testing.T) {
	jobs := concurrencyJobs(t)
	ctx := context.Background()
	single := []string{testModel("pointwise.onnx")}
	ensemble := []string{testModel("pointwise.onnx"), testModel("pointwise_b.onnx")}
	for _, tc := range []struct {
		models         []string
		batch, streams int
	}{
		{single, 1, 2},
		{single, 2, 3},
		{ensemble, 1, 2},
	} {
		one := fakeEngine(t, Options{Models: tc.models, Threads: 1, BatchSize: tc.batch})
		e := fakeEngine(t, Options{Models: tc.models, Threads: tc.streams, Streams: tc.streams, BatchSize: tc.batch})
		if e.opts.Streams != tc.streams {
			t.Fatalf("engine runs %d streams, want %d", e.opts.Streams, tc.streams)
		}
		for _, j := range jobs {
			name := fmt.Sprintf("%d models, batch %d, %d streams, %s", len(tc.models), tc.batch, tc.streams, j.name)
			want, err := j.run(ctx, one)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			got, err := j.run(ctx, e)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !bytes.Equal(got.Mask.Pix, want.Mask.Pix) || got.ClassCounts != want.ClassCounts || got.Skipped != want.Skipped {
				t.Errorf("%s: mask or counts differ from one stream", name)
			}
			if want.Probabilities != nil && !sameBits(got.Probabilities.Pix, want.Probabilities.Pix) {
				t.Errorf("%s: probabilities differ from one stream", name)
			}
		}
	}
}

// sameBits reports whether a and b hold the same float32 bit patterns.
func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// TestCancelWithStreams: cancelling while several inference calls are in
// flight returns context.Canceled promptly, whichever stage notices first,
// and leaves no output.
func TestCancelWithStreams(t *testing.T) {
	e := fakeEngine(t, Options{Models: []string{testModel("pointwise.onnx"), testModel("pointwise_b.onnx")}, Threads: 2, Streams: 2})
	dir := t.TempDir()
	in := filepath.Join(dir, "in.tif")
	if err := synth.New(synth.Options{Width: 700, Height: 600, Seed: 9, Bands: []string{"red", "green", "nir"}}).WriteGeoTIFF(in, synth.FileOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, after := range []int{1, 5, 20} {
		t.Run(strconv.Itoa(after), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			out := filepath.Join(dir, fmt.Sprintf("m%d.tif", after))
			req := Request{Output: out, PatchSize: 64, Overlap: 16, Progress: func(p Progress) {
				if p.Done >= after {
					cancel()
				}
			}}
			done := make(chan error, 1)
			go func() { _, err := e.PredictFile(ctx, []string{in}, req); done <- err }()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("error %v, want context.Canceled", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("prediction did not stop after cancel")
			}
			if left, _ := filepath.Glob(out + "*"); len(left) > 0 {
				t.Errorf("files left: %v", left)
			}
		})
	}
}

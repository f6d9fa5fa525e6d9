package embed

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/omnimask/omnimask/internal/ort"
)

// TestChipsSpeed (OMNIMASK_EMBED_BENCH=scene.tif, uint16 DN scaled by
// 0.0001; see README "Embeddings" for the scene) times Chips against raw
// ONNX Runtime on exactly the same work: a first, untimed Chips run records
// every batch it hands to the encoder (the normalised chips and their
// count); the raw baseline then runs those recorded batches, in the same
// order and sizes, through a session with the same options into one reused
// output buffer, with nothing else running in the process.
// Engine and raw runs alternate (the order swapped every pair) for
// OMNIMASK_EMBED_BENCH_PAIRS pairs (default 3); the test logs every pair,
// the medians, their ratio and the load average. OMNIMASK_EMBED_BENCH_THREADS
// sets the threads (default: one per core) and
// OMNIMASK_EMBED_BENCH_NOSPIN=1 stops idle ORT threads spinning. The engine
// runs as `omnimask embed` does: OMNIMASK_EMBED_BENCH_STREAMS calls at once
// (default 2), each on its own session of threads/streams intra-op threads;
// the raw baseline runs the batches one after another on one session of
// all the threads, ONNX Runtime's default. A second raw replay runs them as
// the engine does (Streams calls at once on the engine's sessions) after
// each pair, and the test logs the engine's median over its median too.
func TestChipsSpeed(t *testing.T) {
	scene := os.Getenv("OMNIMASK_EMBED_BENCH")
	if scene == "" {
		t.Skip("OMNIMASK_EMBED_BENCH not set")
	}
	pairs, threads, streams := 3, 0, min(2, runtime.NumCPU()) // as omnimask embed runs
	if v := os.Getenv("OMNIMASK_EMBED_BENCH_PAIRS"); v != "" {
		pairs, _ = strconv.Atoi(v)
	}
	if v := os.Getenv("OMNIMASK_EMBED_BENCH_THREADS"); v != "" {
		threads, _ = strconv.Atoi(v)
	}
	if v := os.Getenv("OMNIMASK_EMBED_BENCH_STREAMS"); v != "" {
		streams, _ = strconv.Atoi(v)
	}
	setup(t)
	nospin := os.Getenv("OMNIMASK_EMBED_BENCH_NOSPIN") == "1"
	// The raw baseline: one session on all cores (threads), batches one
	// after another, as plain ONNX Runtime code runs them.
	e, err := Load("mobilenetv2-imagenet", ort.Options{Threads: threads, NoSpinning: nospin})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	// The engine: Streams calls at once, each on threads/Streams threads.
	eng := e
	if streams > 1 {
		n := threads
		if n == 0 {
			n = runtime.NumCPU()
		}
		if eng, err = Load("mobilenetv2-imagenet", ort.Options{Threads: max(1, n/streams), NoSpinning: nospin}); err != nil {
			t.Fatal(err)
		}
		defer eng.Close()
	}
	out := filepath.Join(t.TempDir(), "e.tif")
	o := Options{Scale: 0.0001, Chip: 32, Batch: 64, Streams: streams}

	// The untimed recording run (also the warm-up).
	var batches [][]float32
	rec := o
	rec.onBatch = func(in []float32, n int) { batches = append(batches, slices.Clone(in)) }
	first, err := Chips(context.Background(), eng, []string{scene}, out, rec)
	if err != nil {
		t.Fatal(err)
	}
	C, cs := int64(len(e.Manifest.Bands)), int64(o.Chip)
	per := int(C * cs * cs)
	fm := make([]float32, o.Batch*e.Dim()) // the encoder pools to 1x1 at 32 px
	raw := func() time.Duration {
		t0 := time.Now()
		for _, b := range batches {
			n := int64(len(b) / per)
			if _, err := e.runInto(b, [4]int64{n, C, cs, cs}, fm); err != nil {
				t.Fatal(err)
			}
		}
		return time.Since(t0)
	}
	// rawStreams replays the batches as the engine runs them: streams calls
	// at once on the engine's session(s), each worker taking the next batch.
	rawStreams := func() time.Duration {
		t0 := time.Now()
		next := make(chan []float32)
		var wg sync.WaitGroup
		for range streams {
			wg.Add(1)
			go func() {
				defer wg.Done()
				buf := make([]float32, o.Batch*eng.Dim())
				for b := range next {
					n := int64(len(b) / per)
					if _, err := eng.runInto(b, [4]int64{n, C, cs, cs}, buf); err != nil {
						t.Error(err)
					}
				}
			}()
		}
		for _, b := range batches {
			next <- b
		}
		close(next)
		wg.Wait()
		return time.Since(t0)
	}
	var inside time.Duration // the last engine run's time inside ONNX Runtime
	engine := func() time.Duration {
		res, err := Chips(context.Background(), eng, []string{scene}, out, o)
		if err != nil {
			t.Fatal(err)
		}
		inside = res.Infer
		if res.Chips != first.Chips {
			t.Fatalf("%d chips, the recording run had %d", res.Chips, first.Chips)
		}
		return res.Total
	}
	st, _ := os.Stat(out)
	t.Logf("%dx%d chips, %d embedded in %d batches, %d nodata; output %d bytes; load average %s",
		first.Cols, first.Rows, first.Chips, len(batches), first.NoDataChips, st.Size(), loadavg())
	var es, rs, r2s, ratios []float64
	for i := range pairs {
		if streams > 1 {
			_, d := cpu(rawStreams)
			r2s = append(r2s, d.Seconds())
		}
		var te, tr, ce, cr time.Duration
		if i%2 == 0 {
			ce, te = cpu(engine)
			cr, tr = cpu(raw)
		} else {
			cr, tr = cpu(raw)
			ce, te = cpu(engine)
		}
		es, rs, ratios = append(es, te.Seconds()), append(rs, tr.Seconds()), append(ratios, te.Seconds()/tr.Seconds())
		t.Logf("pair %d: engine %.2fs (CPU %.2fs, inside ORT %.2fs, %.0f chips/s), raw ORT %.2fs (CPU %.2fs), ratio %.3f; load average %s",
			i+1, te.Seconds(), ce.Seconds(), inside.Seconds(), float64(first.Chips)/te.Seconds(), tr.Seconds(), cr.Seconds(), te.Seconds()/tr.Seconds(), loadavg())
	}
	me, mr := median(es), median(rs)
	t.Logf("medians of %d pairs: engine %.2fs (%.0f chips/s), raw ORT %.2fs, ratio of medians %.3f, median ratio %.3f",
		pairs, me, float64(first.Chips)/me, mr, me/mr, median(ratios))
	if len(r2s) > 0 {
		t.Logf("raw ORT run as the engine runs it (%d calls at once, one after each pair): median %.2fs, engine / that %.3f", streams, median(r2s), me/median(r2s))
	}
}

// cpu runs f and returns the process's CPU time (user + system) and f's result.
func cpu(f func() time.Duration) (time.Duration, time.Duration) {
	var a, b syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &a)
	d := f()
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &b)
	used := time.Duration(b.Utime.Nano() - a.Utime.Nano() + b.Stime.Nano() - a.Stime.Nano())
	return used, d
}

func median(v []float64) float64 {
	s := slices.Sorted(slices.Values(v))
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

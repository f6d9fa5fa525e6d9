package engine

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omnimask/omnimask/raster"
)

// gatedEngine is a fake engine whose model blocks in every Run until the
// returned gate is closed (close it at most once); entered receives a value
// when a Run starts waiting.
func gatedEngine(t *testing.T, opts Options) (e *Engine, gate chan struct{}, entered chan struct{}) {
	t.Helper()
	opts.Models = []string{testModel("pointwise.onnx")}
	opts.Threads = 1
	e = fakeEngine(t, opts)
	gate, entered = make(chan struct{}), make(chan struct{}, 1000)
	e.models[0].run.(*fakeRunner).hold = func() {
		entered <- struct{}{}
		<-gate
	}
	return e, gate, entered
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// The engine's memory budget admits predictions by their plan's estimate:
// one that does not fit waits, or fails at once with ErrBusy when asked
// not to wait; one larger than the whole budget fails with ErrTooLarge.
func TestMemoryBudget(t *testing.T) {
	sc := synthScene(160, 160, 4)
	req := Request{PatchSize: 64}
	probe := fakeEngine(t, Options{Models: []string{testModel("pointwise.onnx")}, Threads: 1})
	p, err := probe.PlanScene(sc, req)
	if err != nil {
		t.Fatal(err)
	}
	if p.Memory <= 0 {
		t.Fatalf("PlanScene estimate %d", p.Memory)
	}

	t.Run("too large", func(t *testing.T) {
		e := fakeEngine(t, Options{Models: []string{testModel("pointwise.onnx")}, Threads: 1, MemoryBudget: p.Memory - 1})
		_, err := e.Predict(context.Background(), sc, req)
		if !errors.Is(err, ErrTooLarge) || errors.Is(err, ErrBusy) {
			t.Fatalf("err = %v, want ErrTooLarge", err)
		}
	})

	// Room for one prediction: the second waits, or fails fast.
	e, gate, entered := gatedEngine(t, Options{MemoryBudget: p.Memory + p.Memory/2})
	first := make(chan error, 1)
	go func() { _, err := e.Predict(context.Background(), sc, req); first <- err }()
	<-entered
	if got := e.Budget(); got.InUse != p.Memory || got.Total != p.Memory+p.Memory/2 {
		t.Fatalf("budget %+v with one prediction of %d in flight", got, p.Memory)
	}
	t0 := time.Now()
	_, err = e.Predict(context.Background(), sc, Request{PatchSize: 64, NoWait: true})
	if !errors.Is(err, ErrBusy) || errors.Is(err, ErrInternal) {
		t.Fatalf("NoWait: err = %v, want ErrBusy", err)
	}
	if d := time.Since(t0); d > time.Second {
		t.Errorf("NoWait took %v", d)
	}
	// A waiter gives up with its context.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	_, err = e.Predict(ctx, sc, req)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting with a deadline: err = %v", err)
	}
	second := make(chan error, 1)
	go func() { _, err := e.Predict(context.Background(), sc, req); second <- err }()
	waitFor(t, "the second prediction to wait", func() bool { return e.Budget().Waiting == 1 })
	close(gate)
	for _, ch := range []chan error{first, second} {
		if err := <-ch; err != nil {
			t.Fatal(err)
		}
	}
	if got := e.Budget(); got.InUse != 0 || got.Waiting != 0 || got.Peak != p.Memory {
		t.Errorf("budget after the runs %+v, want nothing in use and a peak of one prediction (%d)", got, p.Memory)
	}
}

// Many goroutines under a budget for two: never more than two admitted,
// all succeed.
func TestMemoryBudgetUnderLoad(t *testing.T) {
	sc := synthScene(96, 96, 5)
	req := Request{PatchSize: 32}
	probe := fakeEngine(t, Options{Models: []string{testModel("pointwise.onnx")}, Threads: 1})
	p, err := probe.PlanScene(sc, req)
	if err != nil {
		t.Fatal(err)
	}
	e := fakeEngine(t, Options{Models: []string{testModel("pointwise.onnx")}, Threads: 1, MemoryBudget: 2 * p.Memory})
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.Predict(context.Background(), sc, req); err != nil {
				failed.Add(1)
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := e.Budget(); got.Peak > 2*p.Memory || got.InUse != 0 {
		t.Errorf("budget %+v, want a peak of at most %d", got, 2*p.Memory)
	}
}

// Shutdown refuses new calls at once, also those waiting for budget, lets
// the calls in flight run until its context expires, then cancels them:
// they return ErrClosed and leave no file.
func TestShutdown(t *testing.T) {
	sc := synthScene(160, 160, 4)
	req := Request{PatchSize: 64}
	probe := fakeEngine(t, Options{Models: []string{testModel("pointwise.onnx")}, Threads: 1})
	p, err := probe.PlanScene(sc, req)
	if err != nil {
		t.Fatal(err)
	}
	e, gate, entered := gatedEngine(t, Options{MemoryBudget: p.Memory})
	dir := t.TempDir()
	inFlight := make(chan error, 1)
	go func() {
		_, err := e.Predict(context.Background(), sc, Request{PatchSize: 64, Output: filepath.Join(dir, "mask.tif")})
		inFlight <- err
	}()
	<-entered
	waiting := make(chan error, 1)
	go func() { _, err := e.Predict(context.Background(), sc, req); waiting <- err }()
	waitFor(t, "a prediction waiting for budget", func() bool { return e.Budget().Waiting == 1 })

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- e.Shutdown(ctx) }()
	waitFor(t, "Shutdown to begin", func() bool { e.mu.Lock(); defer e.mu.Unlock(); return e.closed })
	t0 := time.Now()
	if _, err := e.Predict(context.Background(), sc, req); !errors.Is(err, ErrClosed) {
		t.Errorf("a call after Shutdown began: err = %v, want ErrClosed", err)
	}
	if _, err := e.Inspect(context.Background(), []string{"x.tif"}, req); !errors.Is(err, ErrClosed) {
		t.Errorf("Inspect after Shutdown began: err = %v, want ErrClosed", err)
	}
	if d := time.Since(t0); d > 100*time.Millisecond {
		t.Errorf("refusing took %v", d)
	}
	if err := <-waiting; !errors.Is(err, ErrClosed) {
		t.Errorf("the call waiting for budget: err = %v, want ErrClosed", err)
	}
	select {
	case err := <-inFlight:
		t.Fatalf("the call in flight returned before Shutdown's deadline: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	<-ctx.Done()
	// The model call in flight is not interruptible (ONNX Runtime's is
	// not either): the run stops at the next stage boundary.
	close(gate)
	if err := <-inFlight; !errors.Is(err, ErrClosed) || strings.Contains(err.Error(), "\n") {
		t.Errorf("the call in flight: err = %v, want ErrClosed", err)
	}
	if err := <-shut; !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v, want its context's error", err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("left in the output folder: %v", left)
	}
	if err := e.Close(); err != nil {
		t.Errorf("Close after Shutdown: %v", err)
	}
}

// Shutdown with time enough lets the calls in flight finish normally.
func TestShutdownLetsCallsFinish(t *testing.T) {
	sc := synthScene(128, 128, 4)
	e, gate, entered := gatedEngine(t, Options{})
	done := make(chan error, 1)
	go func() { _, err := e.Predict(context.Background(), sc, Request{PatchSize: 64}); done <- err }()
	<-entered
	time.AfterFunc(50*time.Millisecond, func() { close(gate) })
	if err := e.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("the call in flight: %v", err)
	}
}

// A slow progress callback does not stretch the run: values are coalesced,
// calls never overlap, and the last one reports the whole grid.
func TestSlowProgressDoesNotStall(t *testing.T) {
	sc := synthScene(256, 256, 6)
	e := fakeEngine(t, Options{Models: []string{testModel("pointwise.onnx")}, Threads: 1})
	var calls, inside, overlap atomic.Int64
	var last Progress
	res, err := e.Predict(context.Background(), sc, Request{PatchSize: 32, Overlap: -1, Progress: func(p Progress) {
		if inside.Add(1) > 1 {
			overlap.Add(1)
		}
		calls.Add(1)
		last = p
		time.Sleep(40 * time.Millisecond)
		inside.Add(-1)
	}})
	if err != nil {
		t.Fatal(err)
	}
	n := int64(res.Plan.Patches)
	if n < 64 {
		t.Fatalf("%d patches; the test needs many", n)
	}
	if c := calls.Load(); c >= n {
		t.Errorf("%d callbacks for %d patches: not coalesced", c, n)
	}
	if overlap.Load() > 0 {
		t.Error("callbacks overlapped")
	}
	if last.Done != last.Total || last.Total != int(n) {
		t.Errorf("last progress %+v, want %d of %d", last, n, n)
	}
	// Serial callbacks would take n x 40 ms.
	if limit := time.Duration(n) * 40 * time.Millisecond / 2; res.Elapsed > limit {
		t.Errorf("run took %v with a slow callback (serial: %v)", res.Elapsed, 2*limit)
	}
}

// Warnings go to the call's logger (Request.Logger, else the context's),
// with the scene named.
func TestRequestLogger(t *testing.T) {
	var engineLog bytes.Buffer
	e := fakeEngine(t, Options{Models: []string{testModel("pointwise.onnx")}, Threads: 1,
		Logger: slog.New(slog.NewTextHandler(&engineLog, nil))})
	nan := raster.NewFloat32(3, synthScene(64, 64, 1).Bands.Rect)
	for i := range nan.Pix {
		nan.Pix[i] = float32(math.NaN())
	}
	sc := &Scene{Bands: nan, Names: []string{"red", "green", "nir"}}
	var reqLog, ctxLog bytes.Buffer
	if _, err := e.Predict(context.Background(), sc, Request{Resolution: 10, Logger: slog.New(slog.NewTextHandler(&reqLog, nil))}); err != nil {
		t.Fatal(err)
	}
	ctx := WithLogger(context.Background(), slog.New(slog.NewTextHandler(&ctxLog, nil)))
	if _, err := e.Predict(ctx, sc, Request{Resolution: 10}); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string]*bytes.Buffer{"Request.Logger": &reqLog, "WithLogger": &ctxLog} {
		if s := b.String(); !strings.Contains(s, "no valid pixel") || !strings.Contains(s, "scene=in-memory") || !strings.Contains(s, "model=") {
			t.Errorf("%s got %q", name, s)
		}
	}
	if engineLog.Len() != 0 {
		t.Errorf("the engine's logger got %q", engineLog.String())
	}
}

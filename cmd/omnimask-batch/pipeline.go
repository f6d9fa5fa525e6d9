package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/omnimask/omnimask/batch"
	"github.com/omnimask/omnimask/engine"
	"github.com/omnimask/omnimask/internal/cmdline"
)

func init() {
	beam.RegisterType(reflect.TypeOf((*batch.Item)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*batch.Record)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*batch.Summary)(nil)).Elem())
	register.DoFn3x1[context.Context, batch.Item, func(batch.Record), error](&predictFn{})
	register.Emitter1[batch.Record]()
	register.Combiner3[batch.Summary, batch.Record, batch.Summary](&summaryFn{})
	register.DoFn2x1[context.Context, batch.Summary, error](&writeSummaryFn{})
}

// buildPipeline is the batch: scenes → reshuffle (spreads scenes over
// workers) → predict (one engine per worker process) → records → one
// summary, written as summary.csv and summary.jsonl into dir. It uses no
// runner-specific transform.
func buildPipeline(items []batch.Item, cfg Config, dir string) *beam.Pipeline {
	p, s := beam.NewPipelineWithRoot()
	scenes := beam.CreateList(s, items)
	scenes = beam.Reshuffle(s, scenes)
	recs := beam.ParDo(s.Scope("predict"), &predictFn{Cfg: cfg}, scenes)
	sum := beam.Combine(s.Scope("summary"), &summaryFn{}, recs)
	beam.ParDo0(s.Scope("write-summary"), &writeSummaryFn{Dir: dir}, sum)
	return p
}

// predictFn predicts one scene per element with the worker's shared
// engine, skipping scenes whose mask is already there with the same
// identity, and emits the scene's record. A failing scene is a record with
// its error, not a failed bundle; only cancellation fails the bundle.
type predictFn struct {
	Cfg Config

	w   *worker
	req engine.Request
	log *slog.Logger
}

func (f *predictFn) Setup() error {
	w, err := acquireWorker(f.Cfg)
	if err != nil {
		return err
	}
	f.w = w
	f.log = w.log
	f.req, err = f.Cfg.request()
	return err
}

func (f *predictFn) Teardown() error {
	if f.w != nil {
		f.w.release()
		f.w = nil
	}
	return nil
}

func (f *predictFn) ProcessElement(ctx context.Context, it batch.Item, emit func(batch.Record)) error {
	inflight.Add()
	defer inflight.Done()
	rec, err := f.predict(ctx, it)
	if err != nil {
		return err
	}
	if t := tracker.Load(); t != nil {
		t.record(rec)
	} else {
		logRecord(f.log, rec)
	}
	emit(rec)
	return nil
}

// predict returns the scene's record, or an error when the work was
// interrupted (the bundle then fails and the runner may retry it).
func (f *predictFn) predict(ctx context.Context, it batch.Item) (batch.Record, error) {
	rec := batch.Record{Index: it.Index, Scene: it.Scene, Output: it.Output}
	conf := ""
	if f.req.Confidence != engine.NoConfidence {
		conf = engine.ConfidencePath(it.Output)
	}
	if !f.Cfg.Force {
		r, why := batch.Resume(it.Output, conf, it.Scene, f.w.id)
		if r != nil {
			r.Index, r.Scene, r.Output, r.Status = it.Index, it.Scene, it.Output, batch.StatusSkipped
			return *r, nil
		}
		f.log.Debug("computing", "scene", it.Scene, "reason", why)
	}
	if err := ctx.Err(); err != nil {
		return rec, err
	}
	select {
	case f.w.slots <- struct{}{}:
	case <-ctx.Done():
		return rec, ctx.Err()
	}
	defer func() { <-f.w.slots }()
	if err := batch.RemoveStamp(it.Output); err != nil {
		rec.Status, rec.Error = batch.StatusFailed, err.Error()
		return rec, nil
	}
	req := f.req
	req.Output = it.Output
	predictCalls.Add(1)
	res, err := f.w.eng.PredictFile(ctx, []string{it.Scene}, req)
	if err == nil && afterPredict != nil {
		err = afterPredict(it)
	}
	if err != nil {
		if ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, errInjected) {
			return rec, err
		}
		rec.Status, rec.Error = batch.StatusFailed, err.Error()
		if res != nil {
			rec.ElapsedS = res.Elapsed.Seconds()
		}
		return rec, nil
	}
	rec.Status = batch.StatusOK
	rec.Width, rec.Height = res.Plan.Size.X, res.Plan.Size.Y
	rec.NativeResX, rec.NativeResY, rec.ProcRes = res.Plan.NativeRes[0], res.Plan.NativeRes[1], res.Plan.ProcRes
	for _, c := range f.w.eng.Classes() {
		rec.Classes = append(rec.Classes, c.Name)
		rec.Counts = append(rec.Counts, res.ClassCounts[c.ID])
	}
	rec.NoData = res.ClassCounts[255]
	rec.ElapsedS = res.Elapsed.Seconds()
	if err := batch.WriteStamp(res.Output, res.ConfidenceOutput, it.Scene, f.w.id, rec); err != nil {
		rec.Status, rec.Error = batch.StatusFailed, err.Error()
	}
	return rec, nil
}

func logRecord(log *slog.Logger, r batch.Record) {
	if r.Status == batch.StatusFailed {
		log.Error("scene failed", "scene", r.Scene, "error", r.Error)
		return
	}
	log.Info("scene "+r.Status, "scene", r.Scene, "output", r.Output, "size", fmt.Sprintf("%dx%d", r.Width, r.Height), "elapsed_s", r.ElapsedS)
}

// inflight counts the elements this process is working on: a run on Prism
// waits for them after the pipeline returns (a cancelled job returns while
// the in-process worker is still finishing its element).
var inflight = newFlight()

// flight counts work in progress. Unlike a sync.WaitGroup, an element may
// start while Wait is waiting (a cancelled Prism job can still hand its
// in-process worker one more element): Wait returns once the count is 0,
// and never panics on such a late start.
type flight struct {
	mu   sync.Mutex
	n    int
	idle *sync.Cond
}

func newFlight() *flight {
	f := &flight{}
	f.idle = sync.NewCond(&f.mu)
	return f
}

// Add counts one element started.
func (f *flight) Add() {
	f.mu.Lock()
	f.n++
	f.mu.Unlock()
}

// Done counts one element finished.
func (f *flight) Done() {
	f.mu.Lock()
	if f.n--; f.n == 0 {
		f.idle.Broadcast()
	}
	f.mu.Unlock()
}

// Wait returns when no element is in progress.
func (f *flight) Wait() {
	f.mu.Lock()
	for f.n > 0 {
		f.idle.Wait()
	}
	f.mu.Unlock()
}

// Test hooks: predictCalls counts engine predictions in this process,
// enginesCreated the engines built;
// afterPredict, when set, may fail a scene after its mask is written.
var (
	predictCalls   atomic.Int64
	enginesCreated atomic.Int64
	afterPredict   func(batch.Item) error
	errInjected    = errors.New("injected failure")
)

// summaryFn combines records into one summary, in scene order whatever
// the order they arrive in.
type summaryFn struct{}

func (summaryFn) CreateAccumulator() batch.Summary { return batch.Summary{} }
func (summaryFn) AddInput(a batch.Summary, r batch.Record) batch.Summary {
	a.Add(r)
	return a
}
func (summaryFn) MergeAccumulators(a, b batch.Summary) batch.Summary {
	a.Merge(b)
	return a
}

// writeSummaryFn writes summary.csv and summary.jsonl.
type writeSummaryFn struct{ Dir string }

func (f *writeSummaryFn) ProcessElement(_ context.Context, s batch.Summary) error {
	if err := s.WriteFiles(f.Dir); err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	return nil
}

// worker is a process's engine for one configuration, shared by all the
// DoFn instances the SDK harness runs (one per concurrent bundle), with a
// bound on the scenes in flight.
type worker struct {
	key   string
	eng   *engine.Engine
	id    batch.Identity
	log   *slog.Logger
	slots chan struct{}
	refs  int
}

var (
	workersMu sync.Mutex
	workers   = map[string]*worker{}
)

// acquireWorker returns the process's worker for cfg, creating its engine
// on first use.
func acquireWorker(cfg Config) (*worker, error) {
	b, _ := json.Marshal(cfg)
	key := string(b)
	workersMu.Lock()
	defer workersMu.Unlock()
	if w, ok := workers[key]; ok {
		w.refs++
		return w, nil
	}
	log := cfg.logger(logOutput())
	eng, err := engine.New(cfg.options(log))
	if err != nil {
		return nil, err
	}
	enginesCreated.Add(1)
	id, err := identity(eng, cfg)
	if err != nil {
		eng.Close()
		return nil, err
	}
	w := &worker{key: key, eng: eng, id: id, log: log, slots: make(chan struct{}, cfg.Parallel), refs: 1}
	workers[key] = w
	return w, nil
}

func (w *worker) release() {
	workersMu.Lock()
	defer workersMu.Unlock()
	w.refs--
	if w.refs == 0 {
		w.eng.Close()
		delete(workers, w.key)
	}
}

// closeWorkers closes the engines a runner left open (a runner need not
// call Teardown before the pipeline ends); it returns how many there were.
func closeWorkers() int {
	workersMu.Lock()
	defer workersMu.Unlock()
	n := len(workers)
	for k, w := range workers {
		w.eng.Close()
		delete(workers, k)
	}
	return n
}

// logOutput is where workers log: the driver's stderr when the pipeline
// runs in this process, the worker's stderr (collected by the runner)
// otherwise.
var logSink atomic.Pointer[io.Writer]

func logOutput() io.Writer {
	if w := logSink.Load(); w != nil {
		return *w
	}
	return os.Stderr
}

// identity is what the masks of this worker depend on.
func identity(e *engine.Engine, cfg Config) (batch.Identity, error) {
	id := batch.Identity{ORT: e.ORTVersion(), Flags: cfg.pixelFlags()}
	if cfg.Product != "" {
		h, err := batch.ProductHash(cfg.Product)
		if err != nil {
			return id, err
		}
		id.Flags["product"], id.Flags["product-sha256"] = cfg.Product, h
	}
	for _, ref := range e.Models() {
		m, err := engine.LoadManifest(ref, cfg.ORTLib)
		if err != nil {
			return id, err
		}
		h, err := batch.ModelHash(ref)
		if err != nil {
			return id, err
		}
		id.Models = append(id.Models, batch.ModelID{Name: m.Name, Version: m.Version, SHA256: h})
	}
	if len(id.Models) == 0 {
		return id, errors.New("engine has no model")
	}
	return id, nil
}

// knownRunners are the --runner values omnimask-batch accepts.
var knownRunners = []string{"prism", "flink", "spark", "dataflow", "universal"}

func checkRunner(r string) error {
	for _, k := range knownRunners {
		if r == k {
			return nil
		}
	}
	return cmdline.Usagef("--runner %q: want one of %s", r, strings.Join(knownRunners, ", "))
}

// Package engine is omnimask's library face: build an Engine once with New,
// then call Predict or PredictFile from any number of goroutines. Each
// prediction streams a scene through read → preprocess → infer → stitch →
// write stages running concurrently, holding only a strip of rows in memory.
package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"sync"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/internal/liberr"
	"github.com/omnimask/omnimask/internal/ort"
	"github.com/omnimask/omnimask/models"
	"github.com/omnimask/omnimask/tta"
)

// Options configure an Engine. The zero value runs the built-in default model
// on every core, two inference calls at a time.
type Options struct {
	// Models are built-in model names or .onnx paths; several form an
	// ensemble whose logits are averaged. Empty means models.Default.
	Models []string
	// Product names a composite product instead (a built-in one, e.g.
	// "water", or a .json description; see models.Composite): its models
	// run over the same tiles and their decisions are combined into one
	// mask by the product's rules. Models must then be empty.
	Product string
	// ORTLibrary is the ONNX Runtime shared library to load; empty searches
	// $ONNXRUNTIME_LIB, beside the executable, third_party/onnxruntime and
	// the system's library folders.
	ORTLibrary string
	// Threads is the number of threads inference runs on, in all; 0 = all
	// cores; at most MaxThreadsPerCore per core are used.
	Threads int
	// Streams is the number of inference calls one prediction runs at
	// once (at most Threads), each on Threads/Streams threads; 0 = 2.
	// Two single-thread calls on two cores keep both busy through the
	// model's serial stretches and the engine's own work, where one
	// two-thread call leaves a core waiting.
	Streams int
	// BatchSize is the number of patches per inference call; 0 = 1.
	BatchSize int
	// MaxMemory bounds the working memory of one prediction in bytes; a
	// scene that would need more is refused before anything is allocated.
	// 0 means half of the machine's memory.
	MaxMemory int64
	// Logger receives warnings and progress; nil discards them. A call's
	// Request.Logger, or a logger its context carries (WithLogger), takes
	// its place for that call.
	Logger *slog.Logger
	// MemoryBudget bounds, in bytes, the resident memory the engine adds
	// to the process: its models and ONNX Runtime, reserved at New (an
	// estimate from the models' sizes, BudgetStats.Reserved), and every
	// prediction in flight, charged its Plan.Memory (the pipeline's
	// buffers with the Go heap's headroom, ONNX Runtime's activations,
	// GDAL's block cache for the file and an in-memory input). A call is
	// admitted when its estimate fits in what the others leave, else it
	// waits (or, with Request.NoWait, fails with ErrBusy); a scene whose
	// estimate exceeds what the models leave fails with ErrTooLarge, and
	// so does New when the models alone do not fit. The rest of the
	// process (the Go runtime, GDAL's libraries: ~35 MiB for the omnimask
	// command; a service's own data) is not counted. 0 = no engine-wide
	// budget (each call is bounded by MaxMemory alone).
	MemoryBudget int64
	// ReturnMemory hands the process's free heap back to the operating
	// system (debug.FreeOSMemory) when a prediction's pipeline has ended,
	// before its mask's cloud-optimised copy is written, so that the two
	// peaks of resident memory do not add up (-40 MiB at 5490²). It forces
	// a garbage collection that stalls every goroutine of the process: for
	// programs that predict one scene at a time (the omnimask command sets
	// it), not for services running predictions side by side. Off by
	// default.
	ReturnMemory bool
	// TTA is the test-time augmentation of calls whose Request.TTA is
	// tta.Default: each patch is also run flipped (tta.Flips: 4 calls) or
	// flipped and rotated (tta.D4: 8 calls), and the model's outputs,
	// transformed back, are averaged before blending. tta.Default = what
	// the model's manifest says (field "tta"), else tta.None. With an
	// ensemble every member runs under it.
	TTA tta.Mode
}

// Engine runs segmentation models on scenes. It is safe for concurrent use.
type Engine struct {
	mu       sync.Mutex // guards closed and the start of inflight's calls
	closed   bool       // refuses new calls (Close, Shutdown)
	inflight sync.WaitGroup
	closing  chan struct{}      // closed when shutting down begins: budget waiters leave
	abort    context.Context    // cancelled when Shutdown's context expires
	abortFn  context.CancelFunc //
	release  sync.Once          // the models are closed once
	relErr   error
	budget   *budget // nil without Options.MemoryBudget
	// modelsMem is what the models hold (modelsMemory), reserved in the
	// budget at New.
	modelsMem int64
	opts      Options
	models    []*model
	manifest  *models.Manifest // of the first model: tiling, resolution, classes
	layout    *layout          // the bands read and the inputs of every model
	// variants are the ways the models may run on a scene, in order of
	// preference: one for a plain engine, one per choice of models for a
	// composite product (composite).
	variants  []*variant
	composite *models.Composite
	products  products // engines of Request.Product
	limits    limits
	log       *slog.Logger
	ortVer    string
}

// MaxThreadsPerCore caps Options.Threads.
const MaxThreadsPerCore = 4

// New loads the ONNX Runtime library (once per process) and the models.
// A model that cannot be used is an ErrModel, bad Options an
// ErrInvalidInput, a missing ONNX Runtime library an ErrInternal.
func New(opts Options) (*Engine, error) {
	ver, err := ort.Setup(opts.ORTLibrary)
	if err != nil {
		return nil, classify(err, false)
	}
	gdalio.Register()
	asked := opts.Threads
	opts, err = opts.withDefaults()
	if err != nil {
		return nil, liberr.Mark(err, ErrInvalidInput)
	}
	if asked > opts.Threads && opts.Logger != nil {
		opts.Logger.Warn(fmt.Sprintf("%d threads asked for, %d used (at most %d per core)", asked, opts.Threads, MaxThreadsPerCore))
	}
	refs := opts.Models
	var comp *models.Composite
	if opts.Product != "" {
		if len(refs) > 0 {
			return nil, liberr.Mark(errors.New("engine: a product chooses its own models: give Models or Product, not both"), ErrInvalidInput)
		}
		if comp, err = loadComposite(opts.Product); err != nil {
			return nil, liberr.Mark(err, ErrModel)
		}
		refs = compositeRefs(comp)
	}
	if len(refs) == 0 {
		refs = []string{models.Default}
	}
	var mods []*model
	for _, ref := range refs {
		// ONNX Runtime's own log lines only when debug logs are asked for
		// (-v): its errors come back as errors, its warnings are noise.
		logs := opts.Logger != nil && opts.Logger.Enabled(context.Background(), slog.LevelDebug)
		m, err := openModel(ref, ort.Options{Threads: opts.Threads / opts.Streams, Logs: logs})
		if err == nil && len(mods) > 0 && comp == nil {
			if err = sameContract(mods[0].manifest, m.manifest); err != nil {
				m.run.Close()
				err = fmt.Errorf("engine: %s cannot join an ensemble with %s: %v", ref, mods[0].name, err)
			}
		}
		if err != nil {
			closeModels(mods)
			if errors.Is(err, ort.ErrLibrary) {
				return nil, liberr.Mark(err, ErrInternal)
			}
			return nil, liberr.Mark(err, ErrModel) // missing files included
		}
		mods = append(mods, m)
	}
	e, err := assemble(opts, mods)
	if err != nil {
		return nil, liberr.Mark(err, ErrInvalidInput)
	}
	if comp != nil {
		byRef := map[string]*model{}
		for i, ref := range refs {
			byRef[ref] = mods[i]
		}
		if e.variants, err = compositeVariants(comp, byRef); err != nil {
			e.Close()
			return nil, liberr.Mark(err, ErrModel)
		}
		e.composite = comp
	}
	e.ortVer = ver
	if e.budget != nil {
		e.modelsMem = modelsMemory(mods)
		if err := e.budget.reserve(runtimeMemory+runtimeSlack+e.modelsMem, "ONNX Runtime and the models"); err != nil {
			e.Close()
			return nil, err
		}
	}
	return e, nil
}

// withDefaults fills in the zero fields of Options and checks the others.
func (o Options) withDefaults() (Options, error) {
	if o.Threads <= 0 {
		o.Threads = runtime.NumCPU()
	}
	// Far more threads than cores only make ONNX Runtime's threads wait on
	// each other (5000 took over a minute on a 0.3 s scene).
	o.Threads = min(o.Threads, MaxThreadsPerCore*runtime.NumCPU())
	if o.Streams <= 0 {
		o.Streams = min(2, o.Threads)
	}
	o.Streams = min(o.Streams, o.Threads)
	if o.BatchSize <= 0 {
		o.BatchSize = 1
	}
	if !o.TTA.Valid() {
		return o, fmt.Errorf("engine: unknown test-time augmentation %v", o.TTA)
	}
	if o.BatchSize > MaxBatchSize {
		return o, fmt.Errorf("engine: batch size %d > %d", o.BatchSize, MaxBatchSize)
	}
	return o, nil
}

// assemble builds an Engine on loaded models (which it closes on error);
// opts must have its defaults filled in.
func assemble(opts Options, mods []*model) (*Engine, error) {
	e := &Engine{opts: opts, models: mods, manifest: mods[0].manifest, log: opts.Logger, closing: make(chan struct{})}
	e.abort, e.abortFn = context.WithCancel(context.Background())
	if opts.MemoryBudget > 0 {
		e.budget = &budget{total: opts.MemoryBudget}
	}
	var ms []*models.Manifest
	for _, m := range mods {
		ms = append(ms, m.manifest)
	}
	lay, err := newLayout(ms)
	if err != nil {
		closeModels(mods)
		return nil, err
	}
	e.layout = lay
	e.variants = []*variant{ensembleVariant(mods, lay)}
	if e.log == nil {
		e.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	for _, m := range mods {
		if err := checkFixedShapes(m, opts.BatchSize); err != nil {
			e.Close()
			return nil, err
		}
	}
	e.limits = limits{batch: opts.BatchSize, streams: opts.Streams, nets: len(mods), maxMemory: opts.MaxMemory, layout: lay, tta: opts.TTA}
	for _, m := range mods {
		if n := m.input[0]; n > 0 && e.limits.fixedBatch == 0 {
			e.limits.fixedBatch = int(n)
		}
		if h := m.input[2]; h > 0 && e.limits.fixedPatch == 0 {
			e.limits.fixedPatch = int(h)
		}
	}
	if e.limits.maxMemory <= 0 {
		e.limits.maxMemory = defaultMemoryLimit()
	}
	return e, nil
}

func closeModels(mods []*model) error {
	var errs []error
	for _, m := range mods {
		errs = append(errs, m.run.Close())
	}
	return errors.Join(errs...)
}

// checkFixedShapes rejects batch sizes a fixed-shape graph cannot take.
func checkFixedShapes(m *model, batch int) error {
	if n := m.input[0]; n > 0 && int(n) != batch && n != 1 {
		return fmt.Errorf("engine: %s has a fixed batch of %d, batch size is %d", m.name, n, batch)
	}
	return nil
}

// Manifest returns the contract of the engine's models (the first model's
// manifest; ensemble members share its classes, and may take other inputs).
func (e *Engine) Manifest() *models.Manifest { return e.manifest }

// Classes returns the classes of the masks the engine writes: the models'
// (Manifest), or a product's (Options.Product).
func (e *Engine) Classes() []models.Class {
	if e.composite != nil {
		return e.composite.Classes
	}
	return e.manifest.Classes
}

// Models returns the names of the loaded models.
func (e *Engine) Models() []string {
	var n []string
	for _, m := range e.models {
		n = append(n, m.name)
	}
	return slices.Clip(n)
}

// TTA returns the test-time augmentation of requests that leave it unset:
// Options.TTA, else the manifest's, else tta.None.
func (e *Engine) TTA() tta.Mode { return e.opts.TTA.Or(e.manifest.DefaultTTA()) }

// ORTVersion returns the version of the loaded ONNX Runtime library.
func (e *Engine) ORTVersion() string { return e.ortVer }

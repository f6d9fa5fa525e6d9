// Package engine is omnimask's library face: build an Engine once with New,
// then call Predict or PredictFile from any number of goroutines. Each
// prediction streams a scene through read → preprocess → infer → stitch →
// write stages running concurrently, holding only a strip of rows in memory.
package engine

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"sync"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/internal/ort"
	"github.com/omnimask/omnimask/models"
)

// Options configure an Engine. The zero value runs the built-in default model
// on every core, two inference calls at a time.
type Options struct {
	// Models are built-in model names or .onnx paths; several form an
	// ensemble whose logits are averaged. Empty means models.Default.
	Models []string
	// ORTLibrary is the ONNX Runtime shared library to load; empty searches
	// $ONNXRUNTIME_LIB, beside the executable, third_party/onnxruntime and
	// the system's library folders.
	ORTLibrary string
	// Threads is the number of threads inference runs on, in all; 0 = all
	// cores.
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
	// Logger receives warnings and progress; nil discards them.
	Logger *slog.Logger
}

// Engine runs segmentation models on scenes. It is safe for concurrent use.
type Engine struct {
	// mu is held shared by every prediction in flight and exclusively by
	// Close, which so waits for them; closed refuses new ones.
	mu       sync.RWMutex
	closed   bool
	opts     Options
	streams  int
	models   []*Model
	manifest *models.Manifest // of the first model; all share its contract
	log      *slog.Logger
	ortVer   string
}

// New loads the ONNX Runtime library (once per process) and the models.
func New(opts Options) (*Engine, error) {
	ver, err := ort.Setup(opts.ORTLibrary)
	if err != nil {
		return nil, err
	}
	gdalio.Register()
	if opts.Threads <= 0 {
		opts.Threads = runtime.NumCPU()
	}
	if opts.Streams <= 0 {
		opts.Streams = min(2, opts.Threads)
	}
	opts.Streams = min(opts.Streams, opts.Threads)
	if opts.BatchSize <= 0 {
		opts.BatchSize = 1
	}
	if opts.BatchSize > 256 {
		return nil, fmt.Errorf("engine: batch size %d > 256", opts.BatchSize)
	}
	refs := opts.Models
	if len(refs) == 0 {
		refs = []string{models.Default}
	}
	e := &Engine{opts: opts, streams: opts.Streams, log: opts.Logger, ortVer: ver}
	if e.log == nil {
		e.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	for _, ref := range refs {
		m, err := openModel(ref, ort.Options{Threads: opts.Threads / opts.Streams})
		if err != nil {
			e.Close()
			return nil, err
		}
		if len(e.models) > 0 {
			if err := sameContract(e.models[0].Manifest, m.Manifest); err != nil {
				m.sess.Close()
				e.Close()
				return nil, fmt.Errorf("engine: %s cannot join an ensemble with %s: %v", ref, e.models[0].Name, err)
			}
		}
		e.models = append(e.models, m)
	}
	e.manifest = e.models[0].Manifest
	for _, m := range e.models {
		if err := checkFixedShapes(m, opts.BatchSize); err != nil {
			e.Close()
			return nil, err
		}
	}
	return e, nil
}

// checkFixedShapes rejects batch sizes a fixed-shape graph cannot take.
func checkFixedShapes(m *Model, batch int) error {
	if n := m.sess.In.Shape[0]; n > 0 && int(n) != batch && n != 1 {
		return fmt.Errorf("engine: %s has a fixed batch of %d, batch size is %d", m.Name, n, batch)
	}
	return nil
}

// fixedBatch returns the largest batch every model accepts (0 = any).
func (e *Engine) fixedBatch() int {
	for _, m := range e.models {
		if n := m.sess.In.Shape[0]; n > 0 {
			return int(n)
		}
	}
	return 0
}

// fixedPatch returns the patch size a fixed-shape graph requires (0 = any).
func (e *Engine) fixedPatch() int {
	for _, m := range e.models {
		if h := m.sess.In.Shape[2]; h > 0 {
			return int(h)
		}
	}
	return 0
}

// Manifest returns the contract of the engine's models (the first model's
// manifest; ensemble members share bands, normalisation and classes).
func (e *Engine) Manifest() *models.Manifest { return e.manifest }

// Models returns the names of the loaded models.
func (e *Engine) Models() []string {
	var n []string
	for _, m := range e.models {
		n = append(n, m.Name)
	}
	return slices.Clip(n)
}

// ORTVersion returns the version of the loaded ONNX Runtime library.
func (e *Engine) ORTVersion() string { return e.ortVer }

// ErrClosed is returned by predictions on a closed Engine.
var ErrClosed = errors.New("engine: closed")

// enter registers a prediction in flight; done must be called when it ends.
func (e *Engine) enter() (done func(), err error) {
	e.mu.RLock()
	if e.closed {
		e.mu.RUnlock()
		return nil, ErrClosed
	}
	return e.mu.RUnlock, nil
}

// Close waits for the predictions in flight, then releases the inference
// sessions. It is safe to call more than once; later predictions return
// ErrClosed.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	var errs []error
	for _, m := range e.models {
		errs = append(errs, m.sess.Close())
	}
	return errors.Join(errs...)
}

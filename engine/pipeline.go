package engine

import (
	"context"
	"image"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
)

// A prediction is a pipeline of goroutines joined by channels, one per
// stage of the data path:
//
//	read     strips of rows at processing resolution (strips.go)
//	prepare  patches cut, shifted and normalised into batches (prepare.go)
//	infer    the models on each batch, in order (infer.go)
//	stitch   logits blended, upsampled to the native grid and classified (stitch.go)
//	write    finished rows to the sink (sink.go)

// batch is a group of patches on their way through inference, or (when
// mark is set) the end-of-strip marker that follows a strip's patches.
type batch struct {
	rects   []image.Rectangle
	input   []float32 // N x run.N x P x P
	scores  []float32 // N x K x P x P logits
	skipped int
	mark    *stripEnd
}

// block is a run of finished native rows.
type block struct {
	y0, rows int
	classes  []uint8     // rows x W
	probs    [][]float32 // K planes of rows x W (nil without confidence)
}

// sink receives finished rows.
type sink interface {
	write(b *block) error
	commit() error
	abort()
}

type run struct {
	e       *Engine
	v       *variant // the models run and where their scores go
	p       *Plan
	req     Request
	src     source
	sink    sink
	C, K    int  // raw channels of the strips (see layout), classes
	N       int  // prepared channels of a batch's patches
	nanOnly bool // the strips' nodata is NaN (derivedSource), not the plan's rule
	res     *Result
	busy    busyClock
	// nanOut counts the patch pixels without usable scores: a model (an
	// ensemble member, a product's model, one of its test-time
	// augmentation runs) produced NaN or only ±Inf there; each once.
	nanOut atomic.Int64
	// inferred counts the patch pixels run through the models (each once,
	// however many models and runs).
	inferred atomic.Int64
	progress *progressPump
}

func (r *run) execute(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	strips := make(chan *strip)
	prepared := make(chan *batch, 1)
	inferred := make(chan *batch, 1)
	blocks := make(chan *block, 2)
	// Batches in flight: one per stream, one being prepared, one being
	// stitched.
	poolSize := r.e.opts.Streams + 2
	pool := make(chan *batch, poolSize)
	P := r.p.Patch
	n := r.e.opts.BatchSize
	if fb := r.e.limits.fixedBatch; fb > 0 {
		n = fb
	}
	for i := 0; i < poolSize; i++ {
		pool <- &batch{input: make([]float32, n*r.N*P*P), scores: make([]float32, n*r.K*P*P)}
	}
	// Two strips suffice: the one being filled and the one prepare cuts,
	// which is also the previous one whose overlap rows the reader copies.
	sp := newStripPool(2, r.C, r.p.ProcSize.X, min(r.p.ProcSize.Y, P+lookahead(r.p)))
	g.Go(func() error { defer close(strips); return r.read(ctx, strips, sp) })
	g.Go(func() error { defer close(prepared); return r.prepare(ctx, strips, prepared, pool, sp, n) })
	g.Go(func() error { defer close(inferred); return r.infer(ctx, prepared, inferred) })
	g.Go(func() error { defer close(blocks); return r.stitch(ctx, inferred, blocks, pool) })
	g.Go(func() error {
		for b := range blocks {
			if err := r.sink.write(b); err != nil {
				return err
			}
		}
		return nil
	})
	return g.Wait()
}

func send[T any](ctx context.Context, ch chan<- T, v T) error {
	select {
	case ch <- v:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

package engine

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/omnimask/omnimask/models"
)

// infer runs every model on each batch and leaves the ensemble's mean
// logits in batch.scores (see sanitize for models that output
// probabilities). With several streams, batches run concurrently and leave
// in the order they came, so the stitcher sees each strip's patches before
// its end mark.
func (r *run) infer(ctx context.Context, in <-chan *batch, out chan<- *batch) error {
	streams := r.e.opts.Streams
	if streams <= 1 {
		var tmp scratch
		for b := range in {
			if err := r.runBatch(ctx, b, &tmp); err != nil {
				return err
			}
			if err := send(ctx, out, b); err != nil {
				return err
			}
		}
		return nil
	}
	type job struct {
		b    *batch
		done chan error
	}
	g, ctx := errgroup.WithContext(ctx)
	jobs := make(chan job)
	// Batches in flight, oldest first. Room for more than the pool's
	// batches, so that end marks between them never hold a stream back.
	order := make(chan job, streams+8)
	for range streams {
		g.Go(func() error {
			var tmp scratch
			for j := range jobs {
				j.done <- r.runBatch(ctx, j.b, &tmp)
			}
			return nil
		})
	}
	g.Go(func() error {
		defer close(jobs)
		defer close(order)
		for {
			// Not a plain range: when a stream fails, the batches still
			// coming would wait for a pool that the stitcher no longer
			// refills.
			var b *batch
			select {
			case bb, ok := <-in:
				if !ok {
					return nil
				}
				b = bb
			case <-ctx.Done():
				return context.Cause(ctx)
			}
			j := job{b, make(chan error, 1)}
			if err := send(ctx, order, j); err != nil {
				return err
			}
			if b.mark != nil {
				j.done <- nil
				continue
			}
			if err := send(ctx, jobs, j); err != nil {
				return err
			}
		}
	})
	g.Go(func() error {
		for j := range order {
			var err error
			select {
			case err = <-j.done:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
			if err != nil {
				return err
			}
			if err := send(ctx, out, j.b); err != nil {
				return err
			}
		}
		return nil
	})
	return g.Wait()
}

// scratch is a stream's memory for runBatch: the scores of the second and
// later ensemble members, the raw one-channel output of sigmoid and
// class-index models, and the inputs of models that take some of the
// prepared channels (see inputOf), and with test-time augmentation the
// transformed inputs and the scores of the transformed patches.
type scratch struct{ member, raw, input, ttaIn, ttaOut []float32 }

// grow returns (*s)[:n], reallocated when too short.
func grow(s *[]float32, n int) []float32 {
	if len(*s) < n {
		*s = make([]float32, n)
	}
	return (*s)[:n]
}

// inputOf returns model k's input for the n patches of b: the batch's input
// itself when the model takes every prepared channel in order, else its
// channels gathered into tmp.
func (r *run) inputOf(k int, b *batch, n int, tmp *scratch) []float32 {
	lay := r.v.layout
	PP := r.p.Patch * r.p.Patch
	if lay.direct(k) {
		return b.input[:n*r.N*PP]
	}
	take := lay.takes[k]
	in := grow(&tmp.input, n*len(take)*PP)
	for i := range n {
		for j, c := range take {
			copy(in[(i*len(take)+j)*PP:][:PP], b.input[(i*r.N+c)*PP:][:PP])
		}
	}
	return in
}

// runBatch runs the models on one batch (end marks pass through), leaving
// their mean class scores (kinds.go) in b.scores.
func (r *run) runBatch(ctx context.Context, b *batch, tmp *scratch) error {
	if b.mark != nil {
		return nil
	}
	P := int64(r.p.Patch)
	n := int64(len(b.rects))
	if fb := r.e.limits.fixedBatch; fb > 0 {
		n = int64(fb)
	}
	v := r.v
	m := int(n) * r.K * int(P*P)
	scores := b.scores[:m]
	PP := int(P * P)
	ts := r.p.TTA.Transforms()
	spoiled := false // some run left patch pixels without usable scores
	for i, mod := range v.models {
		// An ensemble's members all write the K channels (the first into
		// the batch, the others added to it); a product's models each
		// their own channels, gathered from the scratch.
		K := v.k[i]
		outShape := [4]int64{n, int64(K), P, P}
		mk := int(n) * K * PP
		dst := scores
		if i > 0 || K != r.K {
			dst = grow(&tmp.member, mk)
		}
		in := r.inputOf(i, b, int(n), tmp)
		inShape := [4]int64{n, int64(len(v.layout.takes[i])), P, P}
		// Test-time augmentation: the model also runs on each transform
		// of the patches, and its scores, transformed back, are added to
		// the identity's, then averaged. The identity alone (tta.None) is
		// the plain run.
		for ti, t := range ts {
			x, out := in, dst
			if ti > 0 {
				x, out = grow(&tmp.ttaIn, len(in)), grow(&tmp.ttaOut, mk)
				for j := range len(in) / PP {
					t.Apply(x[j*PP:][:PP], in[j*PP:][:PP], int(P))
				}
			}
			nb, err := r.runModel(mod, x, inShape, out, outShape, tmp)
			if err != nil {
				return err
			}
			spoiled = spoiled || nb > 0
			if ti > 0 {
				inv := t.Inverse()
				for j := range mk / PP {
					inv.AddTo(dst[j*PP:][:PP], out[j*PP:][:PP], int(P))
				}
			}
		}
		if len(ts) > 1 {
			inv := 1 / float32(len(ts)) // exact: 4 or 8
			for j := range dst {
				dst[j] *= inv
			}
		}
		switch {
		case K != r.K: // a product's model: its channels of each patch
			for j := range int(n) {
				copy(scores[(j*r.K+v.off[i])*PP:][:K*PP], dst[j*K*PP:][:K*PP])
			}
		case i > 0:
			for j, v := range dst {
				scores[j] += v
			}
		}
	}
	if k := v.avg; k > 1 {
		inv := 1 / float32(k)
		for j := range scores {
			scores[j] *= inv
		}
	}
	// A patch pixel that any run (a model, a transform of the patches)
	// left without usable scores is NaN in their mean, or in its model's
	// channels of a product's: counted once, not once per run.
	if spoiled {
		r.nanOut.Add(int64(nanPixels(scores, int(n), r.K, PP)))
	}
	r.inferred.Add(n * P * P)
	if err := ctx.Err(); err != nil {
		return context.Cause(ctx)
	}
	return nil
}

// runModel runs one model on n patches (in, of inShape) and leaves its
// class scores (kinds.go), outShape[1] = K channels of each, in dst; it
// returns the number of patch pixels without usable scores (all NaN).
func (r *run) runModel(mod *model, in []float32, inShape [4]int64, dst []float32, outShape [4]int64, tmp *scratch) (int, error) {
	n, K, PP := int(outShape[0]), int(outShape[1]), int(outShape[2]*outShape[3])
	raw, shape := dst, outShape
	kind := mod.manifest.Output
	if kind == models.Sigmoid || kind == models.ClassIndex {
		raw, shape[1] = grow(&tmp.raw, n*PP), 1
	}
	t0 := r.busy.start()
	err := mod.run.Run(in, inShape, raw, shape)
	r.busy.stop(t0)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", mod.name, err)
	}
	var bad int
	switch kind {
	case models.Sigmoid:
		bad = sigmoidScores(dst, raw, n, PP, mod.manifest.SigmoidThreshold())
	case models.ClassIndex:
		bad = voteScores(dst, raw, n, K, PP)
	default:
		bad = sanitize(dst, n, K, PP, kind == models.Probabilities)
	}
	return bad, nil
}

// nanPixels counts the patch pixels of n patches of k score planes with a
// NaN score (the kinds and sanitize make all of a pixel's scores of a
// model NaN; a product's other models may have scored it).
func nanPixels(scores []float32, n, k, plane int) int {
	bad := 0
	for i := range n {
		s := scores[i*k*plane:][:k*plane]
		for j := range plane {
			for c := range k {
				if v := s[c*plane+j]; v != v {
					bad++
					break
				}
			}
		}
	}
	return bad
}

// busyClock measures the wall time during which at least one inference
// call is running: with concurrent streams, the time the model alone would
// have needed on the same patches, which the engine's time is compared to.
type busyClock struct {
	mu     sync.Mutex
	active int
	since  time.Time
	total  time.Duration
}

func (c *busyClock) start() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if c.active == 0 {
		c.since = now
	}
	c.active++
	return now
}

func (c *busyClock) stop(time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.active--
	if c.active == 0 {
		c.total += time.Since(c.since)
	}
}

// logitLimit bounds the logits that enter the blend: ±Inf from a model
// becomes ±logitLimit, so window-weighted sums stay finite. Classes tied at
// +Inf then share the probability and a pixel whose logits are all -Inf gets
// a uniform distribution, the limits of the softmax.
const logitLimit = 1e30

// sanitize prepares n x k x plane model scores for blending, in place: it
// clamps infinite logits to ±logitLimit, turns probabilities (probs) into
// log-probabilities, which are logits of the same distribution, and sets
// every class of a pixel to NaN when any holds a NaN or when every class
// is infinite with one sign — all +Inf or all -Inf logits, all-zero
// probabilities: no class is preferred, and clamping would make the first
// one win (the pixel ends up
// nodata unless another patch covers it). It returns the number of such
// pixels.
func sanitize(v []float32, n, k, plane int, probs bool) (nan int) {
	v = v[:n*k*plane]
	if !probs && finiteWithin(v) {
		return 0 // the common case: one linear pass
	}
	for i := 0; i < n; i++ {
		base := v[i*k*plane : (i+1)*k*plane]
		for j := 0; j < plane; j++ {
			bad := false
			pos, neg := 0, 0 // classes at +Inf, at -Inf
			for c := 0; c < k; c++ {
				x := base[c*plane+j]
				if probs {
					x = float32(math.Log(float64(x)))
				}
				switch {
				case x != x:
					bad = true
				case x > logitLimit:
					pos += b2i(math.IsInf(float64(x), 1))
					x = logitLimit
				case x < -logitLimit:
					neg += b2i(math.IsInf(float64(x), -1))
					x = -logitLimit
				}
				base[c*plane+j] = x
			}
			if bad || pos == k || neg == k {
				for c := 0; c < k; c++ {
					base[c*plane+j] = float32(math.NaN())
				}
				nan++
			}
		}
	}
	return nan
}

// finiteWithin reports whether every value of v is within ±logitLimit (so
// neither NaN nor infinite).
func finiteWithin(v []float32) bool {
	for _, x := range v {
		if !(x <= logitLimit && x >= -logitLimit) {
			return false
		}
	}
	return true
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

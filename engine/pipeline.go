package engine

import (
	"context"
	"fmt"
	"image"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/omnimask/omnimask/models"
	"github.com/omnimask/omnimask/preprocess"
	"github.com/omnimask/omnimask/raster"
	"github.com/omnimask/omnimask/tiling"
)

// source reads the selected bands of a scene over dst.Rect (native pixel
// coordinates) into dst.
type source interface {
	Read(dst *raster.Float32) error
}

// parallelSource is a source that can decode with several threads.
type parallelSource interface {
	ReadParallel(dst *raster.Float32, threads int) error
}

// readWith reads through src with the given number of threads where the
// source can use them.
func readWith(src source, dst *raster.Float32, threads int) error {
	if ps, ok := src.(parallelSource); ok && threads > 1 {
		return ps.ReadParallel(dst, threads)
	}
	return src.Read(dst)
}

// inBands runs f over n bands of the rows [a, b) at once, or over all of
// them when n is 1 (f must only write its own rows).
func inBands(a, b, n int, f func(a, b int)) {
	if n <= 1 || b-a < 2*n {
		f(a, b)
		return
	}
	var wg sync.WaitGroup
	for i := range n {
		lo, hi := a+(b-a)*i/n, a+(b-a)*(i+1)/n
		wg.Go(func() { f(lo, hi) })
	}
	wg.Wait()
}

// strip is a band of rows at processing resolution, with the patches of one
// grid row cut from it. Strips are recycled: the reader holds one reference
// (it copies the overlap rows into the next strip) and prepare another.
type strip struct {
	row   int             // grid row
	buf   *raster.Float32 // processing rows, full width
	valid *raster.Mask
	end   *stripEnd
	refs  atomic.Int32
	pix   []float32 // backing storage, reused
	ok    []bool
}

// stripEnd follows a strip's patches through inference to the stitcher.
type stripEnd struct {
	native *raster.Mask // native validity of the rows read for the first time
	final  int          // processing rows above this are complete
}

// stripPool hands out at most max strips and takes them back when both
// references are released, so the reader never holds more than max strips
// of memory.
type stripPool struct {
	free    chan *strip
	made    int
	max     int
	c, w, h int // channels, width, most rows
}

func newStripPool(max, c, w, h int) *stripPool {
	return &stripPool{free: make(chan *strip, max), max: max, c: c, w: w, h: h}
}

// get returns a strip covering rows [a, b), waiting for one to be released
// when all are in use.
func (sp *stripPool) get(ctx context.Context, a, b int) (*strip, error) {
	var st *strip
	select {
	case st = <-sp.free:
	default:
		if sp.made < sp.max {
			sp.made++
			st = &strip{pix: make([]float32, sp.c*sp.w*sp.h), ok: make([]bool, sp.w*sp.h)}
		} else {
			select {
			case st = <-sp.free:
			case <-ctx.Done():
				return nil, context.Cause(ctx)
			}
		}
	}
	r := image.Rect(0, a, sp.w, b)
	n := sp.w * (b - a)
	st.buf = &raster.Float32{Pix: st.pix[:sp.c*n], C: sp.c, Stride: sp.w, PlaneStride: n, Rect: r}
	st.valid = &raster.Mask{Pix: st.ok[:n], Stride: sp.w, Rect: r}
	st.end = nil
	st.refs.Store(2)
	return st, nil
}

// release drops one reference; the last one returns the strip to the pool.
func (sp *stripPool) release(st *strip) {
	if st != nil && st.refs.Add(-1) == 0 {
		sp.free <- st
	}
}

// cloneMask copies a mask into new memory.
func cloneMask(m *raster.Mask) *raster.Mask {
	c := raster.NewMask(m.Rect)
	for y := m.Rect.Min.Y; y < m.Rect.Max.Y; y++ {
		copy(c.Row(y), m.Row(y))
	}
	return c
}

// batch is a group of patches on their way through inference, or (when
// mark is set) the end-of-strip marker that follows a strip's patches.
type batch struct {
	rects   []image.Rectangle
	input   []float32 // N x C x P x P
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
	e      *Engine
	p      *Plan
	req    Request
	src    source
	sink   sink
	C, K   int
	res    *Result
	busy   busyClock
	nanOut atomic.Int64 // patch pixels for which a model produced NaN
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
		pool <- &batch{input: make([]float32, n*r.C*P*P), scores: make([]float32, n*r.K*P*P)}
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

// reusable returns the end of the rows of [a, b) that prev already holds
// (a when there is no previous strip).
func reusable(prev *strip, a, b int) int {
	if prev == nil {
		return a
	}
	return max(a, min(b, prev.buf.Rect.Max.Y))
}

// lookahead is how many rows below a grid row's patches a strip holds, so
// that patches whose top rows are nodata can shift down (OmniCloudMask's
// inward shift): one overlap, which bounds memory at P + overlap rows.
func lookahead(p *Plan) int { return p.Overlap }

func send[T any](ctx context.Context, ch chan<- T, v T) error {
	select {
	case ch <- v:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// read produces one strip per grid row, reusing rows already read.
func (r *run) read(ctx context.Context, out chan<- *strip, sp *stripPool) error {
	p := r.p
	P, L := p.Patch, lookahead(p)
	W, Hp := p.ProcSize.X, p.ProcSize.Y
	sx := float64(p.Size.X) / float64(p.ProcSize.X)
	sy := float64(p.Size.Y) / float64(p.ProcSize.Y)
	var prev *strip
	defer func() { sp.release(prev) }()
	var nat []float32 // native rows read for resampling, reused
	var natOK []bool
	nativeDone := 0
	for k, y0 := range p.grid.Ys {
		// The model waits for the first strip with nothing else to do:
		// decode and resample it on every core. Later strips are read
		// while the model runs on all of them.
		threads := 1
		if k == 0 {
			threads = runtime.GOMAXPROCS(0)
		}
		a, b := y0, min(Hp, y0+P+L)
		st, err := sp.get(ctx, a, b)
		if err != nil {
			return err
		}
		st.row = k
		st.end = &stripEnd{final: Hp}
		if k+1 < len(p.grid.Ys) {
			st.end.final = p.grid.Ys[k+1]
		}
		// Rows [a, from) are already in the previous strip.
		from := reusable(prev, a, b)
		if from > a {
			keep := image.Rect(0, a, W, from)
			st.buf.CopyFrom(prev.buf.SubImage(keep))
			for y := a; y < from; y++ {
				copy(st.valid.Row(y), prev.valid.Row(y))
			}
		}
		if from < b {
			rows := image.Rect(0, from, W, b)
			dst, dv := st.buf.SubImage(rows), st.valid.SubImage(rows)
			if !p.Resampled() {
				if err := readWith(r.src, dst, threads); err != nil {
					sp.release(st)
					return err
				}
				inBands(from, b, threads, func(a, b int) {
					rows := image.Rect(0, a, W, b)
					preprocess.Valid(dv.SubImage(rows), dst.SubImage(rows), p.NoData)
				})
				st.end.native = cloneMask(dv)
				nativeDone = b
			} else {
				na, nb := preprocess.AreaSpan(from, b, sy, p.Size.Y)
				nr := image.Rect(0, na, p.Size.X, nb)
				n := nr.Dx() * nr.Dy()
				if cap(nat) < r.C*n {
					nat, natOK = make([]float32, r.C*n), make([]bool, n)
				}
				nb32 := &raster.Float32{Pix: nat[:r.C*n], C: r.C, Stride: nr.Dx(), PlaneStride: n, Rect: nr}
				nv := &raster.Mask{Pix: natOK[:n], Stride: nr.Dx(), Rect: nr}
				if err := readWith(r.src, nb32, threads); err != nil {
					sp.release(st)
					return err
				}
				inBands(na, nb, threads, func(a, b int) {
					rows := image.Rect(0, a, p.Size.X, b)
					preprocess.Valid(nv.SubImage(rows), nb32.SubImage(rows), p.NoData)
				})
				inBands(from, b, threads, func(a, b int) {
					rows := image.Rect(0, a, W, b)
					preprocess.Area(dst.SubImage(rows), dv.SubImage(rows), nb32, nv, sx, sy, p.Size)
				})
				if nb > nativeDone {
					st.end.native = cloneMask(nv.SubImage(image.Rect(0, max(na, nativeDone), p.Size.X, nb)))
					nativeDone = nb
				}
			}
		}
		if err := send(ctx, out, st); err != nil {
			sp.release(st) // prepare will never see it
			return err
		}
		sp.release(prev)
		prev = st
	}
	return nil
}

// prepare cuts, shifts and normalises patches and groups them in batches.
func (r *run) prepare(ctx context.Context, in <-chan *strip, out chan<- *batch, pool chan *batch, sp *stripPool, n int) error {
	m := r.e.manifest
	P := r.p.Patch
	size := r.C * P * P
	take := func() (*batch, error) {
		select {
		case b := <-pool:
			b.rects, b.skipped, b.mark = b.rects[:0], 0, nil
			return b, nil
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
	for st := range in {
		var cur *batch
		skipped := 0
		for ix := range r.p.grid.Xs {
			rect := tiling.ShiftInward(r.p.grid.Rect(ix, st.row), st.buf.Rect, st.valid)
			valid := st.valid.SubImage(rect)
			if valid.Count() == 0 {
				skipped++
				continue
			}
			if cur == nil {
				var err error
				if cur, err = take(); err != nil {
					return err
				}
			}
			i := len(cur.rects)
			slot := &raster.Float32{Pix: cur.input[i*size : (i+1)*size], C: r.C, Stride: P, PlaneStride: P * P, Rect: rect}
			slot.CopyFrom(st.buf.SubImage(rect))
			switch m.Normalization.Kind {
			case models.ZScore:
				preprocess.ZScore(slot, valid, m.NoDataFill)
			case models.Fixed:
				if err := preprocess.Fixed(slot, valid, m.Normalization.Mean, m.Normalization.Std, m.NoDataFill); err != nil {
					return err
				}
			default:
				preprocess.Fill(slot, valid, m.NoDataFill)
			}
			cur.rects = append(cur.rects, rect)
			if len(cur.rects) == n {
				if err := send(ctx, out, cur); err != nil {
					return err
				}
				cur = nil
			}
		}
		end := st.end
		sp.release(st) // its pixels are copied into the batches
		if cur != nil {
			if err := send(ctx, out, cur); err != nil {
				return err
			}
		}
		if err := send(ctx, out, &batch{mark: end, skipped: skipped}); err != nil {
			return err
		}
	}
	return nil
}

// infer runs every model on each batch and leaves the ensemble's mean
// logits in batch.scores (see sanitize for models that output
// probabilities). With several streams, batches run concurrently and leave
// in the order they came, so the stitcher sees each strip's patches before
// its end mark.
func (r *run) infer(ctx context.Context, in <-chan *batch, out chan<- *batch) error {
	streams := r.e.opts.Streams
	if streams <= 1 {
		var tmp []float32
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
			var tmp []float32
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

// runBatch runs the models on one batch (end marks pass through); tmp is
// the caller's scratch for the second and later ensemble members.
func (r *run) runBatch(ctx context.Context, b *batch, tmp *[]float32) error {
	if b.mark != nil {
		return nil
	}
	P := int64(r.p.Patch)
	n := int64(len(b.rects))
	if fb := r.e.limits.fixedBatch; fb > 0 {
		n = int64(fb)
	}
	inShape := [4]int64{n, int64(r.C), P, P}
	outShape := [4]int64{n, int64(r.K), P, P}
	m := int(n) * r.K * int(P*P)
	scores := b.scores[:m]
	for i, mod := range r.e.models {
		dst := scores
		if i > 0 {
			if len(*tmp) < m {
				*tmp = make([]float32, m)
			}
			dst = (*tmp)[:m]
		}
		t0 := r.busy.start()
		err := mod.run.Run(b.input[:int(n)*r.C*int(P*P)], inShape, dst, outShape)
		r.busy.stop(t0)
		if err != nil {
			return fmt.Errorf("%s: %w", mod.name, err)
		}
		r.nanOut.Add(int64(sanitize(dst, int(n), r.K, int(P*P), mod.manifest.Output == models.Probabilities)))
		if i > 0 {
			for j, v := range dst {
				scores[j] += v
			}
		}
	}
	if k := len(r.e.models); k > 1 {
		inv := 1 / float32(k)
		for j := range scores {
			scores[j] *= inv
		}
	}
	if err := ctx.Err(); err != nil {
		return context.Cause(ctx)
	}
	return nil
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

// stitch blends patch logits, finalises rows, brings them back to the
// native grid and classifies them.
func (r *run) stitch(ctx context.Context, in <-chan *batch, out chan<- *block, pool chan<- *batch) error {
	p := r.p
	P := p.Patch
	plane := P * P
	acc := tiling.NewAccumulator(r.K, p.ProcSize.X)
	weights := p.Blend.Weights(P, P, p.Overlap)
	up := newUpsampler(r, out)
	done, total := 0, p.Patches
	for b := range in {
		if b.mark == nil {
			for i, rect := range b.rects {
				if err := acc.Add(rect, b.scores[i*r.K*plane:(i+1)*r.K*plane], weights); err != nil {
					return err
				}
			}
			done += len(b.rects)
			pool <- b
		} else {
			done += b.skipped
			r.res.Skipped += b.skipped
			if b.mark.native != nil {
				up.addNative(b.mark.native)
			}
			if err := acc.Flush(b.mark.final, func(row int, scores [][]float32) error {
				return up.addRow(ctx, row, scores)
			}); err != nil {
				return err
			}
		}
		if r.req.Progress != nil {
			r.req.Progress(Progress{Done: done, Total: total})
		}
	}
	return up.flush()
}

// upsampler turns finished processing rows of blended logits into native
// rows of classes (and probabilities for the confidence output).
type upsampler struct {
	r      *run
	out    chan<- *block
	W, K   int
	ids    []uint8
	native []*raster.Mask // native validity, in row order
	rows   map[int]*procRow
	free   []*procRow
	last   int // last processing row received
	next   int // next native row to produce
	yaxis  preprocess.Axis
	xaxis  preprocess.Axis
	cur    *block
	logits [][]float32 // K native rows, interpolated (scratch)
	cls    []int16     // class index per native pixel, -1 uncovered (scratch)
	dst    [][]float32 // K rows of the current block's probabilities
	conf   bool
}

// procRow is a processing row kept for interpolation: its K logit rows and
// their argmax.
type procRow struct {
	logits [][]float32
	cls    []int16
}

const blockRows = 128

func newUpsampler(r *run, out chan<- *block) *upsampler {
	p := r.p
	u := &upsampler{r: r, out: out, W: p.Size.X, K: r.K, rows: map[int]*procRow{}, last: -1,
		conf: r.req.Confidence != NoConfidence, cls: make([]int16, p.Size.X), dst: make([][]float32, r.K)}
	for _, c := range r.e.manifest.Classes {
		u.ids = append(u.ids, uint8(c.ID))
	}
	if p.Resampled() {
		u.yaxis = preprocess.NewAxis(p.ProcSize.Y, p.Size.Y)
		u.xaxis = preprocess.NewAxis(p.ProcSize.X, p.Size.X)
		if u.conf {
			u.logits = make([][]float32, r.K)
			for c := range u.logits {
				u.logits[c] = make([]float32, u.W)
			}
		}
	}
	return u
}

func (u *upsampler) addNative(m *raster.Mask) { u.native = append(u.native, m) }

// validRow returns the native validity of row y, dropping rows above it.
func (u *upsampler) validRow(y int) ([]bool, error) {
	for len(u.native) > 0 && u.native[0].Rect.Max.Y <= y {
		u.native = u.native[1:]
	}
	if len(u.native) == 0 || y < u.native[0].Rect.Min.Y {
		return nil, fmt.Errorf("engine: internal error: native validity of row %d not read", y)
	}
	return u.native[0].Row(y), nil
}

// keep stores a copy of processing row logits, reusing released rows.
func (u *upsampler) keep(row int, scores [][]float32) {
	var pr *procRow
	if n := len(u.free); n > 0 {
		pr, u.free = u.free[n-1], u.free[:n-1]
	} else {
		pr = &procRow{logits: make([][]float32, u.K), cls: make([]int16, len(scores[0]))}
		for c := range pr.logits {
			pr.logits[c] = make([]float32, len(scores[0]))
		}
	}
	for c, s := range scores {
		copy(pr.logits[c], s)
	}
	argmaxRow(pr.cls, pr.logits)
	u.rows[row] = pr
}

// addRow takes the finished processing row and produces the native rows it
// completes.
func (u *upsampler) addRow(ctx context.Context, row int, scores [][]float32) error {
	if !u.r.p.Resampled() {
		argmaxRow(u.cls, scores)
		return u.emit(ctx, row, u.cls, scores)
	}
	u.keep(row, scores)
	u.last = row
	for u.next < u.r.p.Size.Y && u.yaxis.I1[u.next] <= u.last {
		a, b := u.rows[u.yaxis.I0[u.next]], u.rows[u.yaxis.I1[u.next]]
		fy := u.yaxis.F[u.next]
		if u.conf {
			for c := 0; c < u.K; c++ {
				preprocess.BilinearRow(u.logits[c], a.logits[c], b.logits[c], fy, u.xaxis)
			}
			argmaxRow(u.cls, u.logits)
		} else {
			u.classify(a, b, fy)
		}
		if err := u.emit(ctx, u.next, u.cls, u.logits); err != nil {
			return err
		}
		u.next++
		if u.next < u.r.p.Size.Y {
			for k, pr := range u.rows {
				if k < u.yaxis.I0[u.next] {
					delete(u.rows, k)
					u.free = append(u.free, pr)
				}
			}
		}
	}
	return nil
}

// classify sets the class of each pixel of a native row between processing
// rows a and b (vertical weight fy for b) to the argmax of the bilinearly
// interpolated logits. Interpolation is a convex combination, the same for
// every class, so where the four neighbours share their argmax the
// interpolated logits have it too: only pixels near a class boundary need
// their logits interpolated.
func (u *upsampler) classify(a, b *procRow, fy float32) {
	x := u.xaxis
	for d := range u.cls {
		i0, i1 := x.I0[d], x.I1[d]
		if c := a.cls[i0]; c >= 0 && c == a.cls[i1] && c == b.cls[i0] && c == b.cls[i1] {
			u.cls[d] = c
			continue
		}
		best, bv := int16(-1), float32(0)
		for c := 0; c < u.K; c++ {
			v := preprocess.BilinearAt(a.logits[c], b.logits[c], fy, x, d)
			if v != v {
				best = -1
				break
			}
			if best < 0 || v > bv {
				best, bv = int16(c), v
			}
		}
		u.cls[d] = best
	}
}

// emit writes native row y: class indices cls (-1 uncovered) and, for the
// confidence output, the softmax of its logits (K rows).
func (u *upsampler) emit(ctx context.Context, y int, cls []int16, logits [][]float32) error {
	if u.cur == nil {
		rows := min(blockRows, u.r.p.Size.Y-y)
		u.cur = &block{y0: y, rows: rows, classes: make([]uint8, rows*u.W)}
		if u.conf {
			u.cur.probs = make([][]float32, u.K)
			for c := range u.cur.probs {
				u.cur.probs[c] = make([]float32, rows*u.W)
			}
		}
	}
	b := u.cur
	i := y - b.y0
	out := b.classes[i*u.W : (i+1)*u.W]
	valid, err := u.validRow(y)
	if err != nil {
		return err
	}
	res := u.r.res
	for x, c := range cls {
		switch {
		case !valid[x]:
			out[x] = 255
		case c < 0: // NaN: no patch covered this pixel
			out[x] = 255
			res.Uncovered++
		default:
			out[x] = u.ids[c]
		}
		res.ClassCounts[out[x]]++
	}
	if u.conf {
		for c := range u.dst {
			u.dst[c] = b.probs[c][i*u.W : (i+1)*u.W]
		}
		softmaxRows(u.dst, logits)
		for x, v := range out {
			if v == 255 {
				for _, d := range u.dst {
					d[x] = float32(math.NaN())
				}
			}
		}
	}
	if i == b.rows-1 {
		u.cur = nil
		return send(ctx, u.out, b)
	}
	return nil
}

// flush reports rows that were never produced (a planning bug).
func (u *upsampler) flush() error {
	if u.cur != nil {
		return fmt.Errorf("engine: internal error: rows %d.. of %d not produced", u.cur.y0, u.r.p.Size.Y)
	}
	return nil
}

package engine

import (
	"context"
	"image"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/omnimask/omnimask/preprocess"
	"github.com/omnimask/omnimask/raster"
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
					r.validity(dv.SubImage(rows), dst.SubImage(rows))
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
					r.validity(nv.SubImage(rows), nb32.SubImage(rows))
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

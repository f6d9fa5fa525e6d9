package engine

import (
	"context"
	"fmt"
	"math"

	"github.com/omnimask/omnimask/raster"
	"github.com/omnimask/omnimask/stitch"
)

// stitch blends patch logits, finalises rows, brings them back to the
// native grid and classifies them.
func (r *run) stitch(ctx context.Context, in <-chan *batch, out chan<- *block, pool chan<- *batch) error {
	p := r.p
	P := p.Patch
	plane := P * P
	acc := stitch.NewAccumulator(r.K, p.ProcSize.X)
	weights := p.Blend.Weights(P, P, p.Overlap)
	if hardVote(r.e.manifest) {
		weights = stitch.VoteWeights(weights)
	}
	rows := newRowWriter(r, out)
	// A product classifies from every model's scores: the upsampler hands
	// on every native row's (interpolated) scores.
	up := stitch.NewUpsampler(p.ProcSize, p.Size, r.K, rows.conf || r.v.rules != nil, func(y int, cls []int16, logits [][]float32) error {
		return rows.emit(ctx, y, cls, logits)
	})
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
				rows.addNative(b.mark.native)
			}
			if err := acc.Flush(b.mark.final, up.Add); err != nil {
				return err
			}
		}
		r.progress.send(Progress{Done: done, Total: total})
	}
	if ctx.Err() != nil {
		// The stages before this one stop early when the run is
		// cancelled, so unfinished rows are expected: report the
		// cancellation (its cause, as the other stages do), not a
		// planning bug.
		return context.Cause(ctx)
	}
	return rows.flush()
}

// rowWriter gathers the native rows the upsampler classifies into blocks
// for the writer: class ids, nodata where the input has none, class counts,
// and probabilities for the confidence output.
type rowWriter struct {
	r      *run
	out    chan<- *block
	W, K   int
	ids    []uint8
	native []*raster.Mask // native validity, in row order
	cur    *block
	dst    [][]float32 // K rows of the current block's probabilities
	cls    [][]int16   // a product's per-model classes of a row (scratch)
	conf   bool
}

const blockRows = 128

func newRowWriter(r *run, out chan<- *block) *rowWriter {
	w := &rowWriter{r: r, out: out, W: r.p.Size.X, K: r.K, conf: r.req.Confidence != NoConfidence, dst: make([][]float32, r.K)}
	for _, c := range r.e.manifest.Classes {
		w.ids = append(w.ids, uint8(c.ID))
	}
	return w
}

func (u *rowWriter) addNative(m *raster.Mask) { u.native = append(u.native, m) }

// validRow returns the native validity of row y, dropping rows above it.
func (u *rowWriter) validRow(y int) ([]bool, error) {
	for len(u.native) > 0 && u.native[0].Rect.Max.Y <= y {
		u.native = u.native[1:]
	}
	if len(u.native) == 0 || y < u.native[0].Rect.Min.Y {
		return nil, fmt.Errorf("engine: internal error: native validity of row %d not read", y)
	}
	return u.native[0].Row(y), nil
}

// emit writes native row y: class indices cls (-1 uncovered) and, for the
// confidence output, the softmax of its logits (K rows).
func (u *rowWriter) emit(ctx context.Context, y int, cls []int16, logits [][]float32) error {
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
	if v := u.r.v; v.rules != nil {
		if u.cls == nil {
			u.cls = make([][]int16, len(v.models))
			for i := range u.cls {
				u.cls[i] = make([]int16, u.W)
			}
		}
		res.Uncovered += v.compose(out, logits, valid, u.cls)
		for _, id := range out {
			res.ClassCounts[id]++
		}
		cls = nil // classes set
	}
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
		switch v := u.r.v; {
		case v.rules != nil: // each model's probabilities over its classes
			for i := range v.models {
				stitch.Softmax(u.dst[v.off[i]:v.off[i]+v.k[i]], logits[v.off[i]:v.off[i]+v.k[i]])
			}
		case hardVote(u.r.e.manifest):
			for c, d := range u.dst {
				copy(d, logits[c]) // vote shares
			}
		default:
			stitch.Softmax(u.dst, logits)
		}
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
func (u *rowWriter) flush() error {
	if u.cur != nil {
		return fmt.Errorf("engine: internal error: rows %d.. of %d not produced", u.cur.y0, u.r.p.Size.Y)
	}
	return nil
}

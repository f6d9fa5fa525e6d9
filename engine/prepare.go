package engine

import (
	"context"

	"github.com/omnimask/omnimask/raster"
	"github.com/omnimask/omnimask/tiling"
)

// prepare cuts, shifts and normalises patches and groups them in batches.
func (r *run) prepare(ctx context.Context, in <-chan *strip, out chan<- *batch, pool chan *batch, sp *stripPool, n int) error {
	chans := r.unitChans()
	P := r.p.Patch
	size := r.N * P * P
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
			slot := &raster.Float32{Pix: cur.input[i*size : (i+1)*size], C: r.N, Stride: P, PlaneStride: P * P, Rect: rect}
			src := st.buf.SubImage(rect)
			for c, ch := range chans {
				p := plane(slot, c)
				p.CopyFrom(plane(src, ch.raw))
				normalize(p, valid, ch)
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

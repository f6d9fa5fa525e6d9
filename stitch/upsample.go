package stitch

import "image"

// An EmitFunc receives native row y: the class index of each pixel (-1 where
// a logit is NaN: no patch covered it) and, when the Upsampler was asked for
// them, the row's K logit rows. Both are only valid during the call.
type EmitFunc func(y int, cls []int16, logits [][]float32) error

// Upsampler turns finished processing rows of blended logits into native
// rows of classes (and logits, for probabilities): class logits are
// bilinearly interpolated from the processing grid to the native grid before
// the argmax, so the result aligns pixel for pixel with the input.
type Upsampler struct {
	proc, size image.Point
	k          int
	emit       EmitFunc
	withLogits bool
	rows       map[int]*procRow
	free       []*procRow
	next       int // next native row to produce
	yaxis      Axis
	xaxis      Axis
	logits     [][]float32 // K native rows, interpolated (scratch)
	cls        []int16     // class index per native pixel (scratch)
}

// procRow is a processing row kept for interpolation: its K logit rows and
// their argmax.
type procRow struct {
	logits [][]float32
	cls    []int16
}

// NewUpsampler returns an Upsampler from a processing grid of size proc to a
// native grid of size native for k classes, handing each native row to emit
// in order. With logits set, every native row's interpolated logits are
// computed and handed on (for probabilities); otherwise they are
// interpolated only near class boundaries.
func NewUpsampler(proc, native image.Point, k int, logits bool, emit EmitFunc) *Upsampler {
	u := &Upsampler{proc: proc, size: native, k: k, emit: emit, withLogits: logits,
		rows: map[int]*procRow{}, cls: make([]int16, native.X)}
	if u.resampled() {
		u.yaxis = NewAxis(proc.Y, native.Y)
		u.xaxis = NewAxis(proc.X, native.X)
		if logits {
			u.logits = make([][]float32, k)
			for c := range u.logits {
				u.logits[c] = make([]float32, native.X)
			}
		}
	}
	return u
}

func (u *Upsampler) resampled() bool { return u.proc != u.size }

// keep stores a copy of processing row logits, reusing released rows.
func (u *Upsampler) keep(row int, scores [][]float32) {
	var pr *procRow
	if n := len(u.free); n > 0 {
		pr, u.free = u.free[n-1], u.free[:n-1]
	} else {
		pr = &procRow{logits: make([][]float32, u.k), cls: make([]int16, len(scores[0]))}
		for c := range pr.logits {
			pr.logits[c] = make([]float32, len(scores[0]))
		}
	}
	for c, s := range scores {
		copy(pr.logits[c], s)
	}
	Argmax(pr.cls, pr.logits)
	u.rows[row] = pr
}

// Add takes the finished processing row (K rows of logits; rows come in
// order) and emits the native rows it completes.
func (u *Upsampler) Add(row int, scores [][]float32) error {
	if !u.resampled() {
		Argmax(u.cls, scores)
		return u.emit(row, u.cls, scores)
	}
	u.keep(row, scores)
	for u.next < u.size.Y && u.yaxis.I1[u.next] <= row {
		a, b := u.rows[u.yaxis.I0[u.next]], u.rows[u.yaxis.I1[u.next]]
		fy := u.yaxis.F[u.next]
		if u.withLogits {
			for c := 0; c < u.k; c++ {
				BilinearRow(u.logits[c], a.logits[c], b.logits[c], fy, u.xaxis)
			}
			Argmax(u.cls, u.logits)
		} else {
			u.classify(a, b, fy)
		}
		if err := u.emit(u.next, u.cls, u.logits); err != nil {
			return err
		}
		u.next++
		if u.next < u.size.Y {
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
func (u *Upsampler) classify(a, b *procRow, fy float32) {
	x := u.xaxis
	for d := range u.cls {
		i0, i1 := x.I0[d], x.I1[d]
		if c := a.cls[i0]; c >= 0 && c == a.cls[i1] && c == b.cls[i0] && c == b.cls[i1] {
			u.cls[d] = c
			continue
		}
		best, bv := int16(-1), float32(0)
		for c := 0; c < u.k; c++ {
			v := BilinearAt(a.logits[c], b.logits[c], fy, x, d)
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

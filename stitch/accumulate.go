package stitch

import (
	"fmt"
	"image"
	"math"
)

// nan marks pixels no patch covered.
var nan = float32(math.NaN())

// Accumulator sums window-weighted class scores of overlapping patches over a
// band of rows of a scene W pixels wide. Rows enter as patches reach them and
// leave, normalised, through Flush, so memory follows the band's height, not
// the scene's.
type Accumulator struct {
	K, W int       // classes, scene width
	top  int       // first row held
	n    int       // rows held
	sum  []float32 // n rows of K*W class sums
	wsum []float32 // n rows of W weight sums
	out  [][]float32
}

// NewAccumulator returns an empty accumulator for k classes over rows w
// pixels wide, starting at row 0.
func NewAccumulator(k, w int) *Accumulator {
	a := &Accumulator{K: k, W: w, out: make([][]float32, k)}
	for c := range a.out {
		a.out[c] = make([]float32, w)
	}
	return a
}

// Top returns the first row not yet flushed.
func (a *Accumulator) Top() int { return a.top }

// Add adds scores (K planes of r.Dy() x r.Dx(), row-major) weighted by
// weights (r.Dy() x r.Dx()). Rows above Top are an error: they were flushed.
func (a *Accumulator) Add(r image.Rectangle, scores, weights []float32) error {
	h, w := r.Dy(), r.Dx()
	if r.Min.Y < a.top || r.Min.X < 0 || r.Max.X > a.W {
		return fmt.Errorf("tiling: patch %v outside accumulator rows from %d, width %d", r, a.top, a.W)
	}
	if len(scores) < a.K*h*w || len(weights) < h*w {
		return fmt.Errorf("tiling: %d scores and %d weights for a %dx%d patch of %d classes", len(scores), len(weights), w, h, a.K)
	}
	if need := r.Max.Y - a.top; need > a.n {
		a.sum = append(a.sum, make([]float32, (need-a.n)*a.K*a.W)...)
		a.wsum = append(a.wsum, make([]float32, (need-a.n)*a.W)...)
		a.n = need
	}
	plane := h * w
	for y := 0; y < h; y++ {
		ry := r.Min.Y + y - a.top
		wrow := weights[y*w : (y+1)*w]
		ws := a.wsum[ry*a.W+r.Min.X : ry*a.W+r.Max.X]
		ws = ws[:len(wrow)]
		for x, v := range wrow {
			ws[x] += v
		}
		base := ry * a.K * a.W
		for c := 0; c < a.K; c++ {
			dst := a.sum[base+c*a.W+r.Min.X : base+c*a.W+r.Max.X]
			src := scores[c*plane+y*w : c*plane+(y+1)*w]
			dst, wr := dst[:len(src)], wrow[:len(src)]
			for x, v := range src {
				dst[x] += v * wr[x]
			}
		}
	}
	return nil
}

// Flush finalises the rows above y, calling emit for each in order with the
// weighted-mean scores per class (K rows of W; NaN where no patch covered
// the pixel). The slices passed to emit are reused after it returns.
func (a *Accumulator) Flush(y int, emit func(row int, scores [][]float32) error) error {
	done := 0 // rows of the buffer emitted
	defer func() { a.drop(done) }()
	for ; a.top+done < y; done++ {
		held := done < a.n
		for c := 0; c < a.K; c++ {
			dst := a.out[c]
			if !held {
				for x := range dst {
					dst[x] = nan
				}
				continue
			}
			ws := a.wsum[done*a.W : (done+1)*a.W]
			src := a.sum[(done*a.K+c)*a.W : (done*a.K+c+1)*a.W]
			for x, v := range src {
				if ws[x] > 0 {
					dst[x] = v / ws[x]
				} else {
					dst[x] = nan
				}
			}
		}
		if err := emit(a.top+done, a.out); err != nil {
			done++
			return err
		}
	}
	return nil
}

// drop removes the top k rows in one move.
func (a *Accumulator) drop(k int) {
	a.top += k
	k = min(k, a.n)
	a.n -= k
	a.sum = a.sum[:copy(a.sum, a.sum[k*a.K*a.W:])]
	a.wsum = a.wsum[:copy(a.wsum, a.wsum[k*a.W:])]
}

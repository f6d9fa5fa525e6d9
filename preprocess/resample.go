package preprocess

import (
	"image"
	"math"

	"github.com/omnimask/omnimask/raster"
)

// tap is one source sample and its weight.
type tap struct {
	i int
	w float64
}

// areaTaps returns, for each destination index d in [d0, d1), the source
// indices and overlap lengths of the interval [d*s, (d+1)*s), clipped to
// [0, srcN). s is source pixels per destination pixel.
func areaTaps(d0, d1 int, s float64, srcN int) [][]tap {
	out := make([][]tap, d1-d0)
	for d := d0; d < d1; d++ {
		lo, hi := float64(d)*s, float64(d+1)*s
		if hi > float64(srcN) {
			hi = float64(srcN)
		}
		var ts []tap
		for i := int(math.Floor(lo)); float64(i) < hi; i++ {
			a, b := math.Max(lo, float64(i)), math.Min(hi, float64(i+1))
			if b > a {
				ts = append(ts, tap{i, b - a})
			}
		}
		out[d-d0] = ts
	}
	return out
}

// AreaSpan returns the source interval [lo, hi) that destination indices
// [d0, d1) read under area resampling with s source pixels per destination
// pixel, clipped to [0, srcN).
func AreaSpan(d0, d1 int, s float64, srcN int) (lo, hi int) {
	lo = int(math.Floor(float64(d0) * s))
	hi = int(math.Ceil(float64(d1)*s - 1e-9))
	if hi > srcN {
		hi = srcN
	}
	if lo < 0 {
		lo = 0
	}
	return lo, hi
}

// Area resamples src onto dst by area averaging over valid pixels only.
// dst.Rect is in destination-grid coordinates and src.Rect in source-grid
// coordinates; a destination pixel (x, y) covers the source area
// [x*sx, (x+1)*sx) x [y*sy, (y+1)*sy). srcN is the source grid's full size
// (to clip the last pixel). srcValid covers src.Rect; dstValid (covering
// dst.Rect) receives whether any valid source pixel
// contributed. Source pixels outside src.Rect are treated as invalid.
func Area(dst *raster.Float32, dstValid *raster.Mask, src *raster.Float32, srcValid *raster.Mask, sx, sy float64, srcN image.Point) {
	srcValid = srcValid.SubImage(src.Rect) // a larger mask is read at src's coordinates
	if k := int(sx); float64(k) == sx && sy == sx && k > 1 {
		r := dst.Rect
		in := image.Rect(r.Min.X*k, r.Min.Y*k, r.Max.X*k, r.Max.Y*k)
		if in.In(src.Rect) && in.Max.X <= srcN.X && in.Max.Y <= srcN.Y {
			areaInt(dst, dstValid, src, srcValid, k)
			return
		}
	}
	areaTapped(dst, dstValid, src, srcValid, sx, sy, srcN)
}

// areaTapped is Area for any factors, through per-axis tap lists.
func areaTapped(dst *raster.Float32, dstValid *raster.Mask, src *raster.Float32, srcValid *raster.Mask, sx, sy float64, srcN image.Point) {
	xt := areaTaps(dst.Rect.Min.X, dst.Rect.Max.X, sx, srcN.X)
	yt := areaTaps(dst.Rect.Min.Y, dst.Rect.Max.Y, sy, srcN.Y)
	acc := make([]float64, dst.C)
	for dy, ys := range yt {
		for dx, xs := range xt {
			var wsum float64
			for c := range acc {
				acc[c] = 0
			}
			for _, ty := range ys {
				if ty.i < src.Rect.Min.Y || ty.i >= src.Rect.Max.Y {
					continue
				}
				vrow := srcValid.Row(ty.i)
				for _, tx := range xs {
					if tx.i < src.Rect.Min.X || tx.i >= src.Rect.Max.X || !vrow[tx.i-src.Rect.Min.X] {
						continue
					}
					w := ty.w * tx.w
					wsum += w
					for c := range acc {
						acc[c] += w * float64(src.Pix[src.PixOffset(c, tx.i, ty.i)])
					}
				}
			}
			x, y := dst.Rect.Min.X+dx, dst.Rect.Min.Y+dy
			ok := wsum > 0
			dstValid.Pix[(y-dstValid.Rect.Min.Y)*dstValid.Stride+x-dstValid.Rect.Min.X] = ok
			for c := range acc {
				v := float32(0)
				if ok {
					v = float32(acc[c] / wsum)
				}
				dst.Pix[dst.PixOffset(c, x, y)] = v
			}
		}
	}
}

// areaInt is Area for an integer factor k whose source blocks all lie
// inside src: row-wise sums of k x k blocks over valid pixels, added in the
// general path's order with the same unit weights, so the results are equal.
func areaInt(dst *raster.Float32, dstValid *raster.Mask, src *raster.Float32, srcValid *raster.Mask, k int) {
	if k == 2 {
		area2(dst, dstValid, src, srcValid)
		return
	}
	w := dst.Rect.Dx()
	off := dst.Rect.Min.X*k - src.Rect.Min.X
	n := make([]int32, w)
	acc := make([]float64, w*dst.C)
	for y := dst.Rect.Min.Y; y < dst.Rect.Max.Y; y++ {
		clear(n)
		clear(acc)
		for sy := y * k; sy < (y+1)*k; sy++ {
			v := srcValid.Row(sy)[off : off+w*k]
			for c := 0; c < dst.C; c++ {
				row := src.Row(c, sy)[off : off+w*k]
				a := acc[c*w : (c+1)*w]
				j := 0
				for dx := range a {
					s := a[dx]
					for range k {
						if v[j] {
							s += float64(row[j])
						}
						j++
					}
					a[dx] = s
				}
			}
			j := 0
			for dx := range n {
				for range k {
					if v[j] {
						n[dx]++
					}
					j++
				}
			}
		}
		vrow := dstValid.SubImage(image.Rect(dst.Rect.Min.X, y, dst.Rect.Max.X, y+1)).Row(y)
		for dx, c := range n {
			vrow[dx] = c > 0
		}
		for c := 0; c < dst.C; c++ {
			out := dst.Row(c, y)
			for dx, s := range acc[c*w : (c+1)*w] {
				if n[dx] > 0 {
					out[dx] = float32(s / float64(n[dx]))
				} else {
					out[dx] = 0
				}
			}
		}
	}
}

// area2 is areaInt for k = 2 (20 m processing of 10 m scenes, the common
// case), unrolled: each 2 x 2 block is summed in the same order.
func area2(dst *raster.Float32, dstValid *raster.Mask, src *raster.Float32, srcValid *raster.Mask) {
	w := dst.Rect.Dx()
	off := dst.Rect.Min.X*2 - src.Rect.Min.X
	n := make([]uint8, w)
	for y := dst.Rect.Min.Y; y < dst.Rect.Max.Y; y++ {
		v0 := srcValid.Row(2 * y)[off : off+2*w]
		v1 := srcValid.Row(2*y + 1)[off : off+2*w]
		vrow := dstValid.SubImage(image.Rect(dst.Rect.Min.X, y, dst.Rect.Max.X, y+1)).Row(y)[:w]
		for dx := range n {
			c := b2u(v0[2*dx]) + b2u(v0[2*dx+1]) + b2u(v1[2*dx]) + b2u(v1[2*dx+1])
			n[dx] = c
			vrow[dx] = c > 0
		}
		for c := 0; c < dst.C; c++ {
			p0 := src.Row(c, 2*y)[off : off+2*w]
			p1 := src.Row(c, 2*y+1)[off : off+2*w]
			out := dst.Row(c, y)[:w]
			for dx, cnt := range n {
				if cnt == 0 {
					out[dx] = 0
					continue
				}
				var s float64
				if v0[2*dx] {
					s += float64(p0[2*dx])
				}
				if v0[2*dx+1] {
					s += float64(p0[2*dx+1])
				}
				if v1[2*dx] {
					s += float64(p1[2*dx])
				}
				if v1[2*dx+1] {
					s += float64(p1[2*dx+1])
				}
				out[dx] = float32(s / float64(cnt))
			}
		}
	}
}

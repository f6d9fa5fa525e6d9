package stitch

import "math"

// Axis maps destination indices onto a source grid for bilinear
// interpolation with pixel centres aligned: destination index d sits at
// source coordinate (d+0.5)*srcN/dstN - 0.5, clamped to the grid.
type Axis struct {
	I0, I1 []int
	F      []float32 // weight of I1
}

// NewAxis returns the bilinear mapping of dstN destination indices onto
// srcN source indices.
func NewAxis(srcN, dstN int) Axis {
	a := Axis{I0: make([]int, dstN), I1: make([]int, dstN), F: make([]float32, dstN)}
	s := float64(srcN) / float64(dstN)
	for d := 0; d < dstN; d++ {
		p := (float64(d)+0.5)*s - 0.5
		if p < 0 {
			p = 0
		}
		if p > float64(srcN-1) {
			p = float64(srcN - 1)
		}
		i0 := int(math.Floor(p))
		i1 := i0 + 1
		if i1 > srcN-1 {
			i1 = srcN - 1
		}
		a.I0[d], a.I1[d], a.F[d] = i0, i1, float32(p-float64(i0))
	}
	return a
}

// BilinearRow writes into dst (one destination row) the bilinear blend of two
// source rows a and b with vertical weight fy for b, using the column axis x.
// NaN source samples are left out and the remaining weights renormalised;
// dst is NaN where every neighbour with a non-zero weight is NaN.
func BilinearRow(dst, a, b []float32, fy float32, x Axis) {
	for d := range dst {
		i0, i1, fx := x.I0[d], x.I1[d], x.F[d]
		v00, v01, v10, v11 := a[i0], a[i1], b[i0], b[i1]
		if v00 == v00 && v01 == v01 && v10 == v10 && v11 == v11 {
			dst[d] = bilerp(v00, v01, v10, v11, fx, fy)
			continue
		}
		dst[d] = bilinearNaN(v00, v01, v10, v11, fx, fy)
	}
}

// BilinearAt is BilinearRow for the single destination pixel d.
func BilinearAt(a, b []float32, fy float32, x Axis, d int) float32 {
	i0, i1, fx := x.I0[d], x.I1[d], x.F[d]
	v00, v01, v10, v11 := a[i0], a[i1], b[i0], b[i1]
	if v00 == v00 && v01 == v01 && v10 == v10 && v11 == v11 {
		return bilerp(v00, v01, v10, v11, fx, fy)
	}
	return bilinearNaN(v00, v01, v10, v11, fx, fy)
}

// bilerp blends four samples with horizontal weight fx and vertical weight
// fy for the second of each pair.
func bilerp(v00, v01, v10, v11, fx, fy float32) float32 {
	gx, gy := 1-fx, 1-fy
	return gy*(gx*v00+fx*v01) + fy*(gx*v10+fx*v11)
}

// bilinearNaN interpolates over the neighbours that are not NaN, with their
// weights renormalised; NaN when none with a positive weight is left.
func bilinearNaN(v00, v01, v10, v11, fx, fy float32) float32 {
	gx, gy := 1-fx, 1-fy
	var sum, ws float32
	for _, t := range [4]struct{ v, w float32 }{{v00, gy * gx}, {v01, gy * fx}, {v10, fy * gx}, {v11, fy * fx}} {
		if t.v == t.v && t.w > 0 {
			sum += t.v * t.w
			ws += t.w
		}
	}
	if ws > 0 {
		return sum / ws
	}
	return float32(math.NaN())
}

package preprocess

import "math"

// NormDiff sets dst[i] to the normalised difference (a[i] - b[i]) / (a[i] +
// b[i]), computed in float64 and clamped to [-1, 1] (reached only when the
// two values differ in sign, e.g. negative surface reflectance). Where ok[i]
// is false, where a[i] + b[i] is 0 and where the result is not finite, dst[i]
// is NaN: the pixel has no index, and the engine treats it as nodata. dst, a,
// b and ok must have the same length (ok may be nil: all pixels valid).
func NormDiff(dst, a, b []float32, ok []bool) {
	a, b = a[:len(dst)], b[:len(dst)]
	nan := float32(math.NaN())
	for i := range dst {
		if ok != nil && !ok[i] {
			dst[i] = nan
			continue
		}
		x, y := float64(a[i]), float64(b[i])
		s := x + y
		v := (x - y) / s
		switch {
		case s == 0 || v != v || math.IsInf(v, 0):
			dst[i] = nan
		case v > 1:
			dst[i] = 1
		case v < -1:
			dst[i] = -1
		default:
			dst[i] = float32(v)
		}
	}
}

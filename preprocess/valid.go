// Package preprocess holds the pure numeric steps between reading a raster
// and feeding a network: validity masks, normalisation (dynamic z-score,
// fixed, none) and resampling kernels. It does no I/O and uses no cgo.
package preprocess

import (
	"math"

	"github.com/omnimask/omnimask/raster"
)

// Valid sets dst (which must cover m.Rect) to the validity of each pixel of
// m: a pixel is invalid when any channel is NaN or ±Inf, or when every
// channel equals the nodata value (a NaN nodata value makes NaN pixels the
// nodata ones, which are invalid anyway). It returns the number of valid
// pixels.
func Valid(dst *raster.Mask, m *raster.Float32, nodata raster.NoData) int {
	w := m.Rect.Dx()
	nd := float32(nodata.Value)
	checkND := nodata.Set && !math.IsNaN(nodata.Value) && m.C > 0
	// Per pixel: bit 0 set = some channel is not finite, bit 1 set = some
	// channel differs from nodata. Built channel by channel, branch-free.
	flags := make([]uint8, w)
	n := 0
	dst = dst.SubImage(m.Rect)
	for y := m.Rect.Min.Y; y < m.Rect.Max.Y; y++ {
		clear(flags)
		for c := 0; c < m.C; c++ {
			src := m.Row(c, y)[:w]
			f := flags[:len(src)]
			for x, v := range src {
				// NaN, +Inf and -Inf: all exponent bits set.
				f[x] |= b2u(math.Float32bits(v)&0x7f800000 == 0x7f800000) | b2u(v != nd)<<1
			}
		}
		row := dst.Row(y)[:w]
		for x, f := range flags {
			ok := f&1 == 0 && (!checkND || f&2 != 0)
			row[x] = ok
			n += int(b2u(ok))
		}
	}
	return n
}

// b2u is 1 for true and 0 for false (compiled without a branch).
func b2u(b bool) uint8 {
	var u uint8
	if b {
		u = 1
	}
	return u
}

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
	allND := make([]bool, w)
	n := 0
	dst = dst.SubImage(m.Rect)
	for y := m.Rect.Min.Y; y < m.Rect.Max.Y; y++ {
		row := dst.Row(y)[:w]
		for x := range row {
			row[x] = true
			allND[x] = checkND
		}
		for c := 0; c < m.C; c++ {
			src := m.Row(c, y)[:w]
			for x, v := range src {
				// NaN, +Inf and -Inf all fail this test.
				if !(v >= -math.MaxFloat32 && v <= math.MaxFloat32) {
					row[x] = false
				}
				if v != nd {
					allND[x] = false
				}
			}
		}
		for x := range row {
			if allND[x] {
				row[x] = false
			}
			if row[x] {
				n++
			}
		}
	}
	return n
}

package preprocess

import (
	"image"
	"math"

	"github.com/omnimask/omnimask/raster"
)

var (
	nan32 = float32(math.NaN())
	inf32 = float32(math.Inf(1))
)

// newRaster returns a c-channel raster over r holding vals in CHW order.
func newRaster(c int, r image.Rectangle, vals ...float32) *raster.Float32 {
	m := raster.NewFloat32(c, r)
	if len(vals) != len(m.Pix) {
		panic("newRaster: wrong number of values")
	}
	copy(m.Pix, vals)
	return m
}

// maskOf returns a mask over r from flags in row-major order.
func maskOf(r image.Rectangle, flags ...bool) *raster.Mask {
	m := raster.NewMask(r)
	if len(flags) != len(m.Pix) {
		panic("maskOf: wrong number of flags")
	}
	copy(m.Pix, flags)
	return m
}

// allValid returns a mask over r with every pixel valid.
func allValid(r image.Rectangle) *raster.Mask {
	m := raster.NewMask(r)
	for i := range m.Pix {
		m.Pix[i] = true
	}
	return m
}

// refValid is the validity definition of models/MANIFEST.md written out
// plainly: a pixel is invalid when any channel is NaN or ±Inf, or when a
// (non-NaN) nodata value is set and every channel equals it.
func refValid(m *raster.Float32, nodata raster.NoData, x, y int) bool {
	all := nodata.Set && !math.IsNaN(nodata.Value) && m.C > 0
	for c := 0; c < m.C; c++ {
		v := float64(m.At(c, x, y))
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
		if v != float64(float32(nodata.Value)) {
			all = false
		}
	}
	return !all
}

// refStats returns the float64 mean and population standard deviation of
// channel c over the pixels ok reports valid, with the manifest's fallbacks.
func refStats(m *raster.Float32, c int, ok func(x, y int) bool) (mean, std float64) {
	var vals []float64
	for y := m.Rect.Min.Y; y < m.Rect.Max.Y; y++ {
		for x := m.Rect.Min.X; x < m.Rect.Max.X; x++ {
			if ok(x, y) {
				vals = append(vals, float64(m.At(c, x, y)))
			}
		}
	}
	if len(vals) == 0 {
		return 0, 1
	}
	for _, v := range vals {
		mean += v
	}
	mean /= float64(len(vals))
	var ss float64
	for _, v := range vals {
		ss += (v - mean) * (v - mean)
	}
	std = math.Sqrt(ss / float64(len(vals)))
	if std == 0 {
		std = 1
	}
	return mean, std
}

// lcg is a tiny deterministic generator so tests need no seeding policy.
type lcg uint64

func (g *lcg) float() float64 {
	*g = *g*6364136223846793005 + 1442695040888963407
	return float64(uint64(*g)>>11) / (1 << 53)
}

func close32(got, want float32, tol float64) bool {
	if math.IsNaN(float64(want)) {
		return math.IsNaN(float64(got))
	}
	return math.Abs(float64(got)-float64(want)) <= tol*math.Max(1, math.Abs(float64(want)))
}

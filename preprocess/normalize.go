package preprocess

import (
	"fmt"
	"math"

	"github.com/omnimask/omnimask/raster"
)

// ZScore normalises m in place, each channel by the mean and population
// standard deviation of its valid pixels (valid covers m.Rect, as filled by
// Valid). A channel with zero spread (or no valid pixel) uses a
// standard deviation of 1. Invalid pixels become fill. This is the dynamic
// z-score of OmniCloudMask: no dataset statistics are needed, so the same
// network sees comparable inputs from any sensor, scale or data type.
func ZScore(m *raster.Float32, valid *raster.Mask, fill float32) {
	for c := 0; c < m.C; c++ {
		mean, std := Stats(m, c, valid)
		apply(m, c, valid, mean, std, fill)
	}
}

// Stats returns the mean and population standard deviation of channel c over
// the valid pixels of m, computed in float64 in two passes. With no valid
// pixel it returns (0, 1); a zero standard deviation is returned as 1.
func Stats(m *raster.Float32, c int, valid *raster.Mask) (mean, std float64) {
	valid = valid.SubImage(m.Rect) // a larger mask is read at m's coordinates
	var sum float64
	n := 0
	for y := 0; y < m.Rect.Dy(); y++ {
		row := m.Row(c, m.Rect.Min.Y+y)
		ok := valid.Row(m.Rect.Min.Y + y)[:len(row)]
		for x, v := range row {
			if ok[x] {
				sum += float64(v)
				n++
			}
		}
	}
	if n == 0 {
		return 0, 1
	}
	mean = sum / float64(n)
	var ss float64
	for y := 0; y < m.Rect.Dy(); y++ {
		row := m.Row(c, m.Rect.Min.Y+y)
		ok := valid.Row(m.Rect.Min.Y + y)[:len(row)]
		for x, v := range row {
			if ok[x] {
				d := float64(v) - mean
				ss += d * d
			}
		}
	}
	std = math.Sqrt(ss / float64(n))
	if std == 0 || math.IsNaN(std) || math.IsInf(std, 0) {
		std = 1
	}
	return mean, std
}

// Fixed normalises m in place with per-channel mean and std; invalid pixels
// become fill.
func Fixed(m *raster.Float32, valid *raster.Mask, mean, std []float64, fill float32) error {
	if len(mean) != m.C || len(std) != m.C {
		return fmt.Errorf("preprocess: fixed normalisation has %d means and %d stds for %d channels", len(mean), len(std), m.C)
	}
	for c := 0; c < m.C; c++ {
		s := std[c]
		if s == 0 {
			return fmt.Errorf("preprocess: fixed normalisation std of channel %d is 0", c)
		}
		apply(m, c, valid, mean[c], s, fill)
	}
	return nil
}

// Fill sets the invalid pixels of m to fill and leaves the others unchanged.
func Fill(m *raster.Float32, valid *raster.Mask, fill float32) {
	for c := 0; c < m.C; c++ {
		apply(m, c, valid, 0, 1, fill)
	}
}

func apply(m *raster.Float32, c int, valid *raster.Mask, mean, std float64, fill float32) {
	valid = valid.SubImage(m.Rect) // a larger mask is read at m's coordinates
	inv := 1 / std
	for y := 0; y < m.Rect.Dy(); y++ {
		row := m.Row(c, m.Rect.Min.Y+y)
		ok := valid.Row(m.Rect.Min.Y + y)[:len(row)]
		for x, v := range row {
			if ok[x] {
				row[x] = float32((float64(v) - mean) * inv)
			} else {
				row[x] = fill
			}
		}
	}
}

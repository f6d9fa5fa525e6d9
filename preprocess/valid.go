// Package preprocess holds the pure numeric steps between reading a raster
// and feeding a network: validity masks, normalisation (dynamic z-score,
// fixed, none), area resampling onto the processing grid and band
// specifications. It does no I/O and uses no cgo.
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
	n := 0
	dst = dst.SubImage(m.Rect)
	if m.C == 3 {
		return valid3(dst, m, nd, checkND)
	}
	flags := make([]uint8, w)
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

// valid3 is Valid for three channels (the usual model input) in one pass
// over the pixels.
func valid3(dst *raster.Mask, m *raster.Float32, nd float32, checkND bool) int {
	const exp = 0x7f800000 // NaN, +Inf and -Inf: all exponent bits set
	w := m.Rect.Dx()
	ck := b2u(checkND)
	n := 0
	for y := m.Rect.Min.Y; y < m.Rect.Max.Y; y++ {
		r0, r1, r2 := m.Row(0, y)[:w], m.Row(1, y)[:w], m.Row(2, y)[:w]
		row := dst.Row(y)[:w]
		for x := range row {
			a, b, c := r0[x], r1[x], r2[x]
			bad := b2u(math.Float32bits(a)&exp == exp) | b2u(math.Float32bits(b)&exp == exp) | b2u(math.Float32bits(c)&exp == exp)
			bad |= b2u(a == nd) & b2u(b == nd) & b2u(c == nd) & ck
			row[x] = bad == 0
			n += int(1 - bad)
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

// usableNoData reports whether a pixel can be compared with nodata: set and
// not NaN (NaN pixels are invalid anyway). Like Valid, the comparison is in
// float32.
func usableNoData(nd raster.NoData) bool {
	return nd.Set && !math.IsNaN(nd.Value)
}

// ValidBands is Valid with a nodata value per channel (len(nodata) == m.C):
// a pixel is invalid when any channel is NaN or ±Inf, or when every channel
// with a usable nodata value equals its own (channels without one do not
// take part; with none, only non-finite pixels are invalid).
func ValidBands(dst *raster.Mask, m *raster.Float32, nodata []raster.NoData) int {
	w := m.Rect.Dx()
	dst = dst.SubImage(m.Rect)
	chans, nds := NoDataChannels(nodata[:min(m.C, len(nodata))])
	if uniform(chans, nds, m.C) {
		// Every channel compared with one value, or none: Valid's test.
		nd := raster.NoData{}
		if len(chans) > 0 {
			nd = raster.NoDataValue(float64(nds[0]))
		}
		return Valid(dst, m, nd)
	}
	n := 0
	for y := m.Rect.Min.Y; y < m.Rect.Max.Y; y++ {
		row := dst.Row(y)[:w]
		for x := range row {
			ok := true
			for c := 0; c < m.C; c++ {
				if math.Float32bits(m.Row(c, y)[x])&0x7f800000 == 0x7f800000 {
					ok = false
					break
				}
			}
			if ok && len(chans) > 0 {
				all := true
				for _, c := range chans {
					if m.Row(c, y)[x] != nds[c] {
						all = false
						break
					}
				}
				ok = !all
			}
			row[x] = ok
			n += int(b2u(ok))
		}
	}
	return n
}

// uniform reports whether ValidBands' test with the channels chans and
// values vals (NoDataChannels) of a C-channel raster is Valid's: none of
// the channels takes part, or all of them with one float32 value.
func uniform(chans []int, vals []float32, C int) bool {
	if len(chans) == 0 {
		return true
	}
	if len(chans) != C {
		return false
	}
	for _, v := range vals {
		if v != vals[0] {
			return false
		}
	}
	return true
}

// NoDataChannels is ValidBands' nodata test for channels with the nodata
// values nodata, for code that applies it to samples of its own (integers):
// the channels that take part (those with a usable value: set, not NaN)
// and, indexed by channel, the float32 value each is compared with. A
// pixel is nodata when chans is not empty and every channel of chans
// equals its value, or when any channel is NaN or ±Inf.
func NoDataChannels(nodata []raster.NoData) (chans []int, vals []float32) {
	vals = make([]float32, len(nodata))
	for c, nd := range nodata {
		if usableNoData(nd) {
			chans = append(chans, c)
			vals[c] = float32(nd.Value)
		}
	}
	return chans, vals
}

// Package raster holds the in-memory raster types shared by the data path:
// a channel-major (CHW) float32 buffer shaped like image.Gray16, and the
// georeferencing that travels with it. It does no I/O.
package raster

import (
	"fmt"
	"image"
)

// Float32 is a multi-channel float32 raster stored channel by channel (CHW).
// The value of channel c at (x, y) is Pix[c*PlaneStride + (y-Rect.Min.Y)*Stride + (x-Rect.Min.X)].
// A SubImage shares Pix with its parent, as image.Gray16 does.
type Float32 struct {
	Pix         []float32
	C           int // number of channels
	Stride      int // elements between vertically adjacent pixels
	PlaneStride int // elements between the same pixel in adjacent channels
	Rect        image.Rectangle
}

// NewFloat32 returns a zeroed raster with c channels covering r.
func NewFloat32(c int, r image.Rectangle) *Float32 {
	if c < 0 {
		panic(fmt.Sprintf("raster: negative channel count %d", c))
	}
	w, h := r.Dx(), r.Dy()
	return &Float32{Pix: make([]float32, c*w*h), C: c, Stride: w, PlaneStride: w * h, Rect: r}
}

// Bounds returns the raster's rectangle.
func (m *Float32) Bounds() image.Rectangle { return m.Rect }

// PixOffset returns the index in Pix of channel c at (x, y).
func (m *Float32) PixOffset(c, x, y int) int {
	return c*m.PlaneStride + (y-m.Rect.Min.Y)*m.Stride + (x - m.Rect.Min.X)
}

// At returns channel c at (x, y); it panics when (x, y) is outside Rect.
func (m *Float32) At(c, x, y int) float32 {
	if !(image.Point{x, y}.In(m.Rect)) {
		panic(fmt.Sprintf("raster: (%d,%d) outside %v", x, y, m.Rect))
	}
	return m.Pix[m.PixOffset(c, x, y)]
}

// Set sets channel c at (x, y); points outside Rect are ignored.
func (m *Float32) Set(c, x, y int, v float32) {
	if !(image.Point{x, y}.In(m.Rect)) {
		return
	}
	m.Pix[m.PixOffset(c, x, y)] = v
}

// Row returns the pixels of channel c on row y, from Rect.Min.X to Rect.Max.X.
// The slice aliases Pix.
func (m *Float32) Row(c, y int) []float32 {
	i := m.PixOffset(c, m.Rect.Min.X, y)
	return m.Pix[i : i+m.Rect.Dx() : i+m.Rect.Dx()]
}

// SubImage returns the part of m inside r, sharing memory with m.
func (m *Float32) SubImage(r image.Rectangle) *Float32 {
	r = r.Intersect(m.Rect)
	if r.Empty() {
		return &Float32{C: m.C}
	}
	i := m.PixOffset(0, r.Min.X, r.Min.Y)
	return &Float32{Pix: m.Pix[i:], C: m.C, Stride: m.Stride, PlaneStride: m.PlaneStride, Rect: r}
}

// Contiguous reports whether the pixels of m are packed without gaps (so Pix
// can be handed to a tensor as is).
func (m *Float32) Contiguous() bool {
	return m.Stride == m.Rect.Dx() && m.PlaneStride == m.Rect.Dx()*m.Rect.Dy()
}

// CopyFrom copies the overlap of src and m into m, channel by channel.
// Both must have the same channel count.
func (m *Float32) CopyFrom(src *Float32) {
	if src.C != m.C {
		panic(fmt.Sprintf("raster: copy between %d and %d channels", src.C, m.C))
	}
	r := m.Rect.Intersect(src.Rect)
	if r.Empty() {
		return
	}
	for c := 0; c < m.C; c++ {
		for y := r.Min.Y; y < r.Max.Y; y++ {
			d := m.PixOffset(c, r.Min.X, y)
			s := src.PixOffset(c, r.Min.X, y)
			copy(m.Pix[d:d+r.Dx()], src.Pix[s:s+r.Dx()])
		}
	}
}

// Clone returns a contiguous copy of m.
func (m *Float32) Clone() *Float32 {
	out := NewFloat32(m.C, m.Rect)
	out.CopyFrom(m)
	return out
}

// NoData is an optional nodata value. The zero value means "no nodata value".
type NoData struct {
	Value float64
	Set   bool
}

// NoDataValue returns a set NoData holding v.
func NoDataValue(v float64) NoData { return NoData{Value: v, Set: true} }

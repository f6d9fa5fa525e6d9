package raster

import "image"

// Mask marks pixels as valid (true) or not, laid out like image.Alpha:
// pixel (x, y) is Pix[(y-Rect.Min.Y)*Stride + (x-Rect.Min.X)].
type Mask struct {
	Pix    []bool
	Stride int
	Rect   image.Rectangle
}

// NewMask returns an all-invalid mask covering r.
func NewMask(r image.Rectangle) *Mask {
	return &Mask{Pix: make([]bool, r.Dx()*r.Dy()), Stride: r.Dx(), Rect: r}
}

// Valid reports whether (x, y) is inside the mask and valid.
func (m *Mask) Valid(x, y int) bool {
	if !(image.Point{x, y}.In(m.Rect)) {
		return false
	}
	return m.Pix[(y-m.Rect.Min.Y)*m.Stride+(x-m.Rect.Min.X)]
}

// Row returns the flags of row y from Rect.Min.X to Rect.Max.X (aliases Pix).
func (m *Mask) Row(y int) []bool {
	i := (y - m.Rect.Min.Y) * m.Stride
	return m.Pix[i : i+m.Rect.Dx() : i+m.Rect.Dx()]
}

// SubImage returns the part of m inside r, sharing memory with m.
func (m *Mask) SubImage(r image.Rectangle) *Mask {
	r = r.Intersect(m.Rect)
	if r.Empty() {
		return &Mask{}
	}
	i := (r.Min.Y-m.Rect.Min.Y)*m.Stride + (r.Min.X - m.Rect.Min.X)
	return &Mask{Pix: m.Pix[i:], Stride: m.Stride, Rect: r}
}

// Count returns the number of valid pixels.
func (m *Mask) Count() int {
	n := 0
	for y := m.Rect.Min.Y; y < m.Rect.Max.Y; y++ {
		for _, v := range m.Row(y) {
			if v {
				n++
			}
		}
	}
	return n
}

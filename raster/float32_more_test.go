package raster

import (
	"fmt"
	"image"
	"testing"
)

// fillCoded sets every sample of m to code(c, x, y), so that a value names
// the sample it came from (coordinates must stay within ±50).
func fillCoded(m *Float32) {
	for c := 0; c < m.C; c++ {
		for y := m.Rect.Min.Y; y < m.Rect.Max.Y; y++ {
			for x := m.Rect.Min.X; x < m.Rect.Max.X; x++ {
				m.Set(c, x, y, code(c, x, y))
			}
		}
	}
}

func code(c, x, y int) float32 { return float32(c*10000 + y*100 + x) }

func TestNewFloat32(t *testing.T) {
	tests := []struct {
		c    int
		r    image.Rectangle
		want int // len(Pix)
	}{
		{3, image.Rect(0, 0, 4, 5), 60},
		{1, image.Rect(10, 20, 14, 23), 12},
		{0, image.Rect(0, 0, 4, 4), 0},
		{2, image.Rectangle{}, 0},
		{2, image.Rect(-3, -2, 1, 1), 24},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d_%v", tt.c, tt.r), func(t *testing.T) {
			m := NewFloat32(tt.c, tt.r)
			if len(m.Pix) != tt.want || m.C != tt.c || m.Rect != tt.r || m.Bounds() != tt.r {
				t.Fatalf("NewFloat32(%d, %v) = len %d, C %d, Rect %v; want len %d", tt.c, tt.r, len(m.Pix), m.C, m.Rect, tt.want)
			}
			if m.Stride != tt.r.Dx() || m.PlaneStride != tt.r.Dx()*tt.r.Dy() {
				t.Errorf("Stride %d PlaneStride %d, want %d %d", m.Stride, m.PlaneStride, tt.r.Dx(), tt.r.Dx()*tt.r.Dy())
			}
			if !m.Contiguous() {
				t.Error("new raster not contiguous")
			}
			for i, v := range m.Pix {
				if v != 0 {
					t.Fatalf("Pix[%d] = %v, want 0", i, v)
				}
			}
		})
	}
}

func TestNewFloat32NegativeChannelsPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("NewFloat32(-1, ...) did not panic")
		}
	}()
	NewFloat32(-1, image.Rect(0, 0, 1, 1))
}

func TestPixOffset(t *testing.T) {
	m := NewFloat32(3, image.Rect(10, 20, 14, 23)) // 4 x 3, plane 12
	tests := []struct {
		c, x, y int
		want    int
	}{
		{0, 10, 20, 0},
		{0, 13, 20, 3},
		{0, 10, 21, 4},
		{0, 11, 22, 9},
		{1, 10, 20, 12},
		{2, 10, 20, 24},
		{2, 13, 22, 35}, // last element
	}
	for _, tt := range tests {
		if got := m.PixOffset(tt.c, tt.x, tt.y); got != tt.want {
			t.Errorf("PixOffset(%d, %d, %d) = %d, want %d", tt.c, tt.x, tt.y, got, tt.want)
		}
	}
	// In a sub-image, offsets are relative to the sub-image's own Pix.
	s := m.SubImage(image.Rect(11, 21, 13, 23))
	if got := s.PixOffset(0, 11, 21); got != 0 {
		t.Errorf("sub PixOffset(0, 11, 21) = %d, want 0", got)
	}
	if got, want := s.PixOffset(2, 12, 22), 2*12+4+1; got != want {
		t.Errorf("sub PixOffset(2, 12, 22) = %d, want %d", got, want)
	}
}

func TestAtSet(t *testing.T) {
	m := NewFloat32(2, image.Rect(-2, 3, 3, 7))
	fillCoded(m)
	for c := 0; c < m.C; c++ {
		for y := m.Rect.Min.Y; y < m.Rect.Max.Y; y++ {
			for x := m.Rect.Min.X; x < m.Rect.Max.X; x++ {
				if got := m.At(c, x, y); got != code(c, x, y) {
					t.Fatalf("At(%d, %d, %d) = %v, want %v", c, x, y, got, code(c, x, y))
				}
				if got := m.Pix[m.PixOffset(c, x, y)]; got != code(c, x, y) {
					t.Fatalf("Pix[PixOffset(%d, %d, %d)] = %v, want %v", c, x, y, got, code(c, x, y))
				}
			}
		}
	}
}

func TestSetOutsideIgnored(t *testing.T) {
	m := NewFloat32(1, image.Rect(0, 0, 3, 3))
	for _, p := range []image.Point{{-1, 0}, {3, 0}, {0, -1}, {0, 3}, {100, 100}} {
		m.Set(0, p.X, p.Y, 42)
	}
	for i, v := range m.Pix {
		if v != 0 {
			t.Fatalf("Set outside Rect wrote Pix[%d] = %v", i, v)
		}
	}
	// A sub-image must not write into its parent outside its own rectangle.
	parent := NewFloat32(1, image.Rect(0, 0, 4, 4))
	sub := parent.SubImage(image.Rect(1, 1, 3, 3))
	sub.Set(0, 0, 0, 7)
	sub.Set(0, 3, 1, 7)
	sub.Set(0, 1, 3, 7)
	for i, v := range parent.Pix {
		if v != 0 {
			t.Fatalf("sub-image Set outside its Rect wrote parent Pix[%d] = %v", i, v)
		}
	}
}

func TestAtOutsidePanics(t *testing.T) {
	m := NewFloat32(1, image.Rect(0, 0, 3, 3))
	s := NewFloat32(1, image.Rect(0, 0, 5, 5)).SubImage(image.Rect(1, 1, 3, 3))
	tests := []struct {
		name string
		m    *Float32
		x, y int
	}{
		{"left", m, -1, 0},
		{"right", m, 3, 0},
		{"above", m, 0, -1},
		{"below", m, 0, 3},
		// Inside the parent's buffer but outside the sub-image.
		{"sub left", s, 0, 1},
		{"sub below", s, 1, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("At(0, %d, %d) on %v did not panic", tt.x, tt.y, tt.m.Rect)
				}
			}()
			tt.m.At(0, tt.x, tt.y)
		})
	}
}

func TestRow(t *testing.T) {
	m := NewFloat32(2, image.Rect(5, 5, 9, 8))
	fillCoded(m)
	for c := 0; c < 2; c++ {
		for y := 5; y < 8; y++ {
			r := m.Row(c, y)
			if len(r) != 4 || cap(r) != 4 {
				t.Fatalf("Row(%d, %d): len %d cap %d, want 4 4", c, y, len(r), cap(r))
			}
			for i, v := range r {
				if v != code(c, 5+i, y) {
					t.Fatalf("Row(%d, %d)[%d] = %v, want %v", c, y, i, v, code(c, 5+i, y))
				}
			}
		}
	}
	// Row aliases Pix.
	m.Row(1, 6)[2] = -1
	if m.At(1, 7, 6) != -1 {
		t.Error("Row does not alias Pix")
	}
	// Row's capacity is capped: appending must not clobber the next row.
	r := m.Row(0, 5)
	_ = append(r, 99)
	if m.At(0, 5, 6) != code(0, 5, 6) {
		t.Error("append to a Row overwrote the next row")
	}
	// Rows of a sub-image cover only the sub-image's columns.
	s := m.SubImage(image.Rect(6, 6, 8, 8))
	if r := s.Row(0, 7); len(r) != 2 || r[0] != code(0, 6, 7) || r[1] != code(0, 7, 7) {
		t.Errorf("sub Row(0, 7) = %v", r)
	}
}

func TestFloat32SubImage(t *testing.T) {
	parentRect := image.Rect(0, 0, 6, 5)
	tests := []struct {
		name string
		r    image.Rectangle
		want image.Rectangle
	}{
		{"inside", image.Rect(1, 1, 4, 3), image.Rect(1, 1, 4, 3)},
		{"whole", parentRect, parentRect},
		{"clipped", image.Rect(-2, 3, 3, 10), image.Rect(0, 3, 3, 5)},
		{"single pixel", image.Rect(5, 4, 6, 5), image.Rect(5, 4, 6, 5)},
		{"disjoint", image.Rect(10, 10, 12, 12), image.Rectangle{}},
		{"empty", image.Rect(2, 2, 2, 4), image.Rectangle{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewFloat32(2, parentRect)
			fillCoded(m)
			s := m.SubImage(tt.r)
			if s.C != m.C {
				t.Errorf("C = %d, want %d", s.C, m.C)
			}
			if tt.want.Empty() {
				if !s.Rect.Empty() {
					t.Fatalf("Rect = %v, want empty", s.Rect)
				}
				return
			}
			if s.Rect != tt.want {
				t.Fatalf("Rect = %v, want %v", s.Rect, tt.want)
			}
			for c := 0; c < 2; c++ {
				for y := s.Rect.Min.Y; y < s.Rect.Max.Y; y++ {
					for x := s.Rect.Min.X; x < s.Rect.Max.X; x++ {
						if got := s.At(c, x, y); got != code(c, x, y) {
							t.Fatalf("At(%d, %d, %d) = %v, want %v", c, x, y, got, code(c, x, y))
						}
						// Writes go through to the parent.
						s.Set(c, x, y, -code(c, x, y)-1)
					}
				}
			}
			for c := 0; c < 2; c++ {
				for y := parentRect.Min.Y; y < parentRect.Max.Y; y++ {
					for x := parentRect.Min.X; x < parentRect.Max.X; x++ {
						want := code(c, x, y)
						if (image.Point{x, y}).In(s.Rect) {
							want = -want - 1
						}
						if got := m.At(c, x, y); got != want {
							t.Fatalf("parent At(%d, %d, %d) = %v, want %v", c, x, y, got, want)
						}
					}
				}
			}
		})
	}
}

func TestFloat32SubImageNested(t *testing.T) {
	m := NewFloat32(1, image.Rect(0, 0, 10, 10))
	fillCoded(m)
	s := m.SubImage(image.Rect(2, 2, 8, 8)).SubImage(image.Rect(0, 5, 4, 20))
	if want := image.Rect(2, 5, 4, 8); s.Rect != want {
		t.Fatalf("nested Rect = %v, want %v", s.Rect, want)
	}
	if got := s.At(0, 3, 6); got != code(0, 3, 6) {
		t.Errorf("nested At(0, 3, 6) = %v, want %v", got, code(0, 3, 6))
	}
	s.Set(0, 2, 7, -5)
	if m.At(0, 2, 7) != -5 {
		t.Error("nested sub-image does not share memory")
	}
}

func TestCopyFrom(t *testing.T) {
	dstRect := image.Rect(0, 0, 5, 4)
	tests := []struct {
		name    string
		src     image.Rectangle
		overlap image.Rectangle
	}{
		{"same", dstRect, dstRect},
		{"partial", image.Rect(2, 1, 8, 3), image.Rect(2, 1, 5, 3)},
		{"partial negative", image.Rect(-3, -3, 2, 2), image.Rect(0, 0, 2, 2)},
		{"contained", image.Rect(1, 1, 3, 2), image.Rect(1, 1, 3, 2)},
		{"containing", image.Rect(-1, -1, 9, 9), dstRect},
		{"disjoint", image.Rect(5, 0, 7, 4), image.Rectangle{}},
	}
	for _, tt := range tests {
		for _, subSrc := range []bool{false, true} {
			name := tt.name
			if subSrc {
				name += "/sub-image source"
			}
			t.Run(name, func(t *testing.T) {
				src := NewFloat32(2, tt.src)
				if subSrc {
					// The same rectangle as a non-contiguous view of a larger buffer.
					src = NewFloat32(2, tt.src.Inset(-2)).SubImage(tt.src)
				}
				fillCoded(src)
				dst := NewFloat32(2, dstRect)
				for i := range dst.Pix {
					dst.Pix[i] = -1
				}
				dst.CopyFrom(src)
				for c := 0; c < 2; c++ {
					for y := dstRect.Min.Y; y < dstRect.Max.Y; y++ {
						for x := dstRect.Min.X; x < dstRect.Max.X; x++ {
							want := float32(-1)
							if (image.Point{x, y}).In(tt.overlap) {
								want = code(c, x, y)
							}
							if got := dst.At(c, x, y); got != want {
								t.Fatalf("At(%d, %d, %d) = %v, want %v", c, x, y, got, want)
							}
						}
					}
				}
			})
		}
	}
}

// A non-contiguous destination must receive only its own pixels, leaving the
// rest of its parent alone.
func TestCopyFromIntoSubImage(t *testing.T) {
	parent := NewFloat32(2, image.Rect(0, 0, 6, 6))
	dst := parent.SubImage(image.Rect(1, 2, 4, 5))
	src := NewFloat32(2, image.Rect(0, 0, 6, 6))
	fillCoded(src)
	dst.CopyFrom(src)
	for c := 0; c < 2; c++ {
		for y := 0; y < 6; y++ {
			for x := 0; x < 6; x++ {
				want := float32(0)
				if (image.Point{x, y}).In(dst.Rect) {
					want = code(c, x, y)
				}
				if got := parent.At(c, x, y); got != want {
					t.Fatalf("parent At(%d, %d, %d) = %v, want %v", c, x, y, got, want)
				}
			}
		}
	}
}

// Two overlapping views of one buffer address the same memory at the same
// coordinates, so copying between them must leave the data unchanged.
func TestCopyFromAliasedViews(t *testing.T) {
	m := NewFloat32(2, image.Rect(0, 0, 6, 6))
	fillCoded(m)
	a := m.SubImage(image.Rect(0, 0, 4, 4))
	b := m.SubImage(image.Rect(2, 1, 6, 6))
	a.CopyFrom(b)
	b.CopyFrom(a)
	for c := 0; c < 2; c++ {
		for y := 0; y < 6; y++ {
			for x := 0; x < 6; x++ {
				if got := m.At(c, x, y); got != code(c, x, y) {
					t.Fatalf("At(%d, %d, %d) = %v, want %v", c, x, y, got, code(c, x, y))
				}
			}
		}
	}
}

func TestCopyFromChannelMismatchPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("CopyFrom between 2 and 3 channels did not panic")
		}
	}()
	NewFloat32(2, image.Rect(0, 0, 2, 2)).CopyFrom(NewFloat32(3, image.Rect(0, 0, 2, 2)))
}

func TestClone(t *testing.T) {
	m := NewFloat32(3, image.Rect(0, 0, 7, 6))
	fillCoded(m)
	for _, r := range []image.Rectangle{m.Rect, image.Rect(2, 1, 5, 6), image.Rect(6, 5, 7, 6)} {
		t.Run(r.String(), func(t *testing.T) {
			s := m.SubImage(r)
			c := s.Clone()
			if c.Rect != s.Rect || c.C != s.C {
				t.Fatalf("Clone Rect %v C %d, want %v %d", c.Rect, c.C, s.Rect, s.C)
			}
			if !c.Contiguous() || len(c.Pix) != c.C*r.Dx()*r.Dy() {
				t.Fatalf("Clone not contiguous: len %d stride %d plane %d", len(c.Pix), c.Stride, c.PlaneStride)
			}
			for ch := 0; ch < c.C; ch++ {
				for y := r.Min.Y; y < r.Max.Y; y++ {
					for x := r.Min.X; x < r.Max.X; x++ {
						if got := c.At(ch, x, y); got != code(ch, x, y) {
							t.Fatalf("Clone At(%d, %d, %d) = %v, want %v", ch, x, y, got, code(ch, x, y))
						}
					}
				}
			}
			// The clone is independent of its source.
			c.Set(0, r.Min.X, r.Min.Y, -1)
			if m.At(0, r.Min.X, r.Min.Y) == -1 {
				t.Error("Clone shares memory with its source")
			}
		})
	}
	if e := m.SubImage(image.Rect(20, 20, 30, 30)).Clone(); !e.Rect.Empty() || len(e.Pix) != 0 {
		t.Errorf("Clone of an empty view = %+v", e)
	}
}

func TestContiguous(t *testing.T) {
	m := NewFloat32(2, image.Rect(0, 0, 6, 4))
	tests := []struct {
		name string
		m    *Float32
		want bool
	}{
		{"new", m, true},
		{"whole sub-image", m.SubImage(m.Rect), true},
		{"narrower", m.SubImage(image.Rect(1, 0, 6, 4)), false},
		{"inner", m.SubImage(image.Rect(1, 1, 3, 3)), false},
		{"fewer rows", m.SubImage(image.Rect(0, 1, 6, 3)), false},
		{"clone of inner", m.SubImage(image.Rect(1, 1, 3, 3)).Clone(), true},
		{"single channel new", NewFloat32(1, image.Rect(3, 3, 9, 9)), true},
	}
	for _, tt := range tests {
		if got := tt.m.Contiguous(); got != tt.want {
			t.Errorf("%s: Contiguous() = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestNoDataValue(t *testing.T) {
	if (NoData{}).Set {
		t.Error("zero NoData is set")
	}
	if nd := NoDataValue(-9999); !nd.Set || nd.Value != -9999 {
		t.Errorf("NoDataValue(-9999) = %+v", nd)
	}
	if nd := NoDataValue(0); !nd.Set || nd.Value != 0 {
		t.Errorf("NoDataValue(0) = %+v", nd)
	}
}

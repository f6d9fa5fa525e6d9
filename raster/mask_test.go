package raster

import (
	"image"
	"testing"
)

// maskFrom returns a mask over r whose pixel (x, y) is valid when f says so.
func maskFrom(r image.Rectangle, f func(x, y int) bool) *Mask {
	m := NewMask(r)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			m.Pix[(y-r.Min.Y)*m.Stride+x-r.Min.X] = f(x, y)
		}
	}
	return m
}

func checker(x, y int) bool { return (x+y)%2 == 0 }

func TestNewMaskAllInvalid(t *testing.T) {
	r := image.Rect(-2, 1, 5, 4)
	m := NewMask(r)
	if len(m.Pix) != 21 || m.Stride != 7 || m.Rect != r {
		t.Fatalf("NewMask(%v) = len %d stride %d rect %v", r, len(m.Pix), m.Stride, m.Rect)
	}
	if n := m.Count(); n != 0 {
		t.Errorf("Count() = %d, want 0", n)
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if m.Valid(x, y) {
				t.Fatalf("Valid(%d, %d) on a new mask", x, y)
			}
		}
	}
}

func TestMaskValid(t *testing.T) {
	r := image.Rect(3, 2, 8, 6)
	m := maskFrom(r, checker)
	for y := r.Min.Y - 1; y <= r.Max.Y; y++ {
		for x := r.Min.X - 1; x <= r.Max.X; x++ {
			want := (image.Point{x, y}).In(r) && checker(x, y)
			if got := m.Valid(x, y); got != want {
				t.Errorf("Valid(%d, %d) = %v, want %v", x, y, got, want)
			}
		}
	}
}

func TestMaskRow(t *testing.T) {
	r := image.Rect(3, 2, 8, 6)
	m := maskFrom(r, checker)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := m.Row(y)
		if len(row) != r.Dx() || cap(row) != r.Dx() {
			t.Fatalf("Row(%d): len %d cap %d, want %d", y, len(row), cap(row), r.Dx())
		}
		for i, v := range row {
			if v != checker(r.Min.X+i, y) {
				t.Fatalf("Row(%d)[%d] = %v, want %v", y, i, v, checker(r.Min.X+i, y))
			}
		}
	}
	m.Row(4)[0] = !checker(3, 4)
	if m.Valid(3, 4) == checker(3, 4) {
		t.Error("Row does not alias Pix")
	}
}

func TestMaskSubImage(t *testing.T) {
	r := image.Rect(0, 0, 8, 6)
	tests := []struct {
		name string
		sub  image.Rectangle
		want image.Rectangle
	}{
		{"inside", image.Rect(2, 1, 5, 4), image.Rect(2, 1, 5, 4)},
		{"whole", r, r},
		{"clipped", image.Rect(6, -3, 20, 2), image.Rect(6, 0, 8, 2)},
		{"disjoint", image.Rect(8, 0, 9, 6), image.Rectangle{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := maskFrom(r, checker)
			s := m.SubImage(tt.sub)
			if tt.want.Empty() {
				if !s.Rect.Empty() || s.Count() != 0 {
					t.Fatalf("SubImage(%v) = %v with %d valid, want empty", tt.sub, s.Rect, s.Count())
				}
				if s.Valid(tt.sub.Min.X, tt.sub.Min.Y) {
					t.Error("empty sub-mask reports a valid pixel")
				}
				return
			}
			if s.Rect != tt.want {
				t.Fatalf("Rect = %v, want %v", s.Rect, tt.want)
			}
			want := 0
			for y := s.Rect.Min.Y; y < s.Rect.Max.Y; y++ {
				row := s.Row(y)
				if len(row) != s.Rect.Dx() {
					t.Fatalf("Row(%d) has %d flags, want %d", y, len(row), s.Rect.Dx())
				}
				for x := s.Rect.Min.X; x < s.Rect.Max.X; x++ {
					if s.Valid(x, y) != checker(x, y) || row[x-s.Rect.Min.X] != checker(x, y) {
						t.Fatalf("(%d, %d): Valid %v, Row %v, want %v", x, y, s.Valid(x, y), row[x-s.Rect.Min.X], checker(x, y))
					}
					if checker(x, y) {
						want++
					}
				}
			}
			if got := s.Count(); got != want {
				t.Errorf("Count() = %d, want %d", got, want)
			}
			// Pixels outside the sub-mask are not valid through it, even
			// when the parent has them valid.
			if s.Valid(s.Rect.Min.X-1, s.Rect.Min.Y) && s.Rect.Min.X > r.Min.X {
				t.Error("sub-mask reports a pixel left of its Rect")
			}
			// Shared memory: invert the sub-mask, the parent follows.
			for y := s.Rect.Min.Y; y < s.Rect.Max.Y; y++ {
				for i := range s.Row(y) {
					s.Row(y)[i] = !s.Row(y)[i]
				}
			}
			for y := r.Min.Y; y < r.Max.Y; y++ {
				for x := r.Min.X; x < r.Max.X; x++ {
					w := checker(x, y)
					if (image.Point{x, y}).In(s.Rect) {
						w = !w
					}
					if m.Valid(x, y) != w {
						t.Fatalf("parent Valid(%d, %d) = %v, want %v", x, y, m.Valid(x, y), w)
					}
				}
			}
		})
	}
}

func TestMaskCount(t *testing.T) {
	tests := []struct {
		name string
		m    *Mask
		want int
	}{
		{"empty", &Mask{}, 0},
		{"new", NewMask(image.Rect(0, 0, 5, 5)), 0},
		{"all", maskFrom(image.Rect(0, 0, 5, 3), func(int, int) bool { return true }), 15},
		{"checker", maskFrom(image.Rect(0, 0, 5, 3), checker), 8},
		{"one column", maskFrom(image.Rect(1, 1, 4, 4), func(x, _ int) bool { return x == 2 }), 3},
		// Counting a view must not count the parent's pixels beyond it.
		{"view", maskFrom(image.Rect(0, 0, 10, 10), func(int, int) bool { return true }).SubImage(image.Rect(2, 3, 5, 5)), 6},
	}
	for _, tt := range tests {
		if got := tt.m.Count(); got != tt.want {
			t.Errorf("%s: Count() = %d, want %d", tt.name, got, tt.want)
		}
	}
}

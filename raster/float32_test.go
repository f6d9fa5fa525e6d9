package raster

import (
	"image"
	"testing"
)

func TestSubImageSharesMemory(t *testing.T) {
	m := NewFloat32(2, image.Rect(0, 0, 4, 3))
	for c := 0; c < 2; c++ {
		for y := 0; y < 3; y++ {
			for x := 0; x < 4; x++ {
				m.Set(c, x, y, float32(c*100+y*10+x))
			}
		}
	}
	s := m.SubImage(image.Rect(1, 1, 3, 3))
	tests := []struct {
		c, x, y int
		want    float32
	}{{0, 1, 1, 11}, {0, 2, 2, 22}, {1, 1, 2, 121}, {1, 2, 1, 112}}
	for _, tt := range tests {
		if got := s.At(tt.c, tt.x, tt.y); got != tt.want {
			t.Errorf("At(%d,%d,%d) = %v, want %v", tt.c, tt.x, tt.y, got, tt.want)
		}
	}
	s.Set(1, 2, 2, -1)
	if m.At(1, 2, 2) != -1 {
		t.Fatal("SubImage does not share memory")
	}
	if s.Contiguous() {
		t.Fatal("sub-image reported contiguous")
	}
	c := s.Clone()
	if !c.Contiguous() || c.At(0, 2, 2) != 22 || c.Rect != s.Rect {
		t.Fatalf("Clone = %+v", c)
	}
	if r := s.Row(0, 1); len(r) != 2 || r[0] != 11 || r[1] != 12 {
		t.Fatalf("Row = %v", r)
	}
	if e := m.SubImage(image.Rect(10, 10, 12, 12)); !e.Rect.Empty() {
		t.Fatal("empty sub-image not empty")
	}
}

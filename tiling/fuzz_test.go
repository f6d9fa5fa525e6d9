package tiling

import (
	"image"
	"testing"
)

func FuzzGrid(f *testing.F) {
	for _, s := range [][4]int{
		{1000, 1000, 1000, 300}, {1001, 1000, 1000, 300}, {2000, 1700, 1000, 300},
		{10980, 10980, 1000, 300}, {31, 31, 32, 0}, {10, 10, 4, 3}, {5, 7, 1, 0},
		{100, 100, 50, 50}, {100, 100, 0, 0}, {100, 100, -1, 0}, {100, 100, 10, -1},
		{0, 0, 1, 0}, {-5, 10, 3, 1},
	} {
		f.Add(int16(s[0]), int16(s[1]), int16(s[2]), int16(s[3]))
	}
	// int16 keeps every input cheap (at most 32767 origins per axis) while
	// still covering negative and zero sizes.
	f.Fuzz(func(t *testing.T, w16, h16, patch16, overlap16 int16) {
		w, h, patch, overlap := int(w16), int(h16), int(patch16), int(overlap16)
		size := image.Pt(w, h)
		g, err := NewGrid(size, patch, overlap)
		valid := patch > 0 && overlap >= 0 && overlap < patch && patch <= w && patch <= h
		if err != nil {
			if valid {
				t.Fatalf("NewGrid(%v, %d, %d): %v", size, patch, overlap, err)
			}
			return
		}
		if !valid {
			t.Fatalf("NewGrid(%v, %d, %d) accepted invalid arguments", size, patch, overlap)
		}
		checkAxis(t, "x", g.Xs, w, patch)
		checkAxis(t, "y", g.Ys, h, patch)
		if g.Len() != len(g.Xs)*len(g.Ys) {
			t.Fatalf("Len() = %d", g.Len())
		}
		// No two patches closer than the stride except the clamped last.
		stride := patch - overlap
		for _, s := range [][]int{g.Xs, g.Ys} {
			for i := 1; i < len(s)-1; i++ {
				if s[i]-s[i-1] != stride {
					t.Fatalf("origins %v: step %d, want stride %d", s, s[i]-s[i-1], stride)
				}
			}
		}
		bounds := image.Rectangle{Max: size}
		last := g.Rect(len(g.Xs)-1, len(g.Ys)-1)
		if !last.In(bounds) || last.Max != size {
			t.Fatalf("last patch %v, scene %v", last, size)
		}
		// Fit on the same scene and request also yields a valid grid.
		if p, o, err := Fit(size, patch, overlap, 0); err == nil {
			if _, err := NewGrid(size, p, o); err != nil {
				t.Fatalf("Fit(%v, %d, %d) = (%d, %d): %v", size, patch, overlap, p, o, err)
			}
		}
	})
}

func FuzzShiftInward(f *testing.F) {
	f.Add(uint8(20), uint8(20), uint8(6), uint8(6), uint8(8), []byte{0xff, 0x00, 0x0f})
	f.Add(uint8(16), uint8(9), uint8(0), uint8(0), uint8(9), []byte{})
	f.Add(uint8(32), uint8(32), uint8(10), uint8(3), uint8(16), []byte{0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x80})
	f.Add(uint8(5), uint8(5), uint8(0), uint8(0), uint8(5), []byte{0x10})
	f.Fuzz(func(t *testing.T, bw, bh, px, py, size uint8, bits []byte) {
		bounds := image.Rect(3, 7, 3+int(bw%48)+1, 7+int(bh%48)+1)
		p := int(size)%max(bounds.Dx(), bounds.Dy()) + 1
		r := image.Rect(0, 0, p, p).Add(bounds.Min).Add(image.Pt(int(px)%bounds.Dx(), int(py)%bounds.Dy()))
		// Mask bits come from the fuzz bytes, repeated; an empty input is
		// an all-invalid mask.
		valid := maskFunc(bounds, func(x, y int) bool {
			if len(bits) == 0 {
				return false
			}
			i := (y-bounds.Min.Y)*bounds.Dx() + (x - bounds.Min.X)
			b := bits[(i/8)%len(bits)]
			return b>>(i%8)&1 == 1
		})
		got := ShiftInward(r, bounds, valid)
		if got.Size() != r.Size() {
			t.Fatalf("ShiftInward(%v) = %v: size changed", r, got)
		}
		if !r.In(bounds) {
			if got != r {
				t.Fatalf("ShiftInward moved a patch %v that is not inside %v to %v", r, bounds, got)
			}
			return
		}
		if !got.In(bounds) {
			t.Fatalf("ShiftInward(%v) = %v leaves bounds %v", r, got, bounds)
		}
		if want := ocmShift(r, bounds, valid); got != want {
			t.Fatalf("ShiftInward(%v) = %v, OmniCloudMask reference %v", r, got, want)
		}
		// A patch with some valid data keeps some after the shift.
		if valid.SubImage(r).Count() > 0 && valid.SubImage(got).Count() == 0 {
			t.Fatalf("ShiftInward(%v) = %v moved off all valid data", r, got)
		}
	})
}

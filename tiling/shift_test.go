package tiling

import (
	"image"
	"testing"

	"github.com/omnimask/omnimask/raster"
)

// maskFunc returns a mask over r, valid where f says so.
func maskFunc(r image.Rectangle, f func(x, y int) bool) *raster.Mask {
	m := raster.NewMask(r)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := m.Row(y)
		for x := range row {
			row[x] = f(r.Min.X+x, y)
		}
	}
	return m
}

// ocmShift is OmniCloudMask's get_patch shift (omnicloudmask/raster_utils.py)
// written on a validity mask: an edge "is nodata" when none of its pixels
// is valid. It is the reference ShiftInward is checked against.
func ocmShift(r, bounds image.Rectangle, valid *raster.Mask) image.Rectangle {
	top, bottom, left, right := r.Min.Y, r.Max.Y, r.Min.X, r.Max.X
	rowND := func(y int) bool {
		for x := left; x < right; x++ {
			if valid.Valid(x, y) {
				return false
			}
		}
		return true
	}
	colND := func(x int) bool {
		for y := top; y < bottom; y++ {
			if valid.Valid(x, y) {
				return false
			}
		}
		return true
	}
	n := 0
	for y := top; y < bottom; y++ {
		for x := left; x < right; x++ {
			if valid.Valid(x, y) {
				n++
			}
		}
	}
	if n == 0 || n == r.Dx()*r.Dy() { // all nodata: skipped; no nodata: kept
		return r
	}
	movedVert := false
	if bottom < bounds.Max.Y && rowND(top) {
		for bottom < bounds.Max.Y && rowND(top) {
			top, bottom = top+1, bottom+1
		}
		movedVert = true
	}
	if !movedVert && top > bounds.Min.Y && rowND(bottom-1) {
		for top > bounds.Min.Y && rowND(bottom-1) {
			top, bottom = top-1, bottom-1
		}
	}
	movedHoriz := false
	if right < bounds.Max.X && colND(left) {
		for right < bounds.Max.X && colND(left) {
			left, right = left+1, right+1
		}
		movedHoriz = true
	}
	if !movedHoriz && left > bounds.Min.X && colND(right-1) {
		for left > bounds.Min.X && colND(right-1) {
			left, right = left-1, right-1
		}
	}
	return image.Rect(left, top, right, bottom)
}

func TestShiftInward(t *testing.T) {
	bounds := image.Rect(0, 0, 20, 20)
	patch := image.Rect(6, 6, 14, 14)
	tests := []struct {
		name  string
		r     image.Rectangle
		valid func(x, y int) bool
		want  image.Rectangle
	}{
		{"fully valid", patch, func(x, y int) bool { return true }, patch},
		{"fully invalid", patch, func(x, y int) bool { return false }, patch},
		{"valid only outside the patch", patch, func(x, y int) bool { return y < 6 }, patch},
		{"interior hole", patch, func(x, y int) bool { return !(x == 9 && y == 9) }, patch},
		{"nodata corner pixel only", patch, func(x, y int) bool { return !(x == 6 && y == 6) }, patch},
		{"top rows nodata: moves down", patch, func(x, y int) bool { return y >= 9 }, image.Rect(6, 9, 14, 17)},
		{"top rows nodata, stopped by the bottom edge", patch, func(x, y int) bool { return y >= 13 }, image.Rect(6, 12, 14, 20)},
		{"bottom rows nodata: moves up", patch, func(x, y int) bool { return y < 10 }, image.Rect(6, 2, 14, 10)},
		{"bottom rows nodata, stopped by the top edge", image.Rect(6, 0, 14, 8), func(x, y int) bool { return y < 2 }, image.Rect(6, 0, 14, 8)},
		{"bottom rows nodata, partly stopped", image.Rect(6, 3, 14, 11), func(x, y int) bool { return y < 4 }, image.Rect(6, 0, 14, 8)},
		{"left columns nodata: moves right", patch, func(x, y int) bool { return x >= 9 }, image.Rect(9, 6, 17, 14)},
		{"right columns nodata: moves left", patch, func(x, y int) bool { return x < 10 }, image.Rect(2, 6, 10, 14)},
		{"right columns nodata, stopped by the left edge", image.Rect(0, 6, 8, 14), func(x, y int) bool { return x < 3 }, image.Rect(0, 6, 8, 14)},
		{"left columns nodata, stopped by the right edge", patch, func(x, y int) bool { return x >= 13 }, image.Rect(12, 6, 20, 14)},
		{"corner: moves down and right", patch, func(x, y int) bool { return x >= 9 && y >= 8 }, image.Rect(9, 8, 17, 16)},
		{"corner: moves up and left", patch, func(x, y int) bool { return x < 11 && y < 12 }, image.Rect(3, 4, 11, 12)},
		// Moved down, so it does not also move back up even though its
		// bottom row is now nodata.
		{"band: down only", patch, func(x, y int) bool { return y >= 8 && y < 10 }, image.Rect(6, 8, 14, 16)},
		{"column band: right only", patch, func(x, y int) bool { return x >= 7 && x < 9 }, image.Rect(7, 6, 15, 14)},
		// A partial row of valid pixels is enough to stop.
		{"one valid pixel stops the move", patch, func(x, y int) bool { return y >= 12 || (y == 8 && x == 13) }, image.Rect(6, 8, 14, 16)},
		// The horizontal check looks at the columns of the moved patch:
		// column 6 is empty on the original rows 6..13 but holds (6, 16)
		// on the moved rows 10..17, so the patch does not move right.
		{"horizontal after vertical", patch, func(x, y int) bool { return y >= 10 && x >= 8 || x == 6 && y == 16 }, image.Rect(6, 10, 14, 18)},
		{"vertical then horizontal", patch, func(x, y int) bool { return y >= 10 && x >= 8 }, image.Rect(8, 10, 16, 18)},
		{"not inside bounds: unchanged", image.Rect(15, 15, 23, 23), func(x, y int) bool { return y > 18 }, image.Rect(15, 15, 23, 23)},
		{"whole scene", bounds, func(x, y int) bool { return y > 10 }, bounds},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			valid := maskFunc(bounds, tt.valid)
			got := ShiftInward(tt.r, bounds, valid)
			if got != tt.want {
				t.Errorf("ShiftInward(%v) = %v, want %v", tt.r, got, tt.want)
			}
			if ref := ocmShift(tt.r, bounds, valid); tt.r.In(bounds) && ref != got {
				t.Errorf("OmniCloudMask reference gives %v, ShiftInward %v", ref, got)
			}
			if got.Size() != tt.r.Size() {
				t.Errorf("size changed from %v to %v", tt.r.Size(), got.Size())
			}
		})
	}
}

// bounds need not start at the origin: the engine passes a strip of rows.
func TestShiftInwardOffsetBounds(t *testing.T) {
	bounds := image.Rect(0, 100, 30, 140)
	valid := maskFunc(bounds, func(x, y int) bool { return y >= 110 && x < 20 })
	for _, tc := range []struct{ r, want image.Rectangle }{
		{image.Rect(0, 100, 16, 116), image.Rect(0, 110, 16, 126)},
		{image.Rect(14, 100, 30, 116), image.Rect(4, 110, 20, 126)},
		{image.Rect(14, 124, 30, 140), image.Rect(4, 124, 20, 140)},
	} {
		if got := ShiftInward(tc.r, bounds, valid); got != tc.want {
			t.Errorf("ShiftInward(%v) = %v, want %v", tc.r, got, tc.want)
		}
	}
}

// The mask may be a view of a larger one, covering exactly the bounds.
func TestShiftInwardMaskView(t *testing.T) {
	scene := image.Rect(0, 0, 40, 40)
	bounds := image.Rect(5, 5, 25, 25)
	full := maskFunc(scene, func(x, y int) bool { return y >= 12 })
	got := ShiftInward(image.Rect(6, 6, 14, 14), bounds, full.SubImage(bounds))
	if want := image.Rect(6, 12, 14, 20); got != want {
		t.Errorf("ShiftInward = %v, want %v", got, want)
	}
}

package tiling

import (
	"image"

	"github.com/omnimask/omnimask/raster"
)

// ShiftInward moves patch r away from nodata edges the way OmniCloudMask
// does: when the patch holds some invalid pixels and its top row is all
// invalid it moves down until that row holds valid data (otherwise, when the
// bottom row is all invalid, it moves up); then the same for left and right.
// The patch never leaves bounds, and valid must cover bounds. A patch with
// no valid pixel is returned unchanged (callers skip it).
func ShiftInward(r, bounds image.Rectangle, valid *raster.Mask) image.Rectangle {
	if !r.In(bounds) {
		return r
	}
	v := valid.SubImage(r)
	n := v.Count()
	if n == 0 || n == r.Dx()*r.Dy() {
		return r
	}
	rowEmpty := func(y int) bool {
		for _, ok := range valid.SubImage(image.Rect(r.Min.X, y, r.Max.X, y+1)).Row(y) {
			if ok {
				return false
			}
		}
		return true
	}
	colEmpty := func(x int) bool {
		for y := r.Min.Y; y < r.Max.Y; y++ {
			if valid.Valid(x, y) {
				return false
			}
		}
		return true
	}
	moved := false
	for r.Max.Y < bounds.Max.Y && rowEmpty(r.Min.Y) {
		r = r.Add(image.Pt(0, 1))
		moved = true
	}
	for !moved && r.Min.Y > bounds.Min.Y && rowEmpty(r.Max.Y-1) {
		r = r.Add(image.Pt(0, -1))
	}
	moved = false
	for r.Max.X < bounds.Max.X && colEmpty(r.Min.X) {
		r = r.Add(image.Pt(1, 0))
		moved = true
	}
	for !moved && r.Min.X > bounds.Min.X && colEmpty(r.Max.X-1) {
		r = r.Add(image.Pt(-1, 0))
	}
	return r
}

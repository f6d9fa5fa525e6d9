// Package tiling plans how a scene is cut into overlapping patches and how
// much each patch pixel weighs when they are blended back: the patch grid
// (stride, edge clamp, inward shift away from nodata) and blend windows.
// Package stitch does the blending. It uses no cgo and does no I/O.
package tiling

import (
	"errors"
	"fmt"
	"image"
)

// MinPatch is the smallest patch side the planner accepts.
const MinPatch = 32

// ErrTooSmall is returned when a scene is smaller than the smallest patch.
var ErrTooSmall = errors.New("tiling: scene smaller than the minimum patch")

// Grid is a regular grid of square patches over a scene: patches start every
// Patch-Overlap pixels, and the last row and column are clamped to the
// scene's edge so every patch lies inside it.
type Grid struct {
	Size    image.Point // scene width and height in pixels
	Patch   int
	Overlap int
	Xs, Ys  []int // patch origins along each axis, ascending, no duplicates
}

// Check reports whether patch and overlap can make a grid: a patch of at
// least one pixel and an overlap of 0..patch-1 pixels. It is the one rule
// NewGrid, Fit and model manifests apply.
func Check(patch, overlap int) error {
	switch {
	case patch <= 0:
		return fmt.Errorf("tiling: patch size %d <= 0", patch)
	case overlap < 0:
		return fmt.Errorf("tiling: overlap %d < 0", overlap)
	case overlap >= patch:
		return fmt.Errorf("tiling: overlap %d >= patch size %d", overlap, patch)
	}
	return nil
}

// NewGrid plans the patches of a scene of the given size.
func NewGrid(size image.Point, patch, overlap int) (*Grid, error) {
	if err := Check(patch, overlap); err != nil {
		return nil, err
	}
	if patch > size.X || patch > size.Y {
		return nil, fmt.Errorf("tiling: patch size %d larger than scene %dx%d", patch, size.X, size.Y)
	}
	return &Grid{Size: size, Patch: patch, Overlap: overlap,
		Xs: starts(size.X, patch, overlap), Ys: starts(size.Y, patch, overlap)}, nil
}

// starts returns the origins of patches along an axis of length n.
func starts(n, patch, overlap int) []int {
	stride := patch - overlap
	var out []int
	for s := 0; ; s += stride {
		if s+patch >= n {
			s = n - patch
			if len(out) == 0 || out[len(out)-1] != s {
				out = append(out, s)
			}
			return out
		}
		out = append(out, s)
	}
}

// Len returns the number of patches.
func (g *Grid) Len() int { return len(g.Xs) * len(g.Ys) }

// Rect returns the patch at column ix and row iy of the grid.
func (g *Grid) Rect(ix, iy int) image.Rectangle {
	return image.Rect(g.Xs[ix], g.Ys[iy], g.Xs[ix]+g.Patch, g.Ys[iy]+g.Patch)
}

// Fit chooses the patch size and overlap for a scene: the requested patch is
// rounded down to a multiple of multiple (when > 0) and shrunk to fit the
// scene's shorter side, with the overlap scaled by the same factor. A scene
// whose shorter side cannot hold a MinPatch patch (or one multiple) gives
// ErrTooSmall. The overlap stays below the patch (see Check).
func Fit(size image.Point, patch, overlap, multiple int) (p, o int, err error) {
	if err := Check(patch, overlap); err != nil {
		return 0, 0, err
	}
	if patch < MinPatch {
		return 0, 0, fmt.Errorf("tiling: patch size %d below the minimum %d", patch, MinPatch)
	}
	if multiple <= 0 {
		multiple = 1
	}
	short := min(size.X, size.Y)
	p = min(patch, short)
	p -= p % multiple
	if p < MinPatch || p < multiple {
		return 0, 0, fmt.Errorf("%w: %dx%d pixels, need at least %d on each side", ErrTooSmall, size.X, size.Y, max(MinPatch, multiple))
	}
	o = overlap
	if p != patch {
		o = overlap * p / patch // < p, as overlap < patch
	}
	return p, o, nil
}

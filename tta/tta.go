// Package tta holds test-time augmentation: a model runs on a patch and on
// copies of it flipped or rotated, and its outputs, transformed back, are
// averaged. The transforms are the symmetries of a square (the dihedral
// group D4): integer permutations of pixel positions, exact and their own
// kind of inverse, with no interpolation.
package tta

import (
	"fmt"
	"strings"
)

// Mode selects the transforms a patch is run under.
type Mode int

const (
	// Default leaves the choice to the next level: a request's Default is
	// the engine's, an engine's the model manifest's, a manifest's None.
	Default Mode = iota
	// None runs each patch once, as it is.
	None
	// Flips runs the identity, the left-right flip, the up-down flip and
	// both (= rotation by 180°): the four transforms that map rows to rows
	// and columns to columns. They form a group, so the averaged model is
	// itself exactly invariant to flips, which {id, h, v} alone would not
	// make it. 4 inference calls per patch.
	Flips
	// D4 runs all eight symmetries of the square: the four rotations by
	// multiples of 90° and their mirror images. 8 inference calls per patch.
	D4
)

var names = map[Mode]string{Default: "", None: "none", Flips: "flips", D4: "d4"}

func (m Mode) String() string {
	if s, ok := names[m]; ok {
		return s
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Valid reports whether m is one of the modes defined here.
func (m Mode) Valid() bool {
	_, ok := names[m]
	return ok
}

// Parse returns the mode named s: none, flips or d4 (any case); "" is
// Default.
func Parse(s string) (Mode, error) {
	for m, name := range names {
		if strings.EqualFold(strings.TrimSpace(s), name) {
			return m, nil
		}
	}
	return Default, fmt.Errorf("tta: unknown mode %q (want none, flips or d4)", s)
}

// Or returns m, or d when m is Default.
func (m Mode) Or(d Mode) Mode {
	if m == Default {
		return d
	}
	return m
}

// Transforms returns the transforms m runs, the identity first (Default
// and None: the identity alone).
func (m Mode) Transforms() []Transform {
	switch m {
	case Flips:
		return []Transform{Identity, FlipX, FlipY, FlipX | FlipY}
	case D4:
		return []Transform{Identity, FlipX, FlipY, FlipX | FlipY, Transpose, Transpose | FlipX, Transpose | FlipY, Transpose | FlipX | FlipY}
	}
	return []Transform{Identity}
}

// Calls returns the inference calls per patch of m.
func (m Mode) Calls() int { return len(m.Transforms()) }

// Transform is a symmetry of the n x n square, a set of bits: a pixel
// (y, x) of the transformed patch takes the value of the source pixel
// found by mirroring x (FlipX), mirroring y (FlipY), then swapping the two
// coordinates (Transpose):
//
//	x' = FlipX ? n-1-x : x
//	y' = FlipY ? n-1-y : y
//	dst(y, x) = Transpose ? src(x', y') : src(y', x')
//
// Transpose | FlipX is a rotation by 90° clockwise, Transpose | FlipY by
// 90° counter-clockwise, FlipX | FlipY by 180°.
type Transform uint8

const (
	Identity  Transform = 0
	FlipX     Transform = 1 // left-right mirror
	FlipY     Transform = 2 // up-down mirror
	Transpose Transform = 4 // main-diagonal mirror
)

func (t Transform) String() string {
	if t == Identity {
		return "identity"
	}
	var parts []string
	for _, b := range []struct {
		bit  Transform
		name string
	}{{FlipX, "flipx"}, {FlipY, "flipy"}, {Transpose, "transpose"}} {
		if t&b.bit != 0 {
			parts = append(parts, b.name)
		}
	}
	return strings.Join(parts, "+")
}

// Inverse returns the transform that undoes t. Flips undo themselves; a
// transpose swaps which axis each flip mirrors.
func (t Transform) Inverse() Transform {
	if t&Transpose == 0 {
		return t
	}
	inv := Transpose
	if t&FlipX != 0 {
		inv |= FlipY
	}
	if t&FlipY != 0 {
		inv |= FlipX
	}
	return inv
}

// Apply writes t of the n x n plane src into dst (both at least n*n
// values; they must not overlap unless t is the identity).
func (t Transform) Apply(dst, src []float32, n int) {
	t.apply(dst, src, n, false)
}

// AddTo adds t of the n x n plane src to dst.
func (t Transform) AddTo(dst, src []float32, n int) {
	t.apply(dst, src, n, true)
}

func (t Transform) apply(dst, src []float32, n int, add bool) {
	dst, src = dst[:n*n], src[:n*n]
	flip := func(i int, on bool) int {
		if on {
			return n - 1 - i
		}
		return i
	}
	fx, fy := t&FlipX != 0, t&FlipY != 0
	for y := range n {
		row := dst[y*n : (y+1)*n]
		if t&Transpose == 0 {
			s := src[flip(y, fy)*n:][:n]
			switch {
			case !fx && !add:
				copy(row, s)
			case !fx:
				for x, v := range s {
					row[x] += v
				}
			case add:
				for x := range row {
					row[x] += s[n-1-x]
				}
			default:
				for x := range row {
					row[x] = s[n-1-x]
				}
			}
			continue
		}
		// dst(y, x) = src(x', y'): column y' of src, read downwards or
		// upwards.
		col := flip(y, fy)
		for x := range row {
			v := src[flip(x, fx)*n+col]
			if add {
				row[x] += v
			} else {
				row[x] = v
			}
		}
	}
}

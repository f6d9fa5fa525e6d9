package tiling

import (
	"fmt"
	"math"
	"strings"
)

// Window is the weighting applied to a patch's predictions before they are
// summed with their neighbours.
type Window int

const (
	// Ramp is OmniCloudMask's linear ramp: weights rise linearly over the
	// overlap at each edge ((i+1)/overlap) and are 1 inside; the 2-D window
	// is the product of the row and column profiles.
	Ramp Window = iota
	// Hann is a raised cosine over the whole patch, sin²(π(i+0.5)/n).
	Hann
	// Boxcar weighs every pixel equally (plain averaging).
	Boxcar
)

var windowNames = map[Window]string{Ramp: "ramp", Hann: "hann", Boxcar: "boxcar"}

func (w Window) String() string {
	if s, ok := windowNames[w]; ok {
		return s
	}
	return fmt.Sprintf("Window(%d)", int(w))
}

// Valid reports whether w is one of the windows defined here.
func (w Window) Valid() bool {
	_, ok := windowNames[w]
	return ok
}

// ParseWindow returns the window named s (ramp, hann or boxcar).
func ParseWindow(s string) (Window, error) {
	for w, name := range windowNames {
		if strings.EqualFold(s, name) {
			return w, nil
		}
	}
	return 0, fmt.Errorf("tiling: unknown blend window %q (want ramp, hann or boxcar)", s)
}

// Profile returns the 1-D weights of w over n pixels with the given overlap.
// Every weight is > 0, so each covered pixel gets a defined blend.
func (w Window) Profile(n, overlap int) []float32 {
	p := make([]float32, n)
	switch w {
	case Hann:
		for i := range p {
			s := math.Sin(math.Pi * (float64(i) + 0.5) / float64(n))
			p[i] = float32(s * s)
		}
	case Ramp:
		o := overlap
		if 2*o > n {
			o = n / 2
		}
		for i := range p {
			p[i] = 1
			if o > 0 {
				if i < o {
					p[i] = float32(i+1) / float32(o)
				}
				if j := n - 1 - i; j < o {
					p[i] = float32(j+1) / float32(o)
				}
			}
		}
	default:
		for i := range p {
			p[i] = 1
		}
	}
	return p
}

// Weights returns the h x w window (row-major), the outer product of the
// row and column profiles.
func (w Window) Weights(h, wd, overlap int) []float32 {
	py, px := w.Profile(h, overlap), w.Profile(wd, overlap)
	out := make([]float32, h*wd)
	for y, a := range py {
		row := out[y*wd : (y+1)*wd]
		for x, b := range px {
			row[x] = a * b
		}
	}
	return out
}

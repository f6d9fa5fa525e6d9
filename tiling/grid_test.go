package tiling

import (
	"errors"
	"fmt"
	"image"
	"reflect"
	"strings"
	"testing"
)

func TestNewGridStarts(t *testing.T) {
	tests := []struct {
		n, patch, overlap int
		want              []int
	}{
		{1000, 1000, 300, []int{0}},
		{1000, 1000, 0, []int{0}},
		{1001, 1000, 300, []int{0, 1}},
		{1700, 1000, 300, []int{0, 700}},
		{1701, 1000, 300, []int{0, 700, 701}},
		{2000, 1000, 300, []int{0, 700, 1000}},
		{2400, 1000, 300, []int{0, 700, 1400}},
		{2401, 1000, 300, []int{0, 700, 1400, 1401}},
		{10, 4, 0, []int{0, 4, 6}},
		{12, 4, 0, []int{0, 4, 8}},
		{10, 4, 3, []int{0, 1, 2, 3, 4, 5, 6}},
		{5, 1, 0, []int{0, 1, 2, 3, 4}},
		{10980, 1000, 300, []int{0, 700, 1400, 2100, 2800, 3500, 4200, 4900, 5600, 6300, 7000, 7700, 8400, 9100, 9800, 9980}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("n%d_p%d_o%d", tt.n, tt.patch, tt.overlap), func(t *testing.T) {
			g, err := NewGrid(image.Pt(tt.n, tt.patch), tt.patch, tt.overlap)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(g.Xs, tt.want) {
				t.Errorf("Xs = %v, want %v", g.Xs, tt.want)
			}
			if !reflect.DeepEqual(g.Ys, []int{0}) {
				t.Errorf("Ys = %v, want [0]", g.Ys)
			}
			checkAxis(t, "x", g.Xs, tt.n, tt.patch)
		})
	}
}

// checkAxis checks the grid's guarantees along one axis of length n:
// origins ascending and unique, every patch inside, the first at 0 and the
// last ending at the edge, consecutive patches overlapping or touching so
// every pixel is covered.
func checkAxis(t *testing.T, axis string, starts []int, n, patch int) {
	t.Helper()
	if len(starts) == 0 {
		t.Fatalf("%s: no patches", axis)
	}
	if starts[0] != 0 {
		t.Errorf("%s: first patch at %d, want 0", axis, starts[0])
	}
	if last := starts[len(starts)-1]; last+patch != n {
		t.Errorf("%s: last patch ends at %d, want %d", axis, last+patch, n)
	}
	for i, s := range starts {
		if s < 0 || s+patch > n {
			t.Errorf("%s: patch [%d, %d) outside [0, %d)", axis, s, s+patch, n)
		}
		if i > 0 && s <= starts[i-1] {
			t.Errorf("%s: origins not ascending and unique: %v", axis, starts)
		}
		if i > 0 && s > starts[i-1]+patch {
			t.Errorf("%s: gap between patches at %d and %d (patch %d)", axis, starts[i-1], s, patch)
		}
	}
}

func TestNewGridRectangular(t *testing.T) {
	g, err := NewGrid(image.Pt(2000, 1001), 1000, 300)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g.Xs, []int{0, 700, 1000}) || !reflect.DeepEqual(g.Ys, []int{0, 1}) {
		t.Fatalf("Xs %v Ys %v", g.Xs, g.Ys)
	}
	if g.Len() != 6 {
		t.Errorf("Len() = %d, want 6", g.Len())
	}
	if r := g.Rect(2, 1); r != image.Rect(1000, 1, 2000, 1001) {
		t.Errorf("Rect(2, 1) = %v", r)
	}
	if r := g.Rect(1, 0); r != image.Rect(700, 0, 1700, 1000) {
		t.Errorf("Rect(1, 0) = %v", r)
	}
	if g.Size != image.Pt(2000, 1001) || g.Patch != 1000 || g.Overlap != 300 {
		t.Errorf("grid fields %+v", g)
	}
}

// Every pixel of the scene lies in at least one patch.
func TestNewGridCoverage(t *testing.T) {
	for _, tc := range []struct {
		size           image.Point
		patch, overlap int
	}{
		{image.Pt(37, 23), 8, 3},
		{image.Pt(64, 64), 32, 0},
		{image.Pt(100, 41), 41, 40},
		{image.Pt(9, 9), 9, 0},
		{image.Pt(50, 17), 16, 15},
	} {
		g, err := NewGrid(tc.size, tc.patch, tc.overlap)
		if err != nil {
			t.Fatal(err)
		}
		covered := make([]int, tc.size.X*tc.size.Y)
		for iy := range g.Ys {
			for ix := range g.Xs {
				r := g.Rect(ix, iy)
				if !r.In(image.Rectangle{Max: tc.size}) || r.Dx() != tc.patch || r.Dy() != tc.patch {
					t.Fatalf("%+v: patch %v", tc, r)
				}
				for y := r.Min.Y; y < r.Max.Y; y++ {
					for x := r.Min.X; x < r.Max.X; x++ {
						covered[y*tc.size.X+x]++
					}
				}
			}
		}
		for i, c := range covered {
			if c == 0 {
				t.Fatalf("%+v: pixel (%d, %d) not covered", tc, i%tc.size.X, i/tc.size.X)
			}
		}
	}
}

func TestNewGridErrors(t *testing.T) {
	tests := []struct {
		size           image.Point
		patch, overlap int
		msg            string
	}{
		{image.Pt(1000, 1000), 256, 300, "tiling: overlap 300 >= patch size 256"},
		{image.Pt(1000, 1000), 256, 256, "tiling: overlap 256 >= patch size 256"},
		{image.Pt(1000, 1000), 256, -1, "tiling: overlap -1 < 0"},
		{image.Pt(1000, 1000), 0, 0, "tiling: patch size 0 <= 0"},
		{image.Pt(1000, 1000), -5, 0, "tiling: patch size -5 <= 0"},
		{image.Pt(999, 2000), 1000, 300, "tiling: patch size 1000 larger than scene 999x2000"},
		{image.Pt(2000, 999), 1000, 300, "tiling: patch size 1000 larger than scene 2000x999"},
		{image.Pt(0, 0), 1, 0, "larger than scene 0x0"},
	}
	for _, tt := range tests {
		g, err := NewGrid(tt.size, tt.patch, tt.overlap)
		if err == nil || g != nil {
			t.Errorf("NewGrid(%v, %d, %d) = %+v, %v; want an error", tt.size, tt.patch, tt.overlap, g, err)
			continue
		}
		if !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("NewGrid(%v, %d, %d) error %q, want %q", tt.size, tt.patch, tt.overlap, err, tt.msg)
		}
	}
}

func TestFit(t *testing.T) {
	tests := []struct {
		name                 string
		size                 image.Point
		patch, overlap, mult int
		p, o                 int
	}{
		{"fits as is", image.Pt(2000, 3000), 1000, 300, 0, 1000, 300},
		{"exactly the scene", image.Pt(1000, 1000), 1000, 300, 1, 1000, 300},
		{"round down to multiple", image.Pt(2000, 2000), 1000, 300, 16, 992, 297},
		{"already a multiple", image.Pt(2000, 2000), 512, 128, 16, 512, 128},
		{"shrink to short side (height)", image.Pt(2000, 600), 1000, 300, 0, 600, 180},
		{"shrink to short side (width)", image.Pt(600, 2000), 1000, 300, 1, 600, 180},
		{"shrink and round", image.Pt(2000, 600), 1000, 300, 16, 592, 177},
		{"zero overlap stays zero", image.Pt(500, 500), 1000, 0, 32, 480, 0},
		{"smallest scene", image.Pt(32, 32), 1000, 300, 0, 32, 9},
		{"multiple > short side after shrink", image.Pt(100, 100), 1000, 300, 64, 64, 19},
		{"negative multiple means 1", image.Pt(700, 700), 1000, 300, -8, 700, 210},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, o, err := Fit(tt.size, tt.patch, tt.overlap, tt.mult)
			if err != nil {
				t.Fatal(err)
			}
			if p != tt.p || o != tt.o {
				t.Errorf("Fit(%v, %d, %d, %d) = (%d, %d), want (%d, %d)", tt.size, tt.patch, tt.overlap, tt.mult, p, o, tt.p, tt.o)
			}
			if _, err := NewGrid(tt.size, p, o); err != nil {
				t.Errorf("NewGrid with Fit's result: %v", err)
			}
		})
	}
}

func TestFitTooSmall(t *testing.T) {
	tests := []struct {
		name                 string
		size                 image.Point
		patch, overlap, mult int
		msg                  string
	}{
		{"31x31", image.Pt(31, 31), 1000, 300, 0, "31x31 pixels, need at least 32 on each side"},
		{"thin strip", image.Pt(5000, 31), 1000, 300, 0, "5000x31 pixels"},
		{"tall strip", image.Pt(20, 5000), 1000, 300, 0, "20x5000"},
		{"multiple larger than the short side", image.Pt(100, 40), 1000, 300, 64, "need at least 64 on each side"},
		{"rounding drops below the minimum", image.Pt(47, 47), 1000, 300, 24, "need at least 32"},
		{"empty", image.Pt(0, 0), 1000, 300, 0, "0x0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, o, err := Fit(tt.size, tt.patch, tt.overlap, tt.mult)
			if !errors.Is(err, ErrTooSmall) {
				t.Fatalf("Fit(%v, ...) = (%d, %d, %v), want ErrTooSmall", tt.size, p, o, err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not contain %q", err, tt.msg)
			}
		})
	}
}

func TestFitErrors(t *testing.T) {
	tests := []struct {
		patch, overlap int
		msg            string
	}{
		{0, 0, "patch size 0 <= 0"},
		{-1, 0, "patch size -1 <= 0"},
		{256, 256, "overlap 256 >= patch size 256"},
		{256, 300, "overlap 300 >= patch size 256"},
		{256, -1, "overlap -1"},
	}
	for _, tt := range tests {
		_, _, err := Fit(image.Pt(1000, 1000), tt.patch, tt.overlap, 0)
		if err == nil || errors.Is(err, ErrTooSmall) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("Fit(patch %d, overlap %d) error %v, want one containing %q (not ErrTooSmall)", tt.patch, tt.overlap, err, tt.msg)
		}
	}
	// A requested patch below the minimum is refused whatever the scene.
	if _, _, err := Fit(image.Pt(1000, 1000), 16, 4, 0); err == nil {
		t.Error("Fit with a 16 px patch succeeded, want an error")
	}
}

// Fit's result always satisfies NewGrid and the manifest's constraints.
func TestFitProperties(t *testing.T) {
	for _, w := range []int{31, 32, 33, 50, 64, 100, 257, 1000, 4097} {
		for _, h := range []int{32, 77, 512, 1001} {
			for _, pm := range [][3]int{{1000, 300, 0}, {512, 128, 16}, {256, 0, 32}, {64, 63, 1}, {509, 100, 7}} {
				size := image.Pt(w, h)
				p, o, err := Fit(size, pm[0], pm[1], pm[2])
				if err != nil {
					if !errors.Is(err, ErrTooSmall) {
						t.Fatalf("Fit(%v, %v): %v", size, pm, err)
					}
					continue
				}
				mult := max(pm[2], 1)
				if p < MinPatch || p > pm[0] || p > min(w, h) || p%mult != 0 || o < 0 || o >= p || o > pm[1] {
					t.Fatalf("Fit(%v, %v) = (%d, %d)", size, pm, p, o)
				}
				if _, err := NewGrid(size, p, o); err != nil {
					t.Fatalf("Fit(%v, %v) = (%d, %d): NewGrid: %v", size, pm, p, o, err)
				}
			}
		}
	}
}

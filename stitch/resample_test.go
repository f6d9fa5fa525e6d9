package stitch

import (
	"math"
	"testing"
)

func TestNewAxisIdentity(t *testing.T) {
	for _, n := range []int{1, 2, 5, 16} {
		a := NewAxis(n, n)
		for d := 0; d < n; d++ {
			if a.I0[d] != d || a.F[d] != 0 {
				t.Fatalf("NewAxis(%d, %d) at %d: I0 %d F %v, want %d 0", n, n, d, a.I0[d], a.F[d], d)
			}
		}
		src := make([]float32, n)
		for i := range src {
			src[i] = float32(i*i) - 3
		}
		dst := make([]float32, n)
		BilinearRow(dst, src, src, 0, a)
		for i := range dst {
			if dst[i] != src[i] {
				t.Fatalf("identity BilinearRow = %v, want %v", dst, src)
			}
		}
	}
}

func TestNewAxis(t *testing.T) {
	tests := []struct {
		srcN, dstN int
		i0, i1     []int
		f          []float32
	}{
		// 2x up: source positions -0.25 (clamped), 0.25, 0.75, 1.25 (clamped).
		{2, 4, []int{0, 0, 0, 1}, []int{1, 1, 1, 1}, []float32{0, 0.25, 0.75, 0}},
		// 2x down: positions 0.5 and 2.5.
		{4, 2, []int{0, 2}, []int{1, 3}, []float32{0.5, 0.5}},
		// to one pixel: the middle.
		{3, 1, []int{1}, []int{2}, []float32{0}},
		{2, 1, []int{0}, []int{1}, []float32{0.5}},
		// from one pixel.
		{1, 3, []int{0, 0, 0}, []int{0, 0, 0}, []float32{0, 0, 0}},
	}
	for _, tt := range tests {
		a := NewAxis(tt.srcN, tt.dstN)
		for d := 0; d < tt.dstN; d++ {
			if a.I0[d] != tt.i0[d] || (a.F[d] != 0 && a.I1[d] != tt.i1[d]) || math.Abs(float64(a.F[d]-tt.f[d])) > 1e-7 {
				t.Errorf("NewAxis(%d, %d)[%d] = (%d, %d, %v), want (%d, %d, %v)", tt.srcN, tt.dstN, d, a.I0[d], a.I1[d], a.F[d], tt.i0[d], tt.i1[d], tt.f[d])
			}
		}
	}
}

func TestNewAxisInRange(t *testing.T) {
	for srcN := 1; srcN <= 20; srcN++ {
		for dstN := 1; dstN <= 20; dstN++ {
			a := NewAxis(srcN, dstN)
			if len(a.I0) != dstN || len(a.I1) != dstN || len(a.F) != dstN {
				t.Fatalf("NewAxis(%d, %d): lengths %d %d %d", srcN, dstN, len(a.I0), len(a.I1), len(a.F))
			}
			for d := 0; d < dstN; d++ {
				i0, i1, f := a.I0[d], a.I1[d], a.F[d]
				// F may round up to exactly 1 in float32 (all weight on I1).
				if i0 < 0 || i1 >= srcN || i0 > i1 || i1 > i0+1 || f < 0 || f > 1 || (i0 == i1 && f != 0) {
					t.Fatalf("NewAxis(%d, %d)[%d] = (%d, %d, %v)", srcN, dstN, d, i0, i1, f)
				}
				if d > 0 && float32(i0)+f < float32(a.I0[d-1])+a.F[d-1] {
					t.Fatalf("NewAxis(%d, %d) not monotonic at %d", srcN, dstN, d)
				}
			}
		}
	}
}

func TestBilinearRowUpsample(t *testing.T) {
	x := NewAxis(2, 4)
	tests := []struct {
		name string
		a, b []float32
		fy   float32
		want []float32
	}{
		{"row [0 1]", []float32{0, 1}, []float32{0, 1}, 0, []float32{0, 0.25, 0.75, 1}},
		{"vertical blend", []float32{0, 1}, []float32{4, 5}, 0.25, []float32{1, 1.25, 1.75, 2}},
		{"b only", []float32{0, 1}, []float32{4, 8}, 1, []float32{4, 5, 7, 8}},
	}
	for _, tt := range tests {
		dst := make([]float32, 4)
		BilinearRow(dst, tt.a, tt.b, tt.fy, x)
		for i := range dst {
			if !close32(dst[i], tt.want[i], 1e-6) {
				t.Errorf("%s: BilinearRow = %v, want %v", tt.name, dst, tt.want)
				break
			}
		}
	}
}

func TestBilinearRowNaN(t *testing.T) {
	half := NewAxis(2, 1) // one output between two inputs, F = 0.5
	up := NewAxis(2, 4)
	tests := []struct {
		name string
		x    Axis
		a, b []float32
		fy   float32
		want []float32
	}{
		{"one NaN of four renormalises", half, []float32{nan32, 2}, []float32{4, 6}, 0.5, []float32{4}},
		{"two NaN of four", half, []float32{nan32, 2}, []float32{nan32, 6}, 0.5, []float32{4}},
		{"all four NaN", half, []float32{nan32, nan32}, []float32{nan32, nan32}, 0.5, []float32{nan32}},
		// Along a row: 0.75*NaN + 0.25*1 → 1; the clamped ends take one
		// sample each.
		{"NaN neighbour in a row", up, []float32{nan32, 1}, []float32{nan32, 1}, 0, []float32{nan32, 1, 1, 1}},
		// A NaN with zero weight does not poison the result.
		{"NaN in the unused row", up, []float32{0, 1}, []float32{nan32, nan32}, 0, []float32{0, 0.25, 0.75, 1}},
		// Output 1: weights 0.375 (a0=0), 0.125 (a1=1), 0.375 (b0=NaN),
		// 0.125 (b1=1) → 0.25/0.625; output 2: 0.75/0.875.
		{"NaN only in b", up, []float32{0, 1}, []float32{nan32, 1}, 0.5, []float32{0, 0.4, 6.0 / 7, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := make([]float32, len(tt.want))
			BilinearRow(dst, tt.a, tt.b, tt.fy, tt.x)
			for i := range dst {
				if !close32(dst[i], tt.want[i], 1e-6) {
					t.Fatalf("BilinearRow = %v, want %v", dst, tt.want)
				}
			}
		})
	}
}

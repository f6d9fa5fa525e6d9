package preprocess

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/omnimask/omnimask/raster"
)

// area runs Area over the whole destination grid (dw x dh) of a whole
// source raster and returns the result and its mask.
func area(src *raster.Float32, srcValid *raster.Mask, sx, sy float64, dw, dh int) (*raster.Float32, *raster.Mask) {
	r := image.Rect(0, 0, dw, dh)
	dst, dv := raster.NewFloat32(src.C, r), raster.NewMask(r)
	Area(dst, dv, src, srcValid, sx, sy, src.Rect.Size())
	return dst, dv
}

func TestAreaBlockMean(t *testing.T) {
	r := image.Rect(0, 0, 4, 4)
	src := newRaster(2, r,
		1, 3, 10, 20,
		5, 7, 30, 40,
		0, 0, 100, 100,
		4, 8, 100, 104,
		// channel 1 = channel 0 negated
		-1, -3, -10, -20,
		-5, -7, -30, -40,
		0, 0, -100, -100,
		-4, -8, -100, -104,
	)
	dst, dv := area(src, allValid(r), 2, 2, 2, 2)
	want := []float32{4, 25, 3, 101, -4, -25, -3, -101}
	for i, w := range want {
		if dst.Pix[i] != w {
			t.Errorf("Pix[%d] = %v, want %v", i, dst.Pix[i], w)
		}
	}
	if dv.Count() != 4 {
		t.Errorf("%d valid, want 4", dv.Count())
	}
}

func TestAreaNoData(t *testing.T) {
	r := image.Rect(0, 0, 4, 2)
	src := newRaster(1, r,
		1, 3, 10, 20,
		5, 100, 30, 40,
	)
	tests := []struct {
		name      string
		valid     []bool
		want      []float32
		wantValid []bool
	}{
		{
			name:      "one invalid pixel left out of the mean",
			valid:     []bool{true, true, true, true, true, false, true, true},
			want:      []float32{3, 25},
			wantValid: []bool{true, true},
		},
		{
			name:      "all-nodata block is invalid and zero",
			valid:     []bool{false, false, true, true, false, false, false, true},
			want:      []float32{0, 70.0 / 3},
			wantValid: []bool{false, true},
		},
		{
			name:      "single valid pixel",
			valid:     []bool{false, false, false, false, false, true, false, false},
			want:      []float32{100, 0},
			wantValid: []bool{true, false},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst, dv := area(src, maskOf(r, tt.valid...), 2, 2, 2, 1)
			for i := range tt.want {
				if !close32(dst.Pix[i], tt.want[i], 1e-7) || dv.Pix[i] != tt.wantValid[i] {
					t.Errorf("pixel %d = %v (valid %v), want %v (valid %v)", i, dst.Pix[i], dv.Pix[i], tt.want[i], tt.wantValid[i])
				}
			}
		})
	}
}

// With 1.5 source pixels per destination pixel each destination pixel
// straddles source pixels, which are weighted by their overlap: on each
// axis destination 0 covers source 0 fully and half of source 1, and
// destination 1 the other half of source 1 and all of source 2.
func TestAreaFractional(t *testing.T) {
	r := image.Rect(0, 0, 3, 3)
	// v(x, y) = x + 10y
	src := newRaster(1, r,
		0, 1, 2,
		10, 11, 12,
		20, 21, 22,
	)
	t.Run("all valid", func(t *testing.T) {
		dst, dv := area(src, allValid(r), 1.5, 1.5, 2, 2)
		// x part: (0*1 + 1*0.5)/1.5 = 1/3 and (1*0.5 + 2*1)/1.5 = 5/3;
		// y part likewise times 10.
		want := []float32{1.0/3 + 10.0/3, 5.0/3 + 10.0/3, 1.0/3 + 50.0/3, 5.0/3 + 50.0/3}
		for i, w := range want {
			if !close32(dst.Pix[i], w, 1e-6) || !dv.Pix[i] {
				t.Errorf("pixel %d = %v (valid %v), want %v", i, dst.Pix[i], dv.Pix[i], w)
			}
		}
	})
	t.Run("centre invalid", func(t *testing.T) {
		v := allValid(r)
		v.Pix[4] = false // source (1, 1), shared by all four destination pixels
		dst, _ := area(src, v, 1.5, 1.5, 2, 2)
		// Destination (0, 0): weights (0,0) 1, (1,0) 0.5, (0,1) 0.5,
		// (1,1) 0.25 dropped: (0*1 + 1*0.5 + 10*0.5) / 2 = 2.75.
		// Destination (1, 1): (12*0.5 + 21*0.5 + 22*1) / 2 = 19.25.
		for _, tc := range []struct {
			i    int
			want float32
		}{{0, 2.75}, {3, 19.25}} {
			if !close32(dst.Pix[tc.i], tc.want, 1e-6) {
				t.Errorf("pixel %d = %v, want %v", tc.i, dst.Pix[tc.i], tc.want)
			}
		}
	})
	t.Run("anisotropic", func(t *testing.T) {
		// 1.5 across, 3 down: one row, mean of each column group.
		dst, _ := area(src, allValid(r), 1.5, 3, 2, 1)
		want := []float32{1.0/3 + 10, 5.0/3 + 10}
		for i, w := range want {
			if !close32(dst.Pix[i], w, 1e-6) {
				t.Errorf("pixel %d = %v, want %v", i, dst.Pix[i], w)
			}
		}
	})
}

// The last destination pixel may hang over the source's edge: it averages
// what is there.
func TestAreaClipsAtEdge(t *testing.T) {
	r := image.Rect(0, 0, 5, 1)
	src := newRaster(1, r, 1, 2, 3, 4, 9)
	dst, dv := area(src, allValid(r), 2, 1, 3, 1)
	want := []float32{1.5, 3.5, 9}
	for i, w := range want {
		if dst.Pix[i] != w || !dv.Pix[i] {
			t.Errorf("pixel %d = %v (valid %v), want %v", i, dst.Pix[i], dv.Pix[i], w)
		}
	}
	// A destination pixel entirely past the source is invalid.
	dst, dv = area(src, allValid(r), 2, 1, 4, 1)
	if dv.Pix[3] || dst.Pix[3] != 0 {
		t.Errorf("pixel past the edge = %v (valid %v), want 0 invalid", dst.Pix[3], dv.Pix[3])
	}
}

// With fewer than one source pixel per destination pixel each destination
// pixel lies inside one source pixel and takes its value (nearest).
func TestAreaUpsampling(t *testing.T) {
	r := image.Rect(0, 0, 3, 2)
	src := newRaster(1, r, 1, 2, 3, 4, 5, 6)
	v := maskOf(r, true, true, false, true, true, true)
	for _, k := range []int{2, 4} {
		t.Run(fmt.Sprintf("x%d", k), func(t *testing.T) {
			s := 1 / float64(k)
			dst, dv := area(src, v, s, s, 3*k, 2*k)
			for y := 0; y < 2*k; y++ {
				for x := 0; x < 3*k; x++ {
					sx, sy := x/k, y/k
					want, wantOK := src.At(0, sx, sy), v.Valid(sx, sy)
					if !wantOK {
						want = 0
					}
					if got := dst.At(0, x, y); got != want || dv.Valid(x, y) != wantOK {
						t.Fatalf("(%d, %d) = %v (valid %v), want %v (valid %v)", x, y, got, dv.Valid(x, y), want, wantOK)
					}
				}
			}
		})
	}
}

// The engine resamples a band of destination rows from the band of source
// rows AreaSpan names; source rows outside src.Rect count as invalid.
func TestAreaStrip(t *testing.T) {
	full := image.Rect(0, 0, 4, 8)
	src := raster.NewFloat32(1, full)
	for y := 0; y < 8; y++ {
		for x := 0; x < 4; x++ {
			src.Set(0, x, y, float32(10*y+x))
		}
	}
	valid := allValid(full)
	const s = 2.0
	whole, _ := area(src, valid, s, s, 2, 4)

	// Destination rows [1, 3) read source rows [2, 6).
	lo, hi := AreaSpan(1, 3, s, 8)
	if lo != 2 || hi != 6 {
		t.Fatalf("AreaSpan(1, 3, 2, 8) = [%d, %d), want [2, 6)", lo, hi)
	}
	band := image.Rect(0, lo, 4, hi)
	nat := src.SubImage(band).Clone()
	dr := image.Rect(0, 1, 2, 3)
	dst, dv := raster.NewFloat32(1, dr), raster.NewMask(dr)
	Area(dst, dv, nat, valid.SubImage(band), s, s, full.Size())
	for y := dr.Min.Y; y < dr.Max.Y; y++ {
		for x := dr.Min.X; x < dr.Max.X; x++ {
			if dst.At(0, x, y) != whole.At(0, x, y) || !dv.Valid(x, y) {
				t.Errorf("strip (%d, %d) = %v, whole = %v", x, y, dst.At(0, x, y), whole.At(0, x, y))
			}
		}
	}

	// A destination row whose source rows were not read is invalid.
	dr = image.Rect(0, 0, 2, 1)
	dst, dv = raster.NewFloat32(1, dr), raster.NewMask(dr)
	Area(dst, dv, nat, valid.SubImage(band), s, s, full.Size())
	if dv.Count() != 0 {
		t.Errorf("row 0 from source rows [2, 6): %d valid pixels, want 0", dv.Count())
	}
}

func TestAreaSpan(t *testing.T) {
	tests := []struct {
		d0, d1 int
		s      float64
		n      int
		lo, hi int
	}{
		{0, 2, 2, 4, 0, 4},
		{1, 2, 2, 4, 2, 4},
		{0, 1, 1.5, 3, 0, 2},
		{1, 2, 1.5, 3, 1, 3},
		{0, 2, 1.5, 3, 0, 3},
		{2, 3, 2, 5, 4, 5},   // clipped to the source
		{0, 4, 0.5, 2, 0, 2}, // upsampling
		{1, 3, 0.5, 2, 0, 2},
		{3, 4, 0.5, 2, 1, 2},
		{0, 0, 2, 4, 0, 0},
		{0, 3, 1, 3, 0, 3}, // identity
		// 25 * (14.0/25) is 14.000000000000002 in float64; the span must
		// not grow by a pixel for it.
		{0, 25, 14.0 / 25, 14, 0, 14},
		{20, 25, 14.0 / 25, 14, 11, 14},
		{10, 20, 0.7, 100, 7, 14},
	}
	for _, tt := range tests {
		lo, hi := AreaSpan(tt.d0, tt.d1, tt.s, tt.n)
		if lo != tt.lo || hi != tt.hi {
			t.Errorf("AreaSpan(%d, %d, %v, %d) = [%d, %d), want [%d, %d)", tt.d0, tt.d1, tt.s, tt.n, lo, hi, tt.lo, tt.hi)
		}
	}
}

// Every source pixel a destination band reads with a non-negligible weight
// lies inside the span AreaSpan reports for it.
func TestAreaSpanCoversTaps(t *testing.T) {
	for _, dims := range [][2]int{{10, 3}, {1000, 333}, {7, 7}, {5, 9}, {10980, 5490}, {10980, 3660}, {7741, 2580}, {100, 37}} {
		srcN, dstN := dims[0], dims[1]
		s := float64(srcN) / float64(dstN)
		for d0 := 0; d0 < dstN; d0 += 1 + dstN/17 {
			for _, d1 := range []int{d0 + 1, min(dstN, d0+5), dstN} {
				lo, hi := AreaSpan(d0, d1, s, srcN)
				if lo < 0 || hi > srcN || lo > hi {
					t.Fatalf("AreaSpan(%d, %d, %v, %d) = [%d, %d) out of [0, %d)", d0, d1, s, srcN, lo, hi, srcN)
				}
				var wsum float64
				for _, ts := range areaTaps(d0, d1, s, srcN) {
					for _, tp := range ts {
						wsum += tp.w
						if (tp.i < lo || tp.i >= hi) && tp.w > 1e-6 {
							t.Errorf("src %d->%d: destination [%d, %d) reads source %d (weight %g) outside span [%d, %d)", srcN, dstN, d0, d1, tp.i, tp.w, lo, hi)
						}
					}
				}
				// The weights add up to the covered length.
				want := math.Min(float64(d1)*s, float64(srcN)) - float64(d0)*s
				if math.Abs(wsum-want) > 1e-6 {
					t.Errorf("src %d->%d [%d, %d): weights add to %v, want %v", srcN, dstN, d0, d1, wsum, want)
				}
			}
		}
	}
}

// Like Valid's dst, srcValid may be larger than src (the scene's mask with
// a view of the scene): it must be read at src's coordinates.
func TestAreaLargerSourceMask(t *testing.T) {
	full := image.Rect(0, 0, 8, 4)
	src := raster.NewFloat32(1, full)
	for i := range src.Pix {
		src.Pix[i] = float32(i)
	}
	valid := allValid(full)
	valid.Pix[0], valid.Pix[1] = false, false // (0,0) and (1,0) invalid
	view := image.Rect(2, 0, 6, 4)            // all valid under the view
	dst, dv := raster.NewFloat32(1, image.Rect(1, 0, 3, 2)), raster.NewMask(image.Rect(1, 0, 3, 2))
	Area(dst, dv, src.SubImage(view), valid, 2, 2, full.Size())
	want, wantV := raster.NewFloat32(1, dst.Rect), raster.NewMask(dst.Rect)
	Area(want, wantV, src.SubImage(view), valid.SubImage(view), 2, 2, full.Size())
	for i := range want.Pix {
		if dst.Pix[i] != want.Pix[i] || dv.Pix[i] != wantV.Pix[i] {
			t.Fatalf("with the scene mask: %v %v, with the view's mask: %v %v", dst.Pix, dv.Pix, want.Pix, wantV.Pix)
		}
	}
}

// TestAreaIntegerPaths: the integer-factor paths (k = 2 unrolled, k = 3, 4
// general) give exactly what the tap-list path gives, invalid pixels and
// NaN values included, on a window that does not start at the origin.
func TestAreaIntegerPaths(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, k := range []int{2, 3, 4} {
		t.Run(fmt.Sprintf("k=%d", k), func(t *testing.T) {
			full := image.Rect(0, 0, 40*k, 30*k)
			src := raster.NewFloat32(3, full)
			for i := range src.Pix {
				src.Pix[i] = float32(rng.NormFloat64()*1000 + 3000)
				if rng.IntN(20) == 0 {
					src.Pix[i] = float32(math.NaN())
				}
			}
			valid := raster.NewMask(full)
			Valid(valid, src, raster.NoDataValue(0))
			for i := range valid.Pix {
				if rng.IntN(4) == 0 { // blocks partly invalid
					valid.Pix[i] = false
				}
			}
			dr := image.Rect(3, 2, 37, 29)
			in := image.Rect(dr.Min.X*k, dr.Min.Y*k, dr.Max.X*k, dr.Max.Y*k)
			for y := in.Min.Y + k; y < in.Min.Y+3*k; y++ { // and wholly
				for x := in.Min.X + k; x < in.Min.X+5*k; x++ {
					valid.Row(y)[x] = false
				}
			}
			sub, subValid := src.SubImage(in), valid.SubImage(in)
			fast, fastValid := raster.NewFloat32(3, dr), raster.NewMask(dr)
			Area(fast, fastValid, sub, subValid, float64(k), float64(k), full.Size())
			want, wantValid := raster.NewFloat32(3, dr), raster.NewMask(dr)
			areaTapped(want, wantValid, sub, subValid, float64(k), float64(k), full.Size())
			for c := 0; c < 3; c++ {
				for y := dr.Min.Y; y < dr.Max.Y; y++ {
					for x := dr.Min.X; x < dr.Max.X; x++ {
						a, b := fast.At(c, x, y), want.At(c, x, y)
						if math.Float32bits(a) != math.Float32bits(b) || fastValid.Valid(x, y) != wantValid.Valid(x, y) {
							t.Fatalf("(%d, %d, %d): %v valid %v, tap path %v valid %v", c, x, y, a, fastValid.Valid(x, y), b, wantValid.Valid(x, y))
						}
					}
				}
			}
			if n := wantValid.Count(); n == 0 || n == dr.Dx()*dr.Dy() {
				t.Fatalf("%d valid destination pixels: the case should mix valid and invalid", n)
			}
		})
	}
}

package preprocess

import (
	"image"
	"math"
	"testing"

	"github.com/omnimask/omnimask/raster"
)

func TestValid(t *testing.T) {
	r := image.Rect(0, 0, 4, 1)
	ninf := float32(math.Inf(-1))
	tests := []struct {
		name   string
		c      int
		vals   []float32 // CHW, 4 pixels per channel
		nodata raster.NoData
		want   []bool
	}{
		{
			name:   "no nodata value: zeros are valid",
			c:      2,
			vals:   []float32{0, 1, 0, 3, 0, 0, 2, 3},
			nodata: raster.NoData{},
			want:   []bool{true, true, true, true},
		},
		{
			name: "unset nodata value of 0 is ignored",
			c:    2,
			vals: []float32{0, 1, 0, 3, 0, 0, 2, 3},
			// Value 0 but not Set: no nodata.
			nodata: raster.NoData{Value: 0},
			want:   []bool{true, true, true, true},
		},
		{
			name:   "nodata in all bands vs only some bands",
			c:      3,
			vals:   []float32{0, 0, 5, 0, 0, 7, 0, 0, 0, 0, 0, 9},
			nodata: raster.NoDataValue(0),
			want:   []bool{false, true, true, true},
		},
		{
			name:   "negative nodata",
			c:      2,
			vals:   []float32{-9999, -9999, 1, -9999, -9999, 2, -9999, -9999},
			nodata: raster.NoDataValue(-9999),
			want:   []bool{false, true, true, false},
		},
		{
			name:   "fractional nodata compared in float32",
			c:      1,
			vals:   []float32{0.1, 0.2, 0.1, 0.3},
			nodata: raster.NoDataValue(0.1),
			want:   []bool{false, true, false, true},
		},
		{
			name:   "NaN and Inf in any band",
			c:      2,
			vals:   []float32{nan32, 1, 2, ninf, 1, inf32, 2, 3},
			nodata: raster.NoData{},
			want:   []bool{false, false, true, false},
		},
		{
			name:   "NaN nodata value: NaN pixels invalid, zeros valid",
			c:      2,
			vals:   []float32{nan32, nan32, 0, 1, nan32, 5, 0, 1},
			nodata: raster.NoDataValue(math.NaN()),
			want:   []bool{false, false, true, true},
		},
		{
			name:   "NaN in one band with a numeric nodata in the others",
			c:      2,
			vals:   []float32{0, 0, 1, 1, nan32, 0, 1, 1},
			nodata: raster.NoDataValue(0),
			want:   []bool{false, false, true, true},
		},
		{
			name:   "largest finite values are valid",
			c:      1,
			vals:   []float32{math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, 0},
			nodata: raster.NoData{},
			want:   []bool{true, true, true, true},
		},
		{
			name:   "no channels: everything valid",
			c:      0,
			vals:   nil,
			nodata: raster.NoDataValue(0),
			want:   []bool{true, true, true, true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newRaster(tt.c, r, tt.vals...)
			dst := raster.NewMask(r)
			// Pre-set garbage: Valid must overwrite every flag.
			for i := range dst.Pix {
				dst.Pix[i] = i%2 == 1
			}
			n := Valid(dst, m, tt.nodata)
			wantN := 0
			for x, w := range tt.want {
				if got := dst.Valid(x, 0); got != w {
					t.Errorf("pixel %d: valid = %v, want %v", x, got, w)
				}
				if w != refValid(m, tt.nodata, x, 0) {
					t.Fatalf("test table disagrees with the reference definition at pixel %d", x)
				}
				if w {
					wantN++
				}
			}
			if n != wantN {
				t.Errorf("Valid returned %d, want %d", n, wantN)
			}
		})
	}
}

func TestValidRandomAgainstReference(t *testing.T) {
	g := lcg(1)
	r := image.Rect(3, 5, 3+17, 5+11)
	// 3 channels take the one-pass path, others the general one.
	for _, nd := range []raster.NoData{{}, raster.NoDataValue(0), raster.NoDataValue(math.NaN())} {
		for _, channels := range []int{2, 3, 4} {
			m := raster.NewFloat32(channels, r)
			for i := range m.Pix {
				switch u := g.float(); {
				case u < 0.3:
					m.Pix[i] = 0
				case u < 0.33:
					m.Pix[i] = nan32
				case u < 0.35:
					m.Pix[i] = -inf32
				default:
					m.Pix[i] = float32(u)
				}
			}
			// Make whole-pixel nodata common enough to matter.
			for y := r.Min.Y; y < r.Max.Y; y += 2 {
				for c := 0; c < channels; c++ {
					m.Set(c, r.Min.X+y%5, y, 0)
				}
			}
			dst := raster.NewMask(r)
			n := Valid(dst, m, nd)
			want := 0
			for y := r.Min.Y; y < r.Max.Y; y++ {
				for x := r.Min.X; x < r.Max.X; x++ {
					w := refValid(m, nd, x, y)
					if dst.Valid(x, y) != w {
						t.Fatalf("nodata %+v, %d channels: (%d, %d) valid = %v, want %v", nd, channels, x, y, dst.Valid(x, y), w)
					}
					if w {
						want++
					}
				}
			}
			if n != want || dst.Count() != want {
				t.Errorf("nodata %+v, %d channels: Valid returned %d, mask counts %d, want %d", nd, channels, n, dst.Count(), want)
			}
		}
	}
}

// Valid fills only the part of dst under m: dst may be a view of a larger
// mask, or a larger mask itself, and m may be a view of a larger raster.
func TestValidIntoLargerMask(t *testing.T) {
	scene := image.Rect(0, 0, 8, 6)
	big := raster.NewFloat32(2, scene)
	for i := range big.Pix {
		big.Pix[i] = 1
	}
	// Nodata pixels at (3,2) and (5,4); one band only at (4,3).
	for c := 0; c < 2; c++ {
		big.Set(c, 3, 2, 0)
		big.Set(c, 5, 4, 0)
	}
	big.Set(0, 4, 3, 0)
	patch := image.Rect(2, 1, 7, 5)
	m := big.SubImage(patch)
	wantValid := func(x, y int) bool { return !(x == 3 && y == 2) && !(x == 5 && y == 4) }

	for _, tc := range []struct {
		name string
		dst  func(parent *raster.Mask) *raster.Mask
	}{
		{"view of a larger mask", func(p *raster.Mask) *raster.Mask { return p.SubImage(patch) }},
		{"larger mask", func(p *raster.Mask) *raster.Mask { return p }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent := raster.NewMask(scene)
			// Sentinel: everything outside the patch stays true.
			for i := range parent.Pix {
				parent.Pix[i] = true
			}
			n := Valid(tc.dst(parent), m, raster.NoDataValue(0))
			if want := patch.Dx()*patch.Dy() - 2; n != want {
				t.Errorf("Valid returned %d, want %d", n, want)
			}
			for y := scene.Min.Y; y < scene.Max.Y; y++ {
				for x := scene.Min.X; x < scene.Max.X; x++ {
					want := true
					if (image.Point{x, y}).In(patch) {
						want = wantValid(x, y)
					}
					if got := parent.Valid(x, y); got != want {
						t.Errorf("(%d, %d) = %v, want %v", x, y, got, want)
					}
				}
			}
		})
	}
}

package preprocess

import (
	"image"
	"math"
	"slices"
	"testing"

	"github.com/omnimask/omnimask/raster"
)

// TestValidBands: a pixel is invalid when any channel is NaN or ±Inf, or
// when every channel with a usable nodata value (set, not NaN) holds it,
// compared in float32; with one value on every channel (or none) ValidBands
// takes Valid's path, with the same result.
func TestValidBands(t *testing.T) {
	r := image.Rect(0, 0, 4, 1)
	nd := raster.NoDataValue
	none := raster.NoData{}
	f := float32(-9999.1)
	tests := []struct {
		name   string
		c      int
		vals   []float32 // CHW, 4 pixels per channel
		nodata []raster.NoData
		want   []bool
		chans  []int // NoDataChannels
	}{
		{"no nodata value: only non-finite pixels", 2,
			[]float32{0, nan32, 0, 3, 0, 0, inf32, 3}, []raster.NoData{none, none},
			[]bool{true, false, false, true}, nil},
		{"one value on every channel", 3,
			[]float32{0, 0, 5, 0, 0, 7, 0, 0, 0, 0, 0, 9}, []raster.NoData{nd(0), nd(0), nd(0)},
			[]bool{false, true, true, true}, []int{0, 1, 2}},
		{"value not a float32 one, compared in float32", 2,
			[]float32{f, f, 1, f, f, 2, f, -9999}, []raster.NoData{nd(-9999.1), nd(-9999.1)},
			[]bool{false, true, true, true}, []int{0, 1}},
		{"one value per channel", 2,
			[]float32{0, 0, 255, 255, 255, 0, 255, 0}, []raster.NoData{nd(0), nd(255)},
			[]bool{false, true, true, true}, []int{0, 1}},
		{"channels without a value do not take part", 3,
			[]float32{1, 2, -9999, 4, -9999, -9999, 5, 0, -9999, 6, -9999, -9999}, []raster.NoData{none, nd(-9999), nd(-9999)},
			[]bool{false, true, true, true}, []int{1, 2}},
		{"only the last channel has one", 3,
			[]float32{0, 0, 1, 1, 0, 1, 0, 1, 7, 7, 0, 7}, []raster.NoData{none, none, nd(7)},
			[]bool{false, false, true, false}, []int{2}},
		{"a NaN value takes no part, NaN pixels are invalid", 2,
			[]float32{nan32, 3, 3, 0, 1, 3, 4, 0}, []raster.NoData{nd(math.NaN()), nd(3)},
			[]bool{false, false, true, true}, []int{1}},
		{"NaN in one channel with the others at nodata", 2,
			[]float32{0, 0, 1, -inf32, nan32, 1, 0, 1}, []raster.NoData{nd(0), nd(1)},
			[]bool{false, false, true, false}, []int{0, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newRaster(tc.c, r, tc.vals...)
			dst := raster.NewMask(r)
			n := ValidBands(dst, m, tc.nodata)
			wantN := 0
			for x, w := range tc.want {
				if dst.Valid(x, 0) != w {
					t.Errorf("pixel %d valid = %v, want %v", x, dst.Valid(x, 0), w)
				}
				if w {
					wantN++
				}
			}
			if n != wantN {
				t.Errorf("ValidBands returned %d, want %d", n, wantN)
			}
			if chans, _ := NoDataChannels(tc.nodata); !slices.Equal(chans, tc.chans) {
				t.Errorf("NoDataChannels: channels %v, want %v", chans, tc.chans)
			}
		})
	}
}

// TestValidBandsRandom compares ValidBands, on its general path and on
// Valid's (one value on every channel), with a per-pixel reference.
func TestValidBandsRandom(t *testing.T) {
	g := lcg(7)
	r := image.Rect(2, 3, 2+13, 3+9)
	nd := raster.NoDataValue
	for _, nds := range [][]raster.NoData{
		{nd(0), nd(0), nd(0)}, {nd(0), nd(1), nd(0)}, {{}, nd(0), nd(1)}, {{}, {}, {}},
		{nd(1), nd(1)}, {nd(math.NaN()), nd(0), {}, nd(0)}, {nd(0.1), nd(0.1), nd(0.1), nd(0.1)},
	} {
		m := raster.NewFloat32(len(nds), r)
		for i := range m.Pix {
			switch u := g.float(); {
			case u < 0.3:
				m.Pix[i] = 0
			case u < 0.5:
				m.Pix[i] = 1
			case u < 0.55:
				m.Pix[i] = float32(0.1)
			case u < 0.57:
				m.Pix[i] = nan32
			case u < 0.58:
				m.Pix[i] = -inf32
			default:
				m.Pix[i] = float32(u)
			}
		}
		dst := raster.NewMask(r)
		n := ValidBands(dst, m, nds)
		want := 0
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				ok, all, some := true, true, false
				for c, v := range nds {
					p := m.At(c, x, y)
					if math.IsNaN(float64(p)) || math.IsInf(float64(p), 0) {
						ok = false
					}
					if v.Set && !math.IsNaN(v.Value) {
						some = true
						all = all && p == float32(v.Value)
					}
				}
				w := ok && !(some && all)
				if dst.Valid(x, y) != w {
					t.Fatalf("nodata %v: (%d, %d) valid = %v, want %v", nds, x, y, dst.Valid(x, y), w)
				}
				if w {
					want++
				}
			}
		}
		if n != want || dst.Count() != want {
			t.Errorf("nodata %v: ValidBands returned %d, mask counts %d, want %d", nds, n, dst.Count(), want)
		}
	}
}

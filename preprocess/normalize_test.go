package preprocess

import (
	"image"
	"math"
	"strings"
	"testing"

	"github.com/omnimask/omnimask/raster"
)

// randomScene returns a c-channel raster over r with values in [lo, lo+span)
// and about a fifth of its pixels nodata (0 in every channel), plus its
// validity mask.
func randomScene(seed lcg, c int, r image.Rectangle, lo, span float64) (*raster.Float32, *raster.Mask) {
	g := seed
	m := raster.NewFloat32(c, r)
	for i := range m.Pix {
		m.Pix[i] = float32(lo + span*g.float())
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if g.float() < 0.2 {
				for ch := 0; ch < c; ch++ {
					m.Set(ch, x, y, 0)
				}
			}
		}
	}
	v := raster.NewMask(r)
	Valid(v, m, raster.NoDataValue(0))
	return m, v
}

func TestStats(t *testing.T) {
	r := image.Rect(0, 0, 4, 1)
	tests := []struct {
		name      string
		vals      []float32
		valid     []bool
		mean, std float64
	}{
		{"population std", []float32{1, 2, 3, 4}, []bool{true, true, true, true}, 2.5, math.Sqrt(1.25)},
		{"invalid pixels ignored", []float32{1, 1000, 3, -1000}, []bool{true, false, true, false}, 2, 1},
		{"constant: std 1", []float32{5, 5, 5, 5}, []bool{true, true, true, true}, 5, 1},
		{"single valid pixel", []float32{nan32, 7, nan32, nan32}, []bool{false, true, false, false}, 7, 1},
		{"no valid pixel", []float32{1, 2, 3, 4}, []bool{false, false, false, false}, 0, 1},
		{"two values", []float32{-3, 0, 3, 0}, []bool{true, false, true, false}, 0, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mean, std := Stats(newRaster(1, r, tt.vals...), 0, maskOf(r, tt.valid...))
			if math.Abs(mean-tt.mean) > 1e-12 || math.Abs(std-tt.std) > 1e-12 {
				t.Errorf("Stats = (%v, %v), want (%v, %v)", mean, std, tt.mean, tt.std)
			}
		})
	}
}

func TestStatsAgainstReference(t *testing.T) {
	tests := []struct {
		name     string
		lo, span float64
	}{
		{"reflectance", 0, 0.6},
		{"digital numbers", 1, 10000},
		// A large offset with a small spread: float32 accumulation would
		// lose the spread, float64 keeps it.
		{"large offset", 10000, 1},
		{"negative", -500, 20},
	}
	r := image.Rect(2, 3, 2+37, 3+23)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, v := randomScene(lcg(i+10), 3, r, tt.lo, tt.span)
			for c := 0; c < 3; c++ {
				mean, std := Stats(m, c, v)
				wm, ws := refStats(m, c, v.Valid)
				if math.Abs(mean-wm) > 1e-9*math.Max(1, math.Abs(wm)) || math.Abs(std-ws) > 1e-9*math.Max(1, ws) {
					t.Errorf("channel %d: Stats = (%v, %v), want (%v, %v)", c, mean, std, wm, ws)
				}
			}
		})
	}
}

// checkZScore compares got (normalised) with the reference computed from
// orig (the raster before normalisation) and its mask.
func checkZScore(t *testing.T, got, orig *raster.Float32, valid func(x, y int) bool, fill float32) {
	t.Helper()
	for c := 0; c < orig.C; c++ {
		mean, std := refStats(orig, c, valid)
		for y := orig.Rect.Min.Y; y < orig.Rect.Max.Y; y++ {
			for x := orig.Rect.Min.X; x < orig.Rect.Max.X; x++ {
				want := fill
				if valid(x, y) {
					want = float32((float64(orig.At(c, x, y)) - mean) / std)
				}
				if g := got.At(c, x, y); !close32(g, want, 1e-6) {
					t.Fatalf("channel %d (%d, %d) = %v, want %v", c, x, y, g, want)
				}
			}
		}
	}
}

func TestZScore(t *testing.T) {
	r := image.Rect(0, 0, 31, 17)
	for _, fill := range []float32{0, -7.5} {
		m, v := randomScene(lcg(3), 3, r, 0, 10000)
		orig := m.Clone()
		ZScore(m, v, fill)
		checkZScore(t, m, orig, v.Valid, fill)
		// Normalised valid pixels have mean 0 and std 1 per channel.
		for c := 0; c < 3; c++ {
			mean, std := refStats(m, c, v.Valid)
			if math.Abs(mean) > 1e-6 || math.Abs(std-1) > 1e-6 {
				t.Errorf("fill %v channel %d: normalised stats (%v, %v), want (0, 1)", fill, c, mean, std)
			}
		}
	}
}

func TestZScoreSmall(t *testing.T) {
	r := image.Rect(0, 0, 3, 2)
	tests := []struct {
		name  string
		c     int
		vals  []float32
		valid []bool
		fill  float32
		want  []float32
	}{
		{
			name:  "two channels, one invalid pixel",
			c:     2,
			vals:  []float32{1, 2, 3, 4, 5, 0, 10, 10, 10, 20, 20, 0},
			valid: []bool{true, true, true, true, true, false},
			fill:  -1,
			// ch0: mean 3, std sqrt(2); ch1: mean 14, std sqrt(24)
			want: []float32{
				float32(-2 / math.Sqrt2), float32(-1 / math.Sqrt2), 0, float32(1 / math.Sqrt2), float32(2 / math.Sqrt2), -1,
				float32(-4 / math.Sqrt(24)), float32(-4 / math.Sqrt(24)), float32(-4 / math.Sqrt(24)), float32(6 / math.Sqrt(24)), float32(6 / math.Sqrt(24)), -1,
			},
		},
		{
			name:  "constant channel becomes 0 (std 1)",
			c:     1,
			vals:  []float32{4, 4, 4, 4, 4, 9},
			valid: []bool{true, true, true, true, true, false},
			fill:  3,
			want:  []float32{0, 0, 0, 0, 0, 3},
		},
		{
			name:  "no valid pixel: all fill",
			c:     2,
			vals:  []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12},
			valid: []bool{false, false, false, false, false, false},
			fill:  0.5,
			want:  []float32{0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5},
		},
		{
			name:  "NaN and Inf under invalid pixels never reach the statistics",
			c:     1,
			vals:  []float32{nan32, 1, inf32, 3, -inf32, 5},
			valid: []bool{false, true, false, true, false, true},
			fill:  0,
			want:  []float32{0, float32(-2 / math.Sqrt(8.0/3)), 0, 0, 0, float32(2 / math.Sqrt(8.0/3))},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newRaster(tt.c, r, tt.vals...)
			ZScore(m, maskOf(r, tt.valid...), tt.fill)
			for i, w := range tt.want {
				if !close32(m.Pix[i], w, 1e-6) {
					t.Errorf("Pix[%d] = %v, want %v", i, m.Pix[i], w)
				}
			}
		})
	}
}

// ZScore on a patch view normalises the patch by its own statistics and
// leaves the rest of the scene alone.
func TestZScoreSubImage(t *testing.T) {
	scene := image.Rect(0, 0, 40, 30)
	m, v := randomScene(lcg(5), 3, scene, 1, 5000)
	orig := m.Clone()
	patch := image.Rect(7, 4, 7+16, 4+16)
	sub, subValid := m.SubImage(patch), v.SubImage(patch)
	if sub.Contiguous() {
		t.Fatal("test needs a non-contiguous view")
	}
	ZScore(sub, subValid, -2)
	checkZScore(t, sub, orig.SubImage(patch), subValid.Valid, -2)
	for c := 0; c < 3; c++ {
		for y := scene.Min.Y; y < scene.Max.Y; y++ {
			for x := scene.Min.X; x < scene.Max.X; x++ {
				if !(image.Point{x, y}).In(patch) && m.At(c, x, y) != orig.At(c, x, y) {
					t.Fatalf("ZScore on a view changed (%d, %d, %d) outside it", c, x, y)
				}
			}
		}
	}
	// The same patch normalised as a contiguous copy gives the same values.
	cp := orig.SubImage(patch).Clone()
	ZScore(cp, subValid, -2)
	for c := 0; c < 3; c++ {
		for y := patch.Min.Y; y < patch.Max.Y; y++ {
			for x := patch.Min.X; x < patch.Max.X; x++ {
				if cp.At(c, x, y) != sub.At(c, x, y) {
					t.Fatalf("view and copy differ at (%d, %d, %d): %v vs %v", c, x, y, sub.At(c, x, y), cp.At(c, x, y))
				}
			}
		}
	}
}

// The mask passed to ZScore (and Stats, Fixed, Fill) "covers m.Rect"; like
// Valid's dst, a mask larger than the raster - the scene's mask with a
// patch view of the scene - must be read at the raster's coordinates.
func TestNormalizeWithLargerMask(t *testing.T) {
	scene := image.Rect(0, 0, 24, 20)
	m, v := randomScene(lcg(8), 2, scene, 1, 100)
	orig := m.Clone()
	patch := image.Rect(5, 3, 5+8, 3+8)

	mean, std := Stats(m.SubImage(patch), 0, v)
	wm, ws := refStats(orig.SubImage(patch), 0, v.Valid)
	if math.Abs(mean-wm) > 1e-9 || math.Abs(std-ws) > 1e-9 {
		t.Errorf("Stats with the scene mask = (%v, %v), want (%v, %v)", mean, std, wm, ws)
	}

	sub := m.SubImage(patch)
	ZScore(sub, v, -3)
	checkZScore(t, sub, orig.SubImage(patch), v.Valid, -3)

	fill := orig.Clone()
	Fill(fill.SubImage(patch), v, -3)
	for y := patch.Min.Y; y < patch.Max.Y; y++ {
		for x := patch.Min.X; x < patch.Max.X; x++ {
			want := orig.At(0, x, y)
			if !v.Valid(x, y) {
				want = -3
			}
			if got := fill.At(0, x, y); got != want {
				t.Fatalf("Fill with the scene mask: (%d, %d) = %v, want %v", x, y, got, want)
			}
		}
	}
}

func TestFixed(t *testing.T) {
	r := image.Rect(0, 0, 3, 1)
	m := newRaster(2, r, 10, 20, 30, 1, 2, 3)
	v := maskOf(r, true, false, true)
	if err := Fixed(m, v, []float64{10, 2}, []float64{5, 0.5}, 9); err != nil {
		t.Fatal(err)
	}
	want := []float32{0, 9, 4, -2, 9, 2}
	for i, w := range want {
		if m.Pix[i] != w {
			t.Errorf("Pix[%d] = %v, want %v", i, m.Pix[i], w)
		}
	}
}

func TestFixedErrors(t *testing.T) {
	r := image.Rect(0, 0, 2, 2)
	tests := []struct {
		name      string
		mean, std []float64
		msg       string
	}{
		{"too few means", []float64{0}, []float64{1, 1}, "1 means and 2 stds for 2 channels"},
		{"too many stds", []float64{0, 0}, []float64{1, 1, 1}, "2 means and 3 stds for 2 channels"},
		{"nil", nil, nil, "0 means and 0 stds"},
		{"zero std", []float64{0, 0}, []float64{1, 0}, "std of channel 1 is 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newRaster(2, r, 1, 2, 3, 4, 5, 6, 7, 8)
			err := Fixed(m, allValid(r), tt.mean, tt.std, 0)
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("Fixed error = %v, want one containing %q", err, tt.msg)
			}
		})
	}
}

func TestFill(t *testing.T) {
	r := image.Rect(0, 0, 3, 2)
	m := newRaster(2, r, 1, nan32, 3, 4, inf32, 6, 7, 8, 9, 10, 11, 12)
	v := maskOf(r, true, false, true, true, false, true)
	Fill(m, v, -1)
	want := []float32{1, -1, 3, 4, -1, 6, 7, -1, 9, 10, -1, 12}
	for i, w := range want {
		if m.Pix[i] != w {
			t.Errorf("Pix[%d] = %v, want %v", i, m.Pix[i], w)
		}
	}
}

func TestFillSubImage(t *testing.T) {
	scene := image.Rect(0, 0, 6, 6)
	m := raster.NewFloat32(1, scene)
	for i := range m.Pix {
		m.Pix[i] = 5
	}
	v := raster.NewMask(scene) // all invalid
	patch := image.Rect(1, 2, 4, 4)
	Fill(m.SubImage(patch), v.SubImage(patch), -1)
	for y := 0; y < 6; y++ {
		for x := 0; x < 6; x++ {
			want := float32(5)
			if (image.Point{x, y}).In(patch) {
				want = -1
			}
			if got := m.At(0, x, y); got != want {
				t.Fatalf("(%d, %d) = %v, want %v", x, y, got, want)
			}
		}
	}
}

package tiling

import (
	"fmt"
	"math"
	"testing"
)

// ocmGradient is OmniCloudMask's create_gradient_mask
// (omnicloudmask/model_utils.py) for an n x n patch, row-major: an integer
// ramp 1..o at the left edge, o..1 at the right, o inside, divided by o,
// times its 90° rotation. Overlap is capped at n/2; no overlap gives ones.
func ocmGradient(n, overlap int) []float64 {
	out := make([]float64, n*n)
	if overlap <= 0 {
		for i := range out {
			out[i] = 1
		}
		return out
	}
	o := overlap
	if 2*o > n {
		o = n / 2
	}
	g := make([][]float64, n) // g[y][x]
	for y := range g {
		g[y] = make([]float64, n)
		for x := range g[y] {
			g[y][x] = float64(o)
		}
		for x := 0; x < o; x++ {
			g[y][x] = float64(x + 1)
		}
		for k := 0; k < o; k++ { // gradient[:, -o:] = arange(o, 0, -1)
			g[y][n-o+k] = float64(o - k)
		}
		for x := range g[y] {
			g[y][x] /= float64(o)
		}
	}
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			// torch.rot90 (counter-clockwise): rot[y][x] = g[x][n-1-y]
			out[y*n+x] = g[x][n-1-y] * g[y][x]
		}
	}
	return out
}

func TestRampProfile(t *testing.T) {
	tests := []struct {
		n, overlap int
		want       []float32
	}{
		{10, 3, []float32{1. / 3, 2. / 3, 1, 1, 1, 1, 1, 1, 2. / 3, 1. / 3}},
		{6, 3, []float32{1. / 3, 2. / 3, 1, 1, 2. / 3, 1. / 3}},
		{6, 5, []float32{1. / 3, 2. / 3, 1, 1, 2. / 3, 1. / 3}}, // capped at n/2
		{5, 4, []float32{0.5, 1, 1, 1, 0.5}},                    // capped at 5/2 = 2
		{7, 3, []float32{1. / 3, 2. / 3, 1, 1, 1, 2. / 3, 1. / 3}},
		{4, 1, []float32{1, 1, 1, 1}},
		{4, 0, []float32{1, 1, 1, 1}},
		{4, -2, []float32{1, 1, 1, 1}},
		{1, 1, []float32{1}},
		{2, 1, []float32{1, 1}},
		{3, 2, []float32{1, 1, 1}},
		{0, 3, []float32{}},
	}
	for _, tt := range tests {
		got := Ramp.Profile(tt.n, tt.overlap)
		if len(got) != len(tt.want) {
			t.Errorf("Ramp.Profile(%d, %d) = %v, want %v", tt.n, tt.overlap, got, tt.want)
			continue
		}
		for i := range got {
			if math.Abs(float64(got[i]-tt.want[i])) > 1e-7 {
				t.Errorf("Ramp.Profile(%d, %d) = %v, want %v", tt.n, tt.overlap, got, tt.want)
				break
			}
		}
	}
}

// The 2-D ramp equals OmniCloudMask's gradient mask.
func TestRampMatchesOmniCloudMask(t *testing.T) {
	for _, tc := range [][2]int{{10, 3}, {16, 4}, {9, 4}, {8, 8}, {11, 10}, {32, 0}, {1000, 300}, {509, 128}} {
		n, o := tc[0], tc[1]
		t.Run(fmt.Sprintf("n%d_o%d", n, o), func(t *testing.T) {
			got := Ramp.Weights(n, n, o)
			want := ocmGradient(n, o)
			for i := range want {
				if math.Abs(float64(got[i])-want[i]) > 1e-6 {
					t.Fatalf("(%d, %d): %v, OmniCloudMask %v", i%n, i/n, got[i], want[i])
				}
			}
		})
	}
}

func TestHannProfile(t *testing.T) {
	for _, n := range []int{1, 2, 3, 8, 9, 64, 509, 1000} {
		p := Hann.Profile(n, 0)
		if len(p) != n {
			t.Fatalf("Hann.Profile(%d) has %d weights", n, len(p))
		}
		for i, v := range p {
			if !(v > 0) || v > 1 {
				t.Fatalf("Hann.Profile(%d)[%d] = %v, want in (0, 1]", n, i, v)
			}
			if d := math.Abs(float64(v - p[n-1-i])); d > 1e-6 {
				t.Fatalf("Hann.Profile(%d) not symmetric at %d: %v vs %v", n, i, v, p[n-1-i])
			}
			want := math.Pow(math.Sin(math.Pi*(float64(i)+0.5)/float64(n)), 2)
			if math.Abs(float64(v)-want) > 1e-6 {
				t.Fatalf("Hann.Profile(%d)[%d] = %v, want %v", n, i, v, want)
			}
		}
		// The overlap argument does not change a Hann window.
		q := Hann.Profile(n, n/3)
		for i := range p {
			if p[i] != q[i] {
				t.Fatalf("Hann.Profile(%d) depends on the overlap", n)
			}
		}
	}
	if p := Hann.Profile(1, 0); p[0] != 1 {
		t.Errorf("Hann.Profile(1) = %v, want [1]", p)
	}
}

func TestBoxcarProfile(t *testing.T) {
	for _, w := range []Window{Boxcar, Window(42)} {
		for _, n := range []int{0, 1, 7} {
			p := w.Profile(n, 3)
			if len(p) != n {
				t.Fatalf("%v.Profile(%d) has %d weights", w, n, len(p))
			}
			for i, v := range p {
				if v != 1 {
					t.Fatalf("%v.Profile(%d)[%d] = %v, want 1", w, n, i, v)
				}
			}
		}
	}
}

// Every window gives every pixel a positive weight, so each covered pixel
// gets a defined blend.
func TestProfilePositive(t *testing.T) {
	for _, w := range []Window{Ramp, Hann, Boxcar} {
		for n := 1; n <= 40; n++ {
			for o := 0; o <= n+1; o++ {
				for i, v := range w.Profile(n, o) {
					if !(v > 0) {
						t.Fatalf("%v.Profile(%d, %d)[%d] = %v", w, n, o, i, v)
					}
				}
			}
		}
	}
}

func TestWeightsOuterProduct(t *testing.T) {
	for _, w := range []Window{Ramp, Hann, Boxcar} {
		for _, sz := range [][3]int{{6, 10, 3}, {10, 6, 3}, {1, 5, 2}, {8, 8, 0}, {0, 4, 1}} {
			h, wd, o := sz[0], sz[1], sz[2]
			got := w.Weights(h, wd, o)
			if len(got) != h*wd {
				t.Fatalf("%v.Weights(%d, %d, %d) has %d weights", w, h, wd, o, len(got))
			}
			py, px := w.Profile(h, o), w.Profile(wd, o)
			for y := 0; y < h; y++ {
				for x := 0; x < wd; x++ {
					if got[y*wd+x] != py[y]*px[x] {
						t.Fatalf("%v.Weights(%d, %d, %d) at (%d, %d) = %v, want %v", w, h, wd, o, x, y, got[y*wd+x], py[y]*px[x])
					}
				}
			}
		}
	}
}

func TestParseWindow(t *testing.T) {
	for _, w := range []Window{Ramp, Hann, Boxcar} {
		got, err := ParseWindow(w.String())
		if err != nil || got != w {
			t.Errorf("ParseWindow(%q) = %v, %v; want %v", w.String(), got, err, w)
		}
	}
	for s, want := range map[string]Window{"ramp": Ramp, "HANN": Hann, "Boxcar": Boxcar} {
		if got, err := ParseWindow(s); err != nil || got != want {
			t.Errorf("ParseWindow(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "gauss", " ramp", "hann "} {
		if _, err := ParseWindow(s); err == nil {
			t.Errorf("ParseWindow(%q) succeeded", s)
		} else if want := fmt.Sprintf("tiling: unknown blend window %q (want ramp, hann or boxcar)", s); err.Error() != want {
			t.Errorf("ParseWindow(%q) error %q, want %q", s, err, want)
		}
	}
}

func TestWindowString(t *testing.T) {
	for w, want := range map[Window]string{Ramp: "ramp", Hann: "hann", Boxcar: "boxcar", Window(7): "Window(7)", Window(-1): "Window(-1)"} {
		if got := w.String(); got != want {
			t.Errorf("Window(%d).String() = %q, want %q", int(w), got, want)
		}
	}
	if Ramp != 0 {
		t.Error("the zero Window is not Ramp (OmniCloudMask's default)")
	}
}

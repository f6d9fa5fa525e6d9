package raster

import (
	"math"
	"testing"
)

func TestGeoTransformIsIdentity(t *testing.T) {
	tests := []struct {
		t    GeoTransform
		want bool
	}{
		{Identity, true},
		{GeoTransform{0, 1, 0, 0, 0, 1}, true},
		{GeoTransform{}, false},
		{GeoTransform{0, 1, 0, 0, 0, -1}, false},
		{GeoTransform{500000, 10, 0, 4000000, 0, -10}, false},
		{GeoTransform{1, 1, 0, 0, 0, 1}, false},
	}
	for _, tt := range tests {
		if got := tt.t.IsIdentity(); got != tt.want {
			t.Errorf("%v.IsIdentity() = %v, want %v", tt.t, got, tt.want)
		}
	}
}

func TestGeoTransformRotated(t *testing.T) {
	tests := []struct {
		t    GeoTransform
		want bool
	}{
		{Identity, false},
		{GeoTransform{500000, 10, 0, 4000000, 0, -10}, false},
		{GeoTransform{0, 10, 1, 0, 0, -10}, true},
		{GeoTransform{0, 10, 0, 0, -1, -10}, true},
	}
	for _, tt := range tests {
		if got := tt.t.Rotated(); got != tt.want {
			t.Errorf("%v.Rotated() = %v, want %v", tt.t, got, tt.want)
		}
	}
}

// rotatedTransform returns a transform for pixels dx by dy CRS units whose
// columns point at angle theta (radians, counter-clockwise from east).
func rotatedTransform(x0, y0, dx, dy, theta float64) GeoTransform {
	s, c := math.Sincos(theta)
	// Column vector (one pixel right) and row vector (one line down).
	return GeoTransform{x0, dx * c, dy * s, y0, dx * s, -dy * c}
}

func TestGeoTransformPixelSize(t *testing.T) {
	tests := []struct {
		name           string
		t              GeoTransform
		wantDX, wantDY float64
	}{
		{"identity", Identity, 1, 1},
		{"north-up", GeoTransform{500000, 10, 0, 4000000, 0, -10}, 10, 10},
		{"rectangular", GeoTransform{0, 30, 0, 0, 0, -20}, 30, 20},
		{"rotated 30°", rotatedTransform(100, 200, 10, 20, math.Pi/6), 10, 20},
		{"rotated 90°", GeoTransform{0, 0, 20, 0, 10, 0}, 10, 20},
		{"3-4-5 shear", GeoTransform{0, 3, 0, 0, 4, -7}, 5, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dx, dy := tt.t.PixelSize()
			if math.Abs(dx-tt.wantDX) > 1e-12 || math.Abs(dy-tt.wantDY) > 1e-12 {
				t.Errorf("PixelSize() = (%v, %v), want (%v, %v)", dx, dy, tt.wantDX, tt.wantDY)
			}
		})
	}
}

func TestGeoTransformApply(t *testing.T) {
	gt := GeoTransform{500000, 10, 0, 4000000, 0, -10}
	rot := GeoTransform{100, 2, 3, 200, 5, -7}
	tests := []struct {
		t            GeoTransform
		px, py       float64
		wantX, wantY float64
	}{
		{Identity, 3.5, 7.25, 3.5, 7.25},
		{gt, 0, 0, 500000, 4000000},
		{gt, 1, 0, 500010, 4000000},
		{gt, 0, 1, 500000, 3999990},
		{gt, 0.5, 0.5, 500005, 3999995},
		{gt, 100, 200, 501000, 3998000},
		{rot, 1, 1, 105, 198},
		{rot, 2, -1, 101, 217},
	}
	for _, tt := range tests {
		x, y := tt.t.Apply(tt.px, tt.py)
		if x != tt.wantX || y != tt.wantY {
			t.Errorf("%v.Apply(%v, %v) = (%v, %v), want (%v, %v)", tt.t, tt.px, tt.py, x, y, tt.wantX, tt.wantY)
		}
		// Invert undoes it, exactly here (the positions are exact in binary).
		if px, py := tt.t.Invert(tt.wantX, tt.wantY); px != tt.px || py != tt.py || tt.t.Singular() {
			t.Errorf("%v.Invert(%v, %v) = (%v, %v), want (%v, %v); singular %v", tt.t, tt.wantX, tt.wantY, px, py, tt.px, tt.py, tt.t.Singular())
		}
	}
}

// A singular transform is said to be one, and has no finite inverse.
func TestGeoTransformSingular(t *testing.T) {
	for _, s := range []GeoTransform{{0, 0, 0, 0, 0, -10}, {0, 10, 0, 0, 0, 0}, {0, 1, 2, 0, 2, 4}, {}} {
		if !s.Singular() {
			t.Errorf("%v: not singular", s)
		}
		if px, py := s.Invert(1, 1); !math.IsInf(px, 0) && !math.IsNaN(px) && !math.IsInf(py, 0) && !math.IsNaN(py) {
			t.Errorf("%v.Invert(1, 1) = (%v, %v), finite", s, px, py)
		}
	}
}

func TestGeoTransformScale(t *testing.T) {
	tests := []struct {
		name   string
		t      GeoTransform
		sx, sy float64
		want   GeoTransform
	}{
		{"identity", Identity, 1, 1, Identity},
		{"north-up x3", GeoTransform{500000, 10, 0, 4000000, 0, -10}, 3, 3, GeoTransform{500000, 30, 0, 4000000, 0, -30}},
		{"anisotropic", GeoTransform{1, 10, 0, 2, 0, -10}, 2, 0.5, GeoTransform{1, 20, 0, 2, 0, -5}},
		{"rotated", GeoTransform{1, 2, 3, 4, 5, 6}, 2, 10, GeoTransform{1, 4, 30, 4, 10, 60}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.t.Scale(tt.sx, tt.sy)
			if got != tt.want {
				t.Fatalf("Scale(%v, %v) = %v, want %v", tt.sx, tt.sy, got, tt.want)
			}
			// The scaled grid covers the same ground: pixel (px, py) of
			// the scaled grid is pixel (px*sx, py*sy) of the original.
			for _, p := range [][2]float64{{0, 0}, {1, 0}, {0, 1}, {2.5, 7}} {
				x1, y1 := got.Apply(p[0], p[1])
				x0, y0 := tt.t.Apply(p[0]*tt.sx, p[1]*tt.sy)
				if math.Abs(x1-x0) > 1e-9 || math.Abs(y1-y0) > 1e-9 {
					t.Errorf("scaled Apply%v = (%v, %v), original at scaled position = (%v, %v)", p, x1, y1, x0, y0)
				}
			}
			dx0, dy0 := tt.t.PixelSize()
			dx1, dy1 := got.PixelSize()
			if math.Abs(dx1-dx0*tt.sx) > 1e-9 || math.Abs(dy1-dy0*tt.sy) > 1e-9 {
				t.Errorf("scaled PixelSize = (%v, %v), want (%v, %v)", dx1, dy1, dx0*tt.sx, dy0*tt.sy)
			}
		})
	}
}

func TestGeoGeoreferenced(t *testing.T) {
	const wkt = `PROJCS["WGS 84 / UTM zone 50S"]`
	north := GeoTransform{500000, 10, 0, 4000000, 0, -10}
	tests := []struct {
		name string
		g    Geo
		want bool
	}{
		{"zero", Geo{}, false},
		{"identity no CRS", Geo{Transform: Identity}, false},
		{"identity with CRS", Geo{Transform: Identity, CRS: wkt}, false},
		{"transform no CRS", Geo{Transform: north}, false},
		{"transform and CRS", Geo{Transform: north, CRS: wkt}, true},
	}
	for _, tt := range tests {
		if got := tt.g.Georeferenced(); got != tt.want {
			t.Errorf("%s: Georeferenced() = %v, want %v", tt.name, got, tt.want)
		}
	}
}

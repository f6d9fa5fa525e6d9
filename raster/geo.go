package raster

import "math"

// GeoTransform maps pixel/line coordinates to georeferenced coordinates,
// in GDAL's order: X = T[0] + px*T[1] + py*T[2]; Y = T[3] + px*T[4] + py*T[5].
type GeoTransform [6]float64

// Identity is GDAL's default transform for rasters without georeference.
var Identity = GeoTransform{0, 1, 0, 0, 0, 1}

// IsIdentity reports whether t is GDAL's default (no georeference).
func (t GeoTransform) IsIdentity() bool { return t == Identity }

// Rotated reports whether t has rotation or shear terms.
func (t GeoTransform) Rotated() bool { return t[2] != 0 || t[4] != 0 }

// PixelSize returns the size of a pixel along columns and rows, in CRS units,
// accounting for rotation.
func (t GeoTransform) PixelSize() (dx, dy float64) {
	return math.Hypot(t[1], t[4]), math.Hypot(t[2], t[5])
}

// Apply returns the georeferenced coordinates of pixel position (px, py).
func (t GeoTransform) Apply(px, py float64) (x, y float64) {
	return t[0] + px*t[1] + py*t[2], t[3] + px*t[4] + py*t[5]
}

// Singular reports whether t has no inverse: it maps every pixel position
// onto one line (or point).
func (t GeoTransform) Singular() bool { return t[1]*t[5]-t[2]*t[4] == 0 }

// Invert returns the pixel position (px, py) of georeferenced coordinates
// (x, y): the inverse of Apply. For a singular t (Singular) it is not
// finite.
func (t GeoTransform) Invert(x, y float64) (px, py float64) {
	dx, dy := x-t[0], y-t[3]
	if !t.Rotated() {
		return dx / t[1], dy / t[5]
	}
	det := t[1]*t[5] - t[2]*t[4]
	return (t[5]*dx - t[2]*dy) / det, (t[1]*dy - t[4]*dx) / det
}

// Scale returns the transform of the same area sampled with pixels sx and sy
// times larger along columns and rows.
func (t GeoTransform) Scale(sx, sy float64) GeoTransform {
	return GeoTransform{t[0], t[1] * sx, t[2] * sy, t[3], t[4] * sx, t[5] * sy}
}

// Geo is the georeferencing of a raster: its transform and coordinate
// reference system as WKT ("" when unknown).
type Geo struct {
	Transform GeoTransform
	CRS       string
	// GCPs are ground control points of a raster georeferenced by them
	// alone (Transform is then the identity), in the CRS GCPCRS (WKT).
	GCPs   []GCP
	GCPCRS string
}

// GCP is a ground control point: pixel/line position and its georeferenced
// coordinates.
type GCP struct {
	ID, Info    string
	Pixel, Line float64
	X, Y, Z     float64
}

// Georeferenced reports whether g places the raster on the Earth.
func (g Geo) Georeferenced() bool { return g.CRS != "" && !g.Transform.IsIdentity() }

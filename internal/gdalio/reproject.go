package gdalio

import (
	"fmt"

	"github.com/airbusgeo/godal"

	"github.com/omnimask/omnimask/internal/liberr"
)

// Reproject transforms the points (x[i], y[i]) in place from the CRS from to
// the CRS to (each as WKT, "EPSG:n" or anything else GDAL understands), in
// the traditional GIS axis order: x is easting or longitude, y northing or
// latitude, whatever the CRS's official axis order (EPSG:4326 is lon, lat).
// ok[i] is false for a point that cannot be transformed (its x[i], y[i]
// are then meaningless); the error is for a CRS GDAL does not know or a
// pair it cannot transform between.
func Reproject(from, to string, x, y []float64) (ok []bool, err error) {
	if len(x) != len(y) {
		return nil, fmt.Errorf("gdalio: reproject %d x and %d y", len(x), len(y))
	}
	ok = make([]bool, len(x))
	if len(x) == 0 {
		return ok, nil
	}
	Register()
	src, err := godal.NewSpatialRef(from)
	if err != nil {
		return nil, &liberr.Error{Op: fmt.Sprintf("gdalio: unknown CRS %.60q", from), Err: err}
	}
	defer src.Close()
	dst, err := godal.NewSpatialRef(to)
	if err != nil {
		return nil, &liberr.Error{Op: fmt.Sprintf("gdalio: unknown CRS %.60q", to), Err: err}
	}
	defer dst.Close()
	if src.IsSame(dst) {
		for i := range ok {
			ok[i] = true
		}
		return ok, nil
	}
	tr, err := godal.NewTransform(src, dst)
	if err != nil {
		return nil, &liberr.Error{Op: fmt.Sprintf("gdalio: no transformation from %.60q to %.60q", from, to), Err: err}
	}
	defer tr.Close()
	// The error only says that some point failed: ok says which.
	_ = tr.TransformEx(x, y, nil, ok)
	return ok, nil
}

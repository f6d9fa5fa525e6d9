package embed

import (
	"fmt"
	"image"
	"math"

	"github.com/airbusgeo/godal"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/internal/liberr"
	"github.com/omnimask/omnimask/raster"
)

// vectorWriter writes a D-band float32 GeoTIFF row by row. gdalio.Writer
// (masks: tiled, band by band, COG with overviews) is the wrong layout for
// hundreds of bands on a small grid: this one is pixel-interleaved, one row
// per strip, DEFLATE with the floating-point predictor, no overviews.
type vectorWriter struct {
	path string
	ds   *godal.Dataset
	size image.Point
	d    int
	half bool // round values to half precision (dtype float16)
}

func createVectors(path string, size image.Point, d int, geo raster.Geo, meta map[string]string, dtype string) (*vectorWriter, error) {
	gdalio.Register()
	if dtype == Float16 {
		meta["OMNIMASK_DTYPE"] = Float16 + ": " + float16Note
	}
	ds, err := godal.Create(godal.GTiff, path, d, godal.Float32, size.X, size.Y, godal.CreationOption(
		"INTERLEAVE=PIXEL", "TILED=NO", "BLOCKYSIZE=1", "COMPRESS=ZSTD", "PREDICTOR=3", "ZSTD_LEVEL=1", "BIGTIFF=IF_SAFER"))
	if err != nil {
		return nil, &liberr.Error{Path: path, Op: "create", Err: err}
	}
	w := &vectorWriter{path: path, ds: ds, size: size, d: d, half: dtype == Float16}
	fail := func(op string, err error) (*vectorWriter, error) {
		ds.Close()
		return nil, &liberr.Error{Path: path, Op: op, Err: err}
	}
	if !geo.Transform.IsIdentity() {
		if err := ds.SetGeoTransform(geo.Transform); err != nil {
			return fail("set geotransform", err)
		}
	}
	if geo.CRS != "" {
		if err := ds.SetProjection(geo.CRS); err != nil {
			return fail("set CRS", err)
		}
	}
	for k, v := range meta {
		if err := ds.SetMetadata(k, v); err != nil {
			return fail("set metadata", err)
		}
	}
	for i, b := range ds.Bands() {
		if err := b.SetNoData(math.NaN()); err != nil {
			return fail("set nodata", err)
		}
		if err := b.SetDescription(fmt.Sprintf("e%d", i)); err != nil {
			return fail("set description", err)
		}
	}
	return w, nil
}

// writeRow writes output row y from a band-major buffer (D runs of size.X).
// With dtype float16 it rounds the values of row in place first.
func (w *vectorWriter) writeRow(y int, row []float32) error {
	if w.half {
		roundHalf(row)
	}
	if err := w.ds.Write(0, y, row, w.size.X, 1, godal.BandInterleaved()); err != nil {
		return &liberr.Error{Path: w.path, Op: fmt.Sprintf("writing row %d", y), Err: err}
	}
	return nil
}

// close flushes and closes the file.
func (w *vectorWriter) close() error {
	if w.ds == nil {
		return nil
	}
	err := w.ds.Close()
	w.ds = nil
	if err != nil {
		return &liberr.Error{Path: w.path, Op: "close", Err: err}
	}
	return nil
}

package embed

import (
	"encoding/json"
	"fmt"
	"image"
	"math"
	"os"

	"github.com/airbusgeo/godal"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/internal/liberr"
	"github.com/omnimask/omnimask/raster"
)

// vectorWriter writes a D-band float32 GeoTIFF row by row. gdalio.Writer
// (masks: tiled, band by band, COG with overviews) is the wrong layout for
// hundreds of bands on a small grid: this one is pixel-interleaved, one row
// per strip, ZSTD level 1 without a predictor, no overviews. The
// floating-point predictor (PREDICTOR=3) made the file larger and cost CPU:
// the built-in encoder's ReLU6 features hold runs of exact zeros, which the
// predictor's byte shuffling breaks up (5490² benchmark, 171² chips x 1280:
// 2.07 MB with it, 0.83 MB without; gdal_translate from an uncompressed
// copy took 1.37 vs 0.98 s CPU, 0.92 s uncompressed; a Landsat 8 scene's
// 38x36 chips: 286 vs 170 kB).
//
// The file is written under a temporary name beside path and renamed to
// path by commit; abort (and any failure) removes it, so a failed or
// cancelled run leaves no half-written output.
type vectorWriter struct {
	path string
	tmp  string
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
	tmp, err := gdalio.TempName(path)
	if err != nil {
		return nil, &liberr.Error{Path: path, Op: "create", Err: err}
	}
	ds, err := godal.Create(godal.GTiff, tmp, d, godal.Float32, size.X, size.Y, godal.CreationOption(
		"INTERLEAVE=PIXEL", "TILED=NO", "BLOCKYSIZE=1", "COMPRESS=ZSTD", "ZSTD_LEVEL=1", "BIGTIFF=IF_SAFER"))
	if err != nil {
		os.Remove(tmp)
		return nil, &liberr.Error{Path: path, Op: "create", Err: err}
	}
	w := &vectorWriter{path: path, tmp: tmp, ds: ds, size: size, d: d, half: dtype == Float16}
	fail := func(op string, err error) (*vectorWriter, error) {
		w.abort()
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

// writePixelRow writes output row y from a pixel-major buffer (size.X runs
// of D values): the file's own layout, so GDAL copies instead of
// transposing. With dtype float16 it rounds the values of row in place first.
func (w *vectorWriter) writePixelRow(y int, row []float32) error {
	if w.half {
		roundHalf(row)
	}
	if err := w.ds.Write(0, y, row, w.size.X, 1); err != nil {
		return &liberr.Error{Path: w.path, Op: fmt.Sprintf("writing row %d", y), Err: err}
	}
	return nil
}

// commit flushes and closes the file and renames it to its path.
func (w *vectorWriter) commit() error {
	if w.ds == nil {
		return &liberr.Error{Path: w.path, Op: "close", Err: os.ErrClosed}
	}
	err := w.ds.Close()
	w.ds = nil
	if err == nil {
		err = os.Rename(w.tmp, w.path)
	}
	if err != nil {
		os.Remove(w.tmp)
		return &liberr.Error{Path: w.path, Op: "close", Err: err}
	}
	return nil
}

// abort closes the file, if still open, and removes it; safe to call twice
// and after commit.
func (w *vectorWriter) abort() {
	if w.ds == nil {
		return
	}
	w.ds.Close()
	w.ds = nil
	os.Remove(w.tmp)
}

// write writes the sidecar OUT.json of the embeddings file out; when it
// cannot, it removes out too, so no embeddings are left without theirs.
func (sc *Sidecar) write(out string) error {
	js, _ := json.MarshalIndent(sc, "", "  ")
	if err := os.WriteFile(out+".json", append(js, '\n'), 0o644); err != nil {
		os.Remove(out)
		return fmt.Errorf("%s.json: %w", out, err)
	}
	return nil
}

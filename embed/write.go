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
// (masks: tiled, COG with overviews) is the wrong layout for hundreds of
// bands on a small grid: this one is band-interleaved in strips of
// blockRows rows, ZSTD level 1 without a predictor, no overviews. Rows are
// gathered band-major in one strip buffer and written a strip at a time.
//
// Why this layout: GDAL 3.6 writes a pixel-interleaved file through its
// block cache one band block at a time: per output row (one strip), D
// blocks allocated, filled by strided copies and gathered back into the
// strip when it is flushed. On the 5490² benchmark (171² chips x 1280)
// that cost 0.45-0.6 s of CPU, as much as reading and decoding the scene;
// band-interleaved strips of 16-32 rows, filled from a band-major buffer,
// cost about 0.1 s, and the transposition is done while pooling
// (poolBands). The floating-point predictor
// (PREDICTOR=3) made the file larger and cost CPU: the built-in encoder's
// ReLU6 features hold runs of exact zeros, which its byte shuffling breaks
// up. (Sizes on the benchmark: pixel-interleaved 0.83 MB, 2.07 MB with
// the predictor; band strips of 16 rows 1.6 MB.)
//
// The file is written under a temporary name beside path and renamed to
// path by commit; abort (and any failure) removes it, so a failed or
// cancelled run leaves no half-written output.
type vectorWriter struct {
	path  string
	tmp   string
	ds    *godal.Dataset
	size  image.Point
	d     int
	half  bool      // round values to half precision (dtype float16)
	rows  int       // rows per strip
	strip []float32 // the current strip, band-major: D runs of rows x size.X
	next  int       // the row expected next
}

// stripBytes bounds the strip buffer: rows per strip are as many as fit,
// from 1 up to maxStripRows.
const (
	stripBytes   = 16 << 20
	maxStripRows = 32
)

// stripRows is the rows per strip of a D-band output of width w.
func stripRows(w, d int) int {
	return max(1, min(maxStripRows, stripBytes/(4*w*d)))
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
	rows := min(stripRows(size.X, d), size.Y)
	ds, err := godal.Create(godal.GTiff, tmp, d, godal.Float32, size.X, size.Y, godal.CreationOption(
		"INTERLEAVE=BAND", "TILED=NO", fmt.Sprintf("BLOCKYSIZE=%d", rows), "COMPRESS=ZSTD", "ZSTD_LEVEL=1", "BIGTIFF=IF_SAFER"))
	if err != nil {
		gdalio.Remove(tmp)
		return nil, &liberr.Error{Path: path, Op: "create", Err: err}
	}
	w := &vectorWriter{path: path, tmp: tmp, ds: ds, size: size, d: d, half: dtype == Float16,
		rows: rows, strip: make([]float32, d*rows*size.X)}
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
// With dtype float16 it rounds the values of row in place first. Rows are
// written in order, from 0; a strip is written when its last row is.
func (w *vectorWriter) writeRow(y int, row []float32) error {
	if w.half {
		roundHalf(row)
	}
	if y != w.next || y >= w.size.Y || w.ds == nil {
		return &liberr.Error{Path: w.path, Op: fmt.Sprintf("writing row %d", y), Err: fmt.Errorf("row %d expected", w.next)}
	}
	y0 := y / w.rows * w.rows
	h := min(w.rows, w.size.Y-y0)
	per, i := h*w.size.X, y-y0 // band stride of this strip, the row's index in it
	for b := range w.d {
		copy(w.strip[b*per+i*w.size.X:b*per+(i+1)*w.size.X], row[b*w.size.X:(b+1)*w.size.X])
	}
	w.next++
	if i < h-1 {
		return nil
	}
	if err := w.ds.Write(0, y0, w.strip[:w.d*per], w.size.X, h, godal.BandInterleaved()); err != nil {
		return &liberr.Error{Path: w.path, Op: fmt.Sprintf("writing rows %d-%d", y0, y), Err: err}
	}
	return nil
}

// commit flushes and closes the file and renames it to its path.
func (w *vectorWriter) commit() error {
	if w.ds == nil {
		return &liberr.Error{Path: w.path, Op: "close", Err: os.ErrClosed}
	}
	if w.next != w.size.Y {
		w.abort()
		return &liberr.Error{Path: w.path, Op: "close", Err: fmt.Errorf("%d of %d rows written", w.next, w.size.Y)}
	}
	err := w.ds.Close()
	w.ds = nil
	if err == nil {
		err = gdalio.Rename(w.tmp, w.path)
	}
	if err != nil {
		gdalio.Remove(w.tmp)
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
	gdalio.Remove(w.tmp)
}

// write writes the sidecar OUT.json of the embeddings file out; when it
// cannot, it removes out too, so no embeddings are left without theirs.
func (sc *Sidecar) write(out string) error {
	js, _ := json.MarshalIndent(sc, "", "  ")
	if err := gdalio.WriteFile(out+".json", append(js, '\n')); err != nil {
		gdalio.Remove(out)
		return fmt.Errorf("%s.json: %w", out, err)
	}
	return nil
}

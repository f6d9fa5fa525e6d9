package embed

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/airbusgeo/godal"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/raster"
)

// Output formats of a chips run (Options.Format).
const (
	GTiff      = "gtiff"      // D-band float32 GeoTIFF and sidecar OUT.json (the default)
	GeoParquet = "geoparquet" // GeoParquet: one row per embedded chip, the sidecar in the file
)

// IsGeoParquetName reports whether path names a GeoParquet file: it ends
// in .parquet or .geoparquet (any case).
func IsGeoParquetName(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	return ext == ".parquet" || ext == ".geoparquet"
}

// GeoParquetMeta is the "omnimask" key-value metadata of a GeoParquet
// output (JSON): the fields of the sidecar OUT.json a GeoTIFF output has,
// and the chip grid the rows' row and col index.
type GeoParquetMeta struct {
	Sidecar
	Grid ChipGrid `json:"grid"`
}

// ChipGrid is the chip grid of embeddings: the GeoTIFF output's size,
// geotransform (pixel = chip, the pixel centred on its chip, pixel size =
// stride) and CRS.
type ChipGrid struct {
	Cols int `json:"cols"`
	Rows int `json:"rows"`
	// GeoTransform is absent when the scene had none (the rows' x, y and
	// geometry are then in pixels of the grid the chips were cut on).
	GeoTransform *raster.GeoTransform `json:"geotransform,omitempty"`
	CRS          string               `json:"crs_wkt,omitempty"`
}

// chipRecord is one row of a GeoParquet output. The embedding is a Parquet
// LIST of required FLOAT (Arrow list<float>, every list D long): Parquet
// has no fixed-size list (Arrow's fixed_size_list is restored only from
// Arrow's own IPC schema, which this writer does not write); D is the
// "omnimask" metadata's embedding_dim.
type chipRecord struct {
	Row       int32     `parquet:"row"`
	Col       int32     `parquet:"col"`
	X         float64   `parquet:"x"`
	Y         float64   `parquet:"y"`
	Geometry  []byte    `parquet:"geometry"`
	Embedding []float32 `parquet:"embedding,list"`
}

// chipVector is what ReadGeoParquet reads of a row.
type chipVector struct {
	Row       int32     `parquet:"row"`
	Col       int32     `parquet:"col"`
	Embedding []float32 `parquet:"embedding,list"`
}

const (
	rowGroupBytes = 64 << 20 // uncompressed embedding bytes per row group
	writeBatch    = 256      // rows handed to the Parquet writer at once
	// transposeTile is the records filled at once from the band-major
	// strip: each band's values of a tile are a few cache lines, read
	// once, and the tile's vectors stay in cache.
	transposeTile = 64
)

// WriteGeoParquet converts tif, an embeddings GeoTIFF written by Chips
// (with its sidecar tif.json), to GeoParquet at out: see writeGeoParquet.
func WriteGeoParquet(ctx context.Context, tif, out string) (rows int, err error) {
	raw, err := os.ReadFile(tif + ".json")
	if err != nil {
		return 0, fmt.Errorf("%s: no embedding sidecar: %w", tif, err)
	}
	var sc Sidecar
	if err := json.Unmarshal(raw, &sc); err != nil || sc.Encoder == "" || sc.Dim < 1 {
		return 0, fmt.Errorf("%s.json: not an embedding sidecar (%v)", tif, err)
	}
	if sc.Mode != "" && sc.Mode != "chips" {
		return 0, fmt.Errorf("%s: %s-mode embeddings: GeoParquet is for chips", tif, sc.Mode)
	}
	return writeGeoParquet(ctx, tif, &sc, out)
}

// writeGeoParquet writes the chips of the embeddings GeoTIFF tif (made
// with sidecar sc) as GeoParquet at out, one row per embedded chip (nodata
// chips, all D values NaN, are left out), in chip grid order, and returns
// the rows written. It reads tif a strip of rows at a time and writes row
// groups of at most 64 MiB of embeddings, so memory stays bounded. The
// file is written under a temporary name beside out and renamed to out at
// the end; a failed or cancelled run removes it.
func writeGeoParquet(ctx context.Context, tif string, sc *Sidecar, out string) (n int, err error) {
	gdalio.Register()
	ds, err := godal.Open(tif)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", tif, err)
	}
	defer ds.Close()
	st := ds.Structure()
	D, cols, rows := st.NBands, st.SizeX, st.SizeY
	if D != sc.Dim || sc.Chip < 1 || sc.Stride < 1 {
		return 0, fmt.Errorf("%s: %d bands, chip %d, stride %d: sidecar says %d-D", tif, D, sc.Chip, sc.Stride, sc.Dim)
	}
	meta := GeoParquetMeta{Sidecar: *sc, Grid: ChipGrid{Cols: cols, Rows: rows}}
	// fp is the footprint transform: chip-grid pixel (u, v) to coordinates.
	fp := raster.GeoTransform{float64(sc.Chip-sc.Stride) / 2, float64(sc.Stride), 0, float64(sc.Chip-sc.Stride) / 2, 0, float64(sc.Stride)}
	var crs json.RawMessage // PROJJSON, or null: unknown
	if gt, err := ds.GeoTransform(); err == nil && !raster.GeoTransform(gt).IsIdentity() {
		fp = raster.GeoTransform(gt)
		meta.Grid.GeoTransform = &fp
		if wkt := ds.Projection(); wkt != "" {
			js, err := gdalio.PROJJSON(wkt)
			if err != nil {
				return 0, fmt.Errorf("%s: %w", tif, err)
			}
			crs, meta.Grid.CRS = json.RawMessage(js), wkt
		}
	}
	if fp.Singular() {
		return 0, fmt.Errorf("%s: singular geotransform %v", tif, fp)
	}
	if crs == nil {
		crs = json.RawMessage("null")
	}
	omni, err := json.Marshal(meta)
	if err != nil {
		return 0, err
	}

	f, tmp, err := createTemp(out)
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			f.Close()
			gdalio.Remove(tmp)
		}
	}()
	pw := parquet.NewGenericWriter[chipRecord](f,
		parquet.Compression(&zstd.Codec{Level: zstd.SpeedFastest}),
		parquet.MaxRowsPerRowGroup(int64(max(1, rowGroupBytes/(4*D)))),
		parquet.KeyValueMetadata("omnimask", string(omni)),
		// Page bounds (min/max per page, for skipping pages in queries)
		// of the embeddings and footprints would select nothing, and
		// cost CPU.
		parquet.SkipPageBounds("embedding", "list", "element"),
		parquet.SkipPageBounds("geometry"))

	// half is the chip's half size in chip-grid pixels; a ring's corners
	// run counterclockwise in the output coordinates.
	half := float64(sc.Chip) / float64(2*sc.Stride)
	ccw := fp[1]*fp[5]-fp[2]*fp[4] > 0
	bbox := [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	batch := make([]chipRecord, writeBatch)
	for i := range batch {
		batch[i].Geometry = make([]byte, polygonWKBSize)
		batch[i].Embedding = make([]float32, D)
	}
	at := make([]int, writeBatch) // the strip pixel of each record of batch
	nb := 0
	var buf []float32
	per := 0 // band stride of the strip in buf
	// flush fills the embeddings of the batch from the strip, in tiles
	// of transposeTile records by all bands, and writes the batch.
	flush := func() error {
		var dst [transposeTile][]float32
		for k0 := 0; k0 < nb; k0 += transposeTile {
			k1 := min(k0+transposeTile, nb)
			for k := k0; k < k1; k++ {
				dst[k-k0] = batch[k].Embedding
			}
			idx := at[k0:k1]
			for b := range D {
				src := buf[b*per : (b+1)*per]
				for j, i := range idx {
					dst[j][b] = src[i]
				}
			}
		}
		if nb == 0 {
			return nil
		}
		if _, err := pw.Write(batch[:nb]); err != nil {
			return fmt.Errorf("%s: %w", out, err)
		}
		nb = 0
		return nil
	}
	h := min(stripRows(cols, D), rows)
	buf = make([]float32, D*h*cols)
	for y0 := 0; y0 < rows; y0 += h {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		sh := min(h, rows-y0)
		per = sh * cols
		if err := ds.Read(0, y0, buf[:D*per], cols, sh, godal.BandInterleaved()); err != nil {
			return 0, fmt.Errorf("%s: rows %d-%d: %w", tif, y0, y0+sh-1, err)
		}
		for i := range per {
			if allNaN(buf[i:D*per], per) {
				continue
			}
			r, c := y0+i/cols, i%cols
			rec := &batch[nb]
			rec.Row, rec.Col = int32(r), int32(c)
			at[nb] = i
			u, v := float64(c)+0.5, float64(r)+0.5
			rec.X, rec.Y = fp.Apply(u, v)
			ring := [5][2]float64{{u - half, v - half}, {u + half, v - half}, {u + half, v + half}, {u - half, v + half}, {u - half, v - half}}
			if !ccw {
				ring[1], ring[3] = ring[3], ring[1]
			}
			for k := range ring {
				ring[k][0], ring[k][1] = fp.Apply(ring[k][0], ring[k][1])
				bbox = [4]float64{min(bbox[0], ring[k][0]), min(bbox[1], ring[k][1]), max(bbox[2], ring[k][0]), max(bbox[3], ring[k][1])}
			}
			putPolygonWKB(rec.Geometry, ring)
			n++
			if nb++; nb == len(batch) {
				if err := flush(); err != nil {
					return 0, err
				}
			}
		}
		// The next strip replaces buf.
		if err := flush(); err != nil {
			return 0, err
		}
	}
	geo, err := geoMetadata(crs, bbox, n)
	if err != nil {
		return 0, err
	}
	pw.SetKeyValueMetadata("geo", geo)
	if err := pw.Close(); err != nil {
		return 0, fmt.Errorf("%s: %w", out, err)
	}
	if err := f.Close(); err != nil {
		return 0, fmt.Errorf("%s: %w", out, err)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := gdalio.Rename(tmp, out); err != nil {
		return 0, fmt.Errorf("%s: %w", out, err)
	}
	return n, nil
}

// allNaN reports whether v[0], v[stride], v[2*stride]... (D values) are
// all NaN: a nodata chip.
func allNaN(v []float32, stride int) bool {
	for i := 0; i < len(v); i += stride {
		if v[i] == v[i] {
			return false
		}
	}
	return true
}

// geoMetadata returns GeoParquet's "geo" file metadata (version 1.1.0) for
// the geometry column: WKB polygons, counterclockwise exterior rings, crs
// PROJJSON or null (unknown: the scene had no CRS or no geotransform),
// and the bbox of the n rows when there are any.
func geoMetadata(crs json.RawMessage, bbox [4]float64, n int) (string, error) {
	type column struct {
		Encoding      string          `json:"encoding"`
		GeometryTypes []string        `json:"geometry_types"`
		CRS           json.RawMessage `json:"crs"`
		Orientation   string          `json:"orientation"`
		BBox          []float64       `json:"bbox,omitempty"`
	}
	col := column{Encoding: "WKB", GeometryTypes: []string{"Polygon"}, CRS: crs, Orientation: "counterclockwise"}
	if n > 0 {
		col.BBox = bbox[:]
	}
	js, err := json.Marshal(struct {
		Version       string            `json:"version"`
		PrimaryColumn string            `json:"primary_column"`
		Columns       map[string]column `json:"columns"`
	}{"1.1.0", "geometry", map[string]column{"geometry": col}})
	return string(js), err
}

// polygonWKBSize is the size of a little-endian WKB Polygon of one ring of
// five points.
const polygonWKBSize = 1 + 4 + 4 + 4 + 5*16

// putPolygonWKB writes ring as a WKB Polygon (ISO and OGC alike for 2D)
// into b (polygonWKBSize bytes).
func putPolygonWKB(b []byte, ring [5][2]float64) {
	b[0] = 1 // little endian
	le := binary.LittleEndian
	le.PutUint32(b[1:], 3) // Polygon
	le.PutUint32(b[5:], 1) // rings
	le.PutUint32(b[9:], 5) // points
	for k, p := range ring {
		le.PutUint64(b[13+16*k:], math.Float64bits(p[0]))
		le.PutUint64(b[21+16*k:], math.Float64bits(p[1]))
	}
}

// tempFile is where a GeoParquet output is written before it is renamed.
type tempFile interface {
	io.Writer
	Close() error
}

// createTemp creates a temporary file beside out (on disk, or in GDAL's
// in-memory file system when out is there), named as gdalio.RemoveStale
// recognises.
func createTemp(out string) (tempFile, string, error) {
	tmp, err := gdalio.TempName(out)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", out, err)
	}
	if gdalio.IsMem(out) {
		w, err := gdalio.CreateMem(tmp)
		if err != nil {
			return nil, "", err
		}
		return w, tmp, nil
	}
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", out, err)
	}
	return f, tmp, nil
}

// GeoParquetReader reads a GeoParquet output of Chips a few hundred rows
// at a time.
type GeoParquetReader struct {
	Meta  GeoParquetMeta // the "omnimask" metadata
	path  string
	f     *os.File
	r     *parquet.GenericReader[chipVector]
	batch []chipVector
	i, n  int
	err   error
}

// ErrCorrupt is wrapped by the errors of a GeoParquet file the Parquet
// reader cannot make sense of.
var ErrCorrupt = errors.New("corrupt Parquet file")

// parquetSafe runs a call into the Parquet reader, turning a panic (the
// reader panics on some malformed files: slice bounds from corrupt page
// headers) into an error wrapping ErrCorrupt, so a hostile file is an
// error naming it, not a crash.
func parquetSafe(path string, call func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: %w (%v)", path, ErrCorrupt, r)
		}
	}()
	return call()
}

// checkFooter checks the Parquet file's trailer (footer length, magic)
// against its size before the reader sees it: the reader allocates the
// footer length as given (4 GiB for a corrupt one).
func checkFooter(f *os.File, size int64) error {
	var tail [8]byte
	if size < 12 {
		return fmt.Errorf("%w: %d bytes", ErrCorrupt, size)
	}
	if _, err := f.ReadAt(tail[:], size-8); err != nil {
		return err
	}
	if string(tail[4:]) != "PAR1" {
		return fmt.Errorf("%w: no PAR1 magic at the end", ErrCorrupt)
	}
	if n := int64(binary.LittleEndian.Uint32(tail[:4])); n > size-12 {
		return fmt.Errorf("%w: footer of %d bytes in a file of %d", ErrCorrupt, n, size)
	}
	return nil
}

// OpenGeoParquet opens a GeoParquet output of Chips and reads its
// "omnimask" metadata.
func OpenGeoParquet(path string) (*GeoParquetReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*GeoParquetReader, error) {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	st, err := f.Stat()
	if err != nil {
		return fail(err)
	}
	if err := checkFooter(f, st.Size()); err != nil {
		return fail(err)
	}
	var pf *parquet.File
	if err := parquetSafe(path, func() (err error) {
		pf, err = parquet.OpenFile(f, st.Size(), parquet.SkipBloomFilters(true))
		return err
	}); err != nil {
		f.Close()
		if errors.Is(err, ErrCorrupt) {
			return nil, err
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	raw, ok := pf.Lookup("omnimask")
	if !ok {
		return fail(errors.New(`no "omnimask" metadata: not written by omnimask embed`))
	}
	r := &GeoParquetReader{path: path, f: f}
	m := &r.Meta
	if err := json.Unmarshal([]byte(raw), m); err != nil || m.Encoder == "" || m.Dim < 1 || m.Grid.Cols < 1 || m.Grid.Rows < 1 {
		return fail(fmt.Errorf(`"omnimask" metadata is not an embedding sidecar with its chip grid (%v)`, err))
	}
	if err := parquetSafe(path, func() error {
		r.r = parquet.NewGenericReader[chipVector](pf)
		return nil
	}); err != nil {
		f.Close()
		return nil, err
	}
	r.batch = make([]chipVector, writeBatch)
	return r, nil
}

// Next returns the next row's chip (row, col, within the grid) and its
// embedding (Meta.Dim values, reused by the next call); io.EOF after the
// last row.
func (r *GeoParquetReader) Next() (row, col int, v []float32, err error) {
	for r.i == r.n {
		if r.err != nil {
			return 0, 0, nil, r.err
		}
		if err := parquetSafe(r.path, func() error {
			r.n, r.err = r.r.Read(r.batch)
			return nil
		}); err != nil {
			r.n, r.err = 0, err
		} else if r.err != nil && !errors.Is(r.err, io.EOF) {
			r.err = fmt.Errorf("%s: %w", r.path, r.err)
		}
		r.i = 0
	}
	c := r.batch[r.i]
	r.i++
	m := r.Meta
	switch {
	case len(c.Embedding) != m.Dim:
		return 0, 0, nil, fmt.Errorf("%s: chip %d,%d has %d values, want %d", r.path, c.Col, c.Row, len(c.Embedding), m.Dim)
	case c.Row < 0 || int(c.Row) >= m.Grid.Rows || c.Col < 0 || int(c.Col) >= m.Grid.Cols:
		return 0, 0, nil, fmt.Errorf("%s: chip %d,%d outside the %dx%d grid", r.path, c.Col, c.Row, m.Grid.Cols, m.Grid.Rows)
	}
	return int(c.Row), int(c.Col), c.Embedding, nil
}

// Close closes the file; safe to call twice.
func (r *GeoParquetReader) Close() error {
	if r.f == nil {
		return nil
	}
	parquetSafe(r.path, r.r.Close)
	err := r.f.Close()
	r.f = nil
	return err
}

package probe

import (
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"os"

	"github.com/airbusgeo/godal"

	"github.com/omnimask/omnimask/embed"
	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/raster"
)

// Embeddings is one output of embed.Chips read back: Vectors[i] is chip i
// (row-major on the Cols x Rows grid), nil for a nodata chip.
type Embeddings struct {
	Path       string
	Cols, Rows int
	Geo        raster.Geo
	Sidecar    embed.Sidecar
	Vectors    [][]float64
}

// Encoder names the encoder that made the embeddings: name and version.
func (e *Embeddings) Encoder() string { return e.Sidecar.Encoder + " " + e.Sidecar.Version }

// ReadEmbeddings reads an embed.Chips GeoTIFF and its sidecar path.json,
// or an embed.Chips GeoParquet file (any Parquet file, by its first bytes:
// its rows, the sidecar and chip grid from its "omnimask" metadata).
func ReadEmbeddings(path string) (*Embeddings, error) {
	if isParquet(path) {
		return readGeoParquet(path)
	}
	raw, err := os.ReadFile(path + ".json")
	if err != nil {
		return nil, fmt.Errorf("%s: no embedding sidecar: %w", path, err)
	}
	e := &Embeddings{Path: path}
	if err := json.Unmarshal(raw, &e.Sidecar); err != nil || e.Sidecar.Encoder == "" || e.Sidecar.Dim < 1 {
		return nil, fmt.Errorf("%s.json: not an embedding sidecar (%v)", path, err)
	}
	gdalio.Register()
	ds, err := godal.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer ds.Close()
	st := ds.Structure()
	if st.NBands != e.Sidecar.Dim {
		return nil, fmt.Errorf("%s: %d bands, sidecar says %d", path, st.NBands, e.Sidecar.Dim)
	}
	e.Cols, e.Rows = st.SizeX, st.SizeY
	if gt, err := ds.GeoTransform(); err == nil {
		e.Geo.Transform = raster.GeoTransform(gt)
	} else {
		e.Geo.Transform = raster.Identity
	}
	e.Geo.CRS = ds.Projection()
	n, D := e.Cols*e.Rows, e.Sidecar.Dim
	buf := make([]float32, n*D)
	if err := ds.Read(0, 0, buf, e.Cols, e.Rows); err != nil { // pixel-interleaved
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	e.Vectors = make([][]float64, n)
	for i := range n {
		v := buf[i*D : (i+1)*D]
		if math.IsNaN(float64(v[0])) {
			continue
		}
		f := make([]float64, D)
		for j, x := range v {
			f[j] = float64(x)
		}
		e.Vectors[i] = f
	}
	return e, nil
}

// ChipLabels returns the majority label of each chip of e in the label
// raster path (on the scene's pixel grid; values 0..254, 255 and the
// raster's nodata ignored), -1 where a chip has no label. Ties go to the
// smaller value. Chips cut at a processing resolution (the sidecar's
// processing_resolution_m) are mapped onto the label raster through the
// two geotransforms, so the labels may stay on the scene's own grid; both
// must then be georeferenced.
func ChipLabels(e *Embeddings, path string) ([]int, error) {
	gdalio.Register()
	ds, err := godal.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer ds.Close()
	st := ds.Structure()
	sc := e.Sidecar
	win := func(c, r int) image.Rectangle { // chip (c, r) in label pixels
		return image.Rect(c*sc.Stride, r*sc.Stride, c*sc.Stride+sc.Chip, r*sc.Stride+sc.Chip)
	}
	if sc.ProcessingResolution > 0 {
		gt, err := ds.GeoTransform()
		lt := raster.GeoTransform(gt)
		if err != nil || lt.IsIdentity() || lt.Singular() || lt.Rotated() || e.Geo.Transform.IsIdentity() || e.Geo.Transform.Rotated() {
			return nil, fmt.Errorf("%s: %s was cut at a processing resolution of %g m: labels need a north-up georeference (as the embeddings have) to be mapped onto its chips", path, e.Path, sc.ProcessingResolution)
		}
		win = chipWindows(e.Geo.Transform, lt, sc.Chip, sc.Stride)
	}
	if last := win(e.Cols-1, e.Rows-1); win(0, 0).Min.X < 0 || win(0, 0).Min.Y < 0 || st.SizeX < last.Max.X || st.SizeY < last.Max.Y {
		return nil, fmt.Errorf("%s: %dx%d px does not cover the chip grid of %s (%dx%d px)", path, st.SizeX, st.SizeY, e.Path, last.Max.X, last.Max.Y)
	}
	b := ds.Bands()[0]
	nd, hasND := b.NoData()
	px := make([]uint8, st.SizeX*st.SizeY)
	if err := b.Read(0, 0, px, st.SizeX, st.SizeY); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := make([]int, e.Cols*e.Rows)
	var count [256]int
	for r := range e.Rows {
		for c := range e.Cols {
			count = [256]int{}
			w := win(c, r)
			for y := w.Min.Y; y < w.Max.Y; y++ {
				for _, v := range px[y*st.SizeX+w.Min.X : y*st.SizeX+w.Max.X] {
					count[v]++
				}
			}
			best := -1
			for v := range 255 {
				if hasND && float64(v) == nd {
					continue
				}
				if count[v] > 0 && (best < 0 || count[v] > count[best]) {
					best = v
				}
			}
			out[r*e.Cols+c] = best
		}
	}
	return out, nil
}

// chipWindows maps chips of embeddings with geotransform et (chip and
// stride in pixels of the grid they were cut on; the embeddings' pixel u is
// the stride-wide cell centred on chip u) to windows of a raster with
// geotransform lt, corners rounded to the nearest pixel edge.
func chipWindows(et, lt raster.GeoTransform, chip, stride int) func(c, r int) image.Rectangle {
	S, C := float64(stride), float64(chip)
	at := func(p, q float64) (float64, float64) { // grid pixel corner -> label pixel corner
		return lt.Invert(et.Apply((p-(C-S)/2)/S, (q-(C-S)/2)/S))
	}
	return func(c, r int) image.Rectangle {
		x0, y0 := at(float64(c*stride), float64(r*stride))
		x1, y1 := at(float64(c*stride+chip), float64(r*stride+chip))
		return image.Rect(int(math.Round(x0)), int(math.Round(y0)), int(math.Round(x1)), int(math.Round(y1))) // canonical
	}
}

// Save writes the probe as JSON.
func (p *Probe) Save(path string) error {
	b, err := json.MarshalIndent(p, "", " ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// Load reads a probe written by Save.
func Load(path string) (*Probe, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var p Probe
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(p.W) != len(p.Classes) || len(p.W) < 2 || len(p.Mean) != len(p.Std) {
		return nil, fmt.Errorf("%s: not a probe file", path)
	}
	for _, r := range p.W {
		if len(r) != len(p.Mean)+1 {
			return nil, fmt.Errorf("%s: not a probe file", path)
		}
	}
	return &p, nil
}

// isParquet reports whether the file path starts as a Parquet file does.
func isParquet(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var magic [4]byte
	_, err = io.ReadFull(f, magic[:])
	return err == nil && string(magic[:]) == "PAR1"
}

// maxChips bounds the chip grid of a GeoParquet file (its metadata's):
// one vector per chip is allocated.
const maxChips = 1 << 26

// readGeoParquet reads an embed.Chips GeoParquet file: chips without a row
// (nodata chips) have no vector.
func readGeoParquet(path string) (*Embeddings, error) {
	r, err := embed.OpenGeoParquet(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	m := r.Meta
	if n := int64(m.Grid.Cols) * int64(m.Grid.Rows); n > maxChips {
		return nil, fmt.Errorf("%s: a %dx%d chip grid is over %d chips", path, m.Grid.Cols, m.Grid.Rows, maxChips)
	}
	e := &Embeddings{Path: path, Cols: m.Grid.Cols, Rows: m.Grid.Rows, Sidecar: m.Sidecar, Vectors: make([][]float64, m.Grid.Cols*m.Grid.Rows)}
	e.Geo.Transform, e.Geo.CRS = raster.Identity, m.Grid.CRS
	if m.Grid.GeoTransform != nil {
		e.Geo.Transform = *m.Grid.GeoTransform
	}
	for {
		row, col, v, err := r.Next()
		if errors.Is(err, io.EOF) {
			return e, nil
		}
		if err != nil {
			return nil, err
		}
		j := row*e.Cols + col
		if e.Vectors[j] != nil {
			return nil, fmt.Errorf("%s: chip %d,%d twice", path, col, row)
		}
		f := make([]float64, len(v))
		for i, x := range v {
			f[i] = float64(x)
		}
		e.Vectors[j] = f
	}
}

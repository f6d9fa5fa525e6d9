package embed

import (
	"context"
	"fmt"
	"image"
	"math"
	"time"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/raster"
	"github.com/omnimask/omnimask/sensor"
)

// DenseOptions configure a dense run.
type DenseOptions struct {
	Tile    int // tile size in pixels; 0 = the manifest's patch_size
	Overlap int // tile overlap in pixels; -1 = none, 0 = the manifest's overlap
	// MaxNoData: a feature cell (output_stride² pixels) with a larger
	// nodata fraction, or without any valid pixel, is nodata (NaN);
	// default 0.5, 1 keeps every cell with a valid pixel.
	MaxNoData     float64
	Bands         []int
	Scale, Offset float64
	DType         string // "float32" (or "") or "float16", as Options.DType

	// ProcessingResolution and Resolution are as in Options: when set,
	// the scene is resampled to that pixel size (metres) as chips mode
	// resamples it, Tile and Overlap are pixels of that grid and the map's
	// cells are output_stride pixels of it.
	ProcessingResolution, Resolution float64

	units []sensor.Units // as Options.units
}

// Dense runs the encoder over overlapping tiles and writes its feature map
// (D bands, one pixel per output_stride² block of the scene) as a float32
// GeoTIFF at out, with the sidecar out.json.
//
// Stitching is centre-crop, not blending: each feature cell is taken whole
// from the one tile whose centre is nearest to it, i.e. where the cell's
// receptive field has the most context inside the tile. Averaging the
// overlapping tiles (right for class scores, which are calibrated and
// comparable between tiles) would mix vectors computed with different
// zero-padded context, and a mean of two feature vectors is generally no
// feature vector the encoder produces; centre-crop keeps every cell an
// encoder output, and the overlap only serves to keep cells away from tile
// borders.
func Dense(ctx context.Context, e *Encoder, scene []string, out string, o DenseOptions) (*Result, error) {
	t0 := time.Now()
	dtype, err := o.check(e)
	if err != nil {
		return nil, err
	}
	src, err := openScene(e, scene, o.Bands, Options{Scale: o.Scale, Offset: o.Offset})
	if err != nil {
		return nil, err
	}
	defer src.s.Close()
	return dense(ctx, e, src, out, o, dtype, t0)
}

// dense is Dense over an opened source (o checked).
func dense(ctx context.Context, e *Encoder, src *source, out string, o DenseOptions, dtype string, t0 time.Time) (*Result, error) {
	m, s, norm, scene := e.Manifest, src.s, src.norm, src.names
	st, mult := m.OutputStride, m.Multiple()
	g, err := procGrid(s, o.Resolution, o.ProcessingResolution)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", scene[0], err)
	}
	size := g.size
	cols, rows := size.X/st, size.Y/st
	tx, ty := min(o.Tile, cols*st/mult*mult), min(o.Tile, rows*st/mult*mult)
	if tx == 0 || ty == 0 {
		if g.resampled() {
			return nil, fmt.Errorf("%s: %dx%d px at %g m is smaller than one %d px tile", scene[0], size.X, size.Y, g.res, mult)
		}
		return nil, fmt.Errorf("%s: %dx%d px is smaller than one %d px tile", scene[0], size.X, size.Y, mult)
	}
	xs, xOwner := tiles(cols*st, tx, o.Overlap, st)
	ys, yOwner := tiles(rows*st, ty, o.Overlap, st)
	geo := g.geo(s)
	if !geo.Transform.IsIdentity() {
		geo.Transform = geo.Transform.Scale(float64(st), float64(st))
		geo.GCPs = nil
	}
	D := e.Dim()
	w, err := createVectors(out, image.Pt(cols, rows), D, geo, map[string]string{"OMNIMASK_ENCODER": m.Name + " " + m.Version}, dtype)
	if err != nil {
		return nil, err
	}
	defer w.abort()
	res := &Result{Cols: cols, Rows: rows, Readers: 1} // dense mode reads with one goroutine
	C := len(m.Bands)
	read := stripReader(s, norm, g, ty)
	in := make([]float32, C*tx*ty)
	band := make([][]float32, ty/st) // output rows of this tile row, band-major
	for i := range band {
		band[i] = make([]float32, D*cols)
	}
	fw, fh := tx/st, ty/st
	fm := make([]float32, D*fw*fh) // one tile's feature map, reused
	for k, y0 := range ys {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		strip, err := read(y0)
		if err != nil {
			return nil, err
		}
		for i := range band {
			fillNaN(band[i])
		}
		for ti, x0 := range xs {
			if !norm.chip(in, strip, x0, y0, tx, ty, 1) {
				continue // all nodata
			}
			t := time.Now()
			_, err := e.runInto(in, [4]int64{1, int64(C), int64(ty), int64(tx)}, fm)
			res.Infer += time.Since(t)
			if err != nil {
				return nil, err
			}
			for cy := range fh {
				gy := y0/st + cy
				if yOwner[gy] != k {
					continue
				}
				for cx := range fw {
					gx := x0/st + cx
					if xOwner[gx] != ti {
						continue
					}
					if f := norm.fraction(strip, gx*st, gy*st, st); f > o.MaxNoData || f == 1 {
						continue // a cell without a valid pixel is nodata at any threshold, as a chip is
					}
					for d := range D {
						band[cy][d*cols+gx] = fm[(d*fh+cy)*fw+cx]
					}
				}
			}
		}
		for cy := range fh {
			gy := y0/st + cy
			if yOwner[gy] != k {
				continue
			}
			for gx := range cols {
				if math.IsNaN(float64(band[cy][gx])) {
					res.NoDataChips++
				} else {
					res.Chips++
				}
			}
			if err := w.writeRow(gy, band[cy]); err != nil {
				return nil, err
			}
		}
	}
	if err := w.commit(); err != nil {
		return nil, err
	}
	sc := Sidecar{Mode: "dense", Encoder: m.Name, Version: m.Version, Dim: D, Bands: m.Bands, Normalization: m.Normalization,
		InputUnits: m.InputUnits, Scale: o.Scale, Offset: o.Offset, Tile: o.Tile, Overlap: o.Overlap, Chip: st, Stride: st, MaxNoData: o.MaxNoData, Scene: scene}
	if g.resampled() {
		sc.ProcessingResolution = g.res
	}
	src.describeUnits(&sc, e, Options{Scale: o.Scale, Offset: o.Offset, units: o.units})
	sc.setDType(dtype)
	if err := sc.write(out); err != nil {
		return nil, err
	}
	res.Total = time.Since(t0)
	return res, nil
}

// check fills in o's defaults from e's manifest, checks it and returns
// the output value type.
func (o *DenseOptions) check(e *Encoder) (string, error) {
	m := e.Manifest
	st, mult := m.OutputStride, m.Multiple()
	if o.Tile == 0 {
		o.Tile = m.PatchSize
	}
	switch {
	case o.Overlap == 0:
		o.Overlap = m.Overlap
	case o.Overlap < 0:
		o.Overlap = 0
	}
	if o.MaxNoData == 0 {
		o.MaxNoData = 0.5
	}
	if o.Tile < 1 || o.Tile > 4096 || o.Tile%mult != 0 || o.Overlap%st != 0 || o.Overlap >= o.Tile || !(o.MaxNoData >= 0 && o.MaxNoData <= 1) {
		return "", fmt.Errorf("embed: tile %d (a multiple of %d up to 4096), overlap %d (a multiple of %d, < tile), nodata threshold %g (0..1)", o.Tile, mult, o.Overlap, st, o.MaxNoData)
	}
	if !finite(o.Scale) || !finite(o.Offset) {
		return "", fmt.Errorf("embed: scale %g and offset %g: want finite numbers", o.Scale, o.Offset)
	}
	if err := checkResolutions(o.Resolution, o.ProcessingResolution); err != nil {
		return "", err
	}
	return checkDType(o.DType)
}

// stripReader returns the function reading dense mode's tile rows: the h
// rows of scene s on grid g from y0, full width, their validity marked in
// norm (as normalizer.chip and fraction read it). On a resampled grid they
// are resampledRows', chips mode's reader; the strip is reused.
func stripReader(s *gdalio.Scene, norm *normalizer, g grid, h int) func(y0 int) (*raster.Float32, error) {
	if g.resampled() {
		r := newResampledRows(s, norm, g.size, h)
		return func(y0 int) (*raster.Float32, error) {
			if err := r.read(y0); err != nil {
				return nil, err
			}
			return r.strip, nil
		}
	}
	strip := raster.NewFloat32(len(norm.nodata), image.Rect(0, 0, s.Size.X, h))
	return func(y0 int) (*raster.Float32, error) {
		strip.Rect = image.Rect(0, y0, s.Size.X, y0+h)
		if err := s.Read(strip); err != nil {
			return nil, err
		}
		norm.validity(strip)
		return strip, nil
	}
}

// tiles returns the tile origins along an axis of n pixels (n a multiple of
// st) for tiles of size t stepping by t - overlap, the last one flush with
// the end, and for each of the n/st cells the tile whose centre is nearest
// (ties to the earlier tile).
func tiles(n, t, overlap, st int) ([]int, []int) {
	var starts []int
	step := max(st, (t-overlap)/st*st)
	for x := 0; ; x += step {
		if x+t >= n {
			starts = append(starts, n-t)
			break
		}
		starts = append(starts, x)
	}
	owner := make([]int, n/st)
	for c := range owner {
		centre := 2*c*st + st // doubled, to stay in integers
		best := -1
		for i, x := range starts {
			if c*st < x || (c+1)*st > x+t {
				continue
			}
			if best < 0 || abs(2*x+t-centre) < abs(2*starts[best]+t-centre) {
				best = i
			}
		}
		owner[c] = best
	}
	return starts, owner
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

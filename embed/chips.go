package embed

import (
	"context"
	"fmt"
	"image"
	"math"
	"runtime"
	"strings"
	"time"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/models"
	"github.com/omnimask/omnimask/sensor"
)

// Options configure a chips run.
type Options struct {
	Chip   int // chip size in pixels, at the processing resolution; 0 = 32
	Stride int // chip grid step in pixels; 0 = Chip
	// ProcessingResolution, when set (metres), is the pixel size chips are
	// cut at: the scene is resampled onto that grid as predict resamples
	// it (area averages of valid pixels, preprocess.Area). 0 keeps the
	// native grid. Resolution gives the scene's own pixel size (metres),
	// for scenes that are not georeferenced or to override theirs.
	ProcessingResolution, Resolution float64
	// MaxNoData is the fraction of nodata pixels above which a chip is
	// nodata (all D values NaN); default 0.5. A chip without any valid
	// pixel is nodata at any threshold: 1 keeps every chip with one.
	MaxNoData float64
	Batch     int // chips per inference call; 0 = 64
	// Streams is the number of inference calls running at once, each on a
	// batch of its own; 0 = 1. Load the encoder with ort.Options.Threads =
	// cores / Streams: on few cores, two single-threaded calls keep the
	// cores busier than one call on two threads, whose threads wait for
	// each other whenever reading or writing takes a core.
	Streams int
	// Readers is the number of goroutines reading and normalising the
	// scene, each through a handle of its own (the scene's files are
	// opened once more per reader beyond the first) and on whole windows
	// of chip rows in turn (up to 256 rows of the scene, see windowSpan);
	// the batches are taken in scene order, so the output is the same
	// byte for byte for any number of readers (batches end where windows
	// end, whatever the number). 0 = DefaultReaders(). Scenes resampled
	// to a processing resolution are read by one reader whatever Readers
	// says.
	Readers int
	// Bands gives, for each of the encoder's bands, the 1-based scene band
	// to read; nil matches the scene's band names (case-insensitive).
	Bands []int
	// Scale and Offset convert values as read to the encoder's units
	// (value*Scale + Offset) for "input_units": "reflectance" encoders;
	// Scale 0 means values are reflectance as read (float bands only).
	Scale, Offset float64
	// DType is the output's value type: "float32" (or "") or "float16"
	// (values rounded to half precision, stored as Float32: see Float16).
	DType string
	// Format is the output's: GTiff (or "") or GeoParquet (one row per
	// embedded chip; written as a GeoTIFF beside out first, converted at
	// the end by writeGeoParquet).
	Format string

	// units are per encoder band, from product metadata (ChipsInput), used
	// for reflectance encoders when Scale is 0.
	units []sensor.Units

	onBatch   func(in []float32, n int) // test hook: each batch before inference
	floatRows bool                      // test hook: read integer bands as float32 (floatRows)
	readErr   func(row int) error       // test hook: an error after reading chip row row
}

// Result describes a finished chips run.
type Result struct {
	Cols, Rows  int           // chip grid size (the output raster's size)
	Chips       int           // chips embedded (not nodata)
	NoDataChips int           // chips above the nodata threshold
	Readers     int           // goroutines that read the scene (Options.Readers, at most one per window)
	Infer       time.Duration // time inside ONNX Runtime
	Total       time.Duration
}

// Sidecar is written next to the output (OUT.json): what produced the
// embeddings, so embeddings of different encoders are never mixed.
type Sidecar struct {
	Encoder       string               `json:"encoder"`
	Version       string               `json:"version"`
	Dim           int                  `json:"embedding_dim"`
	Bands         []string             `json:"bands"`
	Normalization models.Normalization `json:"normalization"`
	InputUnits    string               `json:"input_units,omitempty"`
	Scale         float64              `json:"scale,omitempty"`
	Offset        float64              `json:"offset,omitempty"`
	// Units are the per-band reflectance units used (value x scale +
	// offset, in the encoder's band order) and UnitsFrom where they come
	// from: "--scale/--offset" or the product metadata file read; both
	// empty for encoders taking any units and for reflectance as read.
	Units     []sensor.Units `json:"units,omitempty"`
	UnitsFrom string         `json:"units_from,omitempty"`
	Mode      string         `json:"mode,omitempty"`    // chips or dense
	Tile      int            `json:"tile,omitempty"`    // dense: tile size
	Overlap   int            `json:"overlap,omitempty"` // dense: tile overlap
	Chip      int            `json:"chip"`
	Stride    int            `json:"stride"`
	// ProcessingResolution is the pixel size (metres) chips (or dense
	// tiles) were cut at when the scene was resampled for them; 0 (absent)
	// for its own grid.
	ProcessingResolution float64 `json:"processing_resolution_m,omitempty"`
	MaxNoData            float64 `json:"max_nodata"`
	// DType is float32 or float16 (values rounded to half precision but
	// stored as Float32, DTypeNote says so); "" in sidecars older than it
	// means float32.
	DType     string   `json:"dtype,omitempty"`
	DTypeNote string   `json:"dtype_note,omitempty"`
	Scene     []string `json:"scene"`
}

// MaxReaders bounds Options.Readers.
const MaxReaders = 64

// DefaultReaders is the readers Chips uses when Options.Readers is 0:
// max(1, NumCPU/4). On the 5490² benchmark scene (4 UInt16 bands, DEFLATE)
// one reader spends about 0.65 s of CPU reading, decoding and normalising
// 27,477 chips (24 µs a chip, at most ~40k chips/s), and MobileNetV2
// inference about 8 s (~300 µs a chip): reading is under a tenth of the
// CPU, so with such encoders one reader feeds about ten cores, while with
// a trivial encoder (chipmean) reading is most of it. A quarter of the
// cores reading keeps a 2-core machine at one reader (a second only takes
// CPU from inference there; measured: 5800 and 5982 chips/s with
// MobileNetV2, within the noise, 35.8k and 53.3k chips/s with chipmean)
// and gives 4 readers on 16 cores: by estimate (not measured on 16 cores)
// up to ~4 x 40k chips/s of reading, less since a reader normalises only
// Streams+2 batches ahead of its turn, against ~70k chips/s of MobileNetV2
// inference there, so encoders down to about half its cost are not held
// back by reading, while inference keeps three quarters of the cores.
func DefaultReaders() int { return max(1, runtime.NumCPU()/4) }

// MaxBatch is the most chips one inference call may take.
const MaxBatch = 4096

// maxBatchBytes bounds one batch's input buffer (Streams + 2 are held).
const maxBatchBytes = 256 << 20

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func (o *Options) defaults() error {
	if o.Chip == 0 {
		o.Chip = 32
	}
	if o.Stride == 0 {
		o.Stride = o.Chip
	}
	if o.Batch == 0 {
		o.Batch = 64
	}
	if o.MaxNoData == 0 {
		o.MaxNoData = 0.5
	}
	if o.Streams == 0 {
		o.Streams = 1
	}
	if o.Readers == 0 {
		o.Readers = DefaultReaders()
	}
	switch {
	case o.Chip < 1 || o.Chip > 4096 || o.Stride < 1 || o.Stride > o.Chip:
		return fmt.Errorf("embed: chip %d and stride %d: want 1 <= stride <= chip <= 4096", o.Chip, o.Stride)
	case !(o.MaxNoData >= 0 && o.MaxNoData <= 1):
		return fmt.Errorf("embed: nodata threshold %g outside 0..1", o.MaxNoData)
	case o.Batch < 1 || o.Batch > MaxBatch:
		return fmt.Errorf("embed: batch %d outside 1..%d", o.Batch, MaxBatch)
	case !finite(o.Scale) || !finite(o.Offset):
		return fmt.Errorf("embed: scale %g and offset %g: want finite numbers", o.Scale, o.Offset)
	case o.Streams < 1 || o.Streams > 64:
		return fmt.Errorf("embed: streams %d outside 1..64", o.Streams)
	case o.Readers < 1 || o.Readers > MaxReaders:
		return fmt.Errorf("embed: readers %d outside 1..%d", o.Readers, MaxReaders)
	}
	if err := checkResolutions(o.Resolution, o.ProcessingResolution); err != nil {
		return err
	}
	switch o.Format {
	case "":
		o.Format = GTiff
	case GTiff, GeoParquet:
	default:
		return fmt.Errorf("embed: format %q: want %s or %s", o.Format, GTiff, GeoParquet)
	}
	var err error
	o.DType, err = checkDType(o.DType)
	return err
}

// Chips embeds every chip of the chip grid of the scene (one or more files
// on one grid) and writes a float32 GeoTIFF with D bands at out, one pixel
// per chip (its geotransform is the chip grid's, the pixel centred on its
// chip), and the sidecar out.json; with o.Format GeoParquet, a GeoParquet
// file at out instead (writeGeoParquet), the sidecar in it. The scene is
// read in windows of chip rows by o.Readers goroutines (runChips), so
// memory is bounded by the scene width times the window's rows per reader.
func Chips(ctx context.Context, e *Encoder, scene []string, out string, o Options) (*Result, error) {
	t0 := time.Now()
	if err := o.defaults(); err != nil {
		return nil, err
	}
	m := e.Manifest
	if o.Chip%m.Multiple() != 0 {
		return nil, fmt.Errorf("embed: chip %d is not a multiple of %s's size_multiple %d", o.Chip, e.Ref, m.Multiple())
	}
	src, err := openScene(e, scene, o.Bands, o)
	if err != nil {
		return nil, err
	}
	defer src.s.Close()
	return chips(ctx, e, src, out, o, t0)
}

// chips is Chips over an opened source.
func chips(ctx context.Context, e *Encoder, src *source, out string, o Options, t0 time.Time) (*Result, error) {
	m, s, norm, scene := e.Manifest, src.s, src.norm, src.names
	if n := int64(o.Batch) * int64(len(m.Bands)) * int64(o.Chip) * int64(o.Chip) * 4; n > maxBatchBytes {
		return nil, fmt.Errorf("embed: a batch of %d chips of %d px and %d bands is %d MiB, over %d MiB: use a smaller batch", o.Batch, o.Chip, len(m.Bands), n>>20, maxBatchBytes>>20)
	}
	g, err := procGrid(s, o.Resolution, o.ProcessingResolution)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", scene[0], err)
	}
	size := g.size
	cols, rows := (size.X-o.Chip)/o.Stride+1, (size.Y-o.Chip)/o.Stride+1
	if size.X < o.Chip || size.Y < o.Chip {
		if g.resampled() {
			return nil, fmt.Errorf("%s: %dx%d px at %g m is smaller than one %d px chip", scene[0], size.X, size.Y, g.res, o.Chip)
		}
		return nil, fmt.Errorf("%s: %dx%d px is smaller than one %d px chip", scene[0], size.X, size.Y, o.Chip)
	}
	geo := g.geo(s)
	if !geo.Transform.IsIdentity() {
		c := float64(o.Chip-o.Stride) / 2
		x0, y0 := geo.Transform.Apply(c, c)
		geo.Transform = geo.Transform.Scale(float64(o.Stride), float64(o.Stride))
		geo.Transform[0], geo.Transform[3] = x0, y0
		geo.GCPs = nil
	}
	D := e.Dim()
	tif := out
	if o.Format == GeoParquet {
		// The GeoTIFF, under a temporary name beside out, is converted
		// once complete.
		if tif, err = gdalio.TempName(out); err != nil {
			return nil, fmt.Errorf("%s: %w", out, err)
		}
		defer gdalio.Remove(tif)
	}
	w, err := createVectors(tif, image.Pt(cols, rows), D, geo, map[string]string{"OMNIMASK_ENCODER": m.Name + " " + m.Version}, o.DType)
	if err != nil {
		return nil, err
	}
	defer w.abort()

	res := &Result{Cols: cols, Rows: rows}
	if o.onBatch == nil {
		o.onBatch = func([]float32, int) {}
	}
	var rd chipRows
	if g.resampled() {
		rd = newResampledRows(s, norm, size, o.Chip)
	} else {
		rd = newChipRows(s, norm, o.Chip, o.Stride, o.floatRows)
	}
	rds := []chipRows{rd}
	if cl, ok := rd.(cloner); ok {
		// A reader beyond the first reads through a handle of its own; no
		// more readers than windows.
		_, nwin := windows(rd.window(), rows)
		for range min(o.Readers, nwin) - 1 {
			s2, err := s.Reopen()
			if err != nil {
				return nil, err
			}
			defer s2.Close() // after runChips, whose readers have ended
			rds = append(rds, cl.clone(s2))
		}
	}
	res.Readers = len(rds)
	if err := runChips(ctx, e, rds, w, cols, rows, o, res); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := w.commit(); err != nil {
		return nil, err
	}
	sc := Sidecar{Mode: "chips", Encoder: m.Name, Version: m.Version, Dim: D, Bands: m.Bands, Normalization: m.Normalization,
		InputUnits: m.InputUnits, Scale: o.Scale, Offset: o.Offset, Chip: o.Chip, Stride: o.Stride, MaxNoData: o.MaxNoData, Scene: scene}
	if g.resampled() {
		sc.ProcessingResolution = g.res
	}
	src.describeUnits(&sc, e, o)
	sc.setDType(o.DType)
	if o.Format == GeoParquet {
		if _, err := writeGeoParquet(ctx, tif, &sc, out); err != nil {
			return nil, err
		}
	} else if err := sc.write(out); err != nil {
		return nil, err
	}
	res.Total = time.Since(t0)
	return res, nil
}

// bandIndex maps the encoder's bands to scene band indices (0-based).
func bandIndex(s *gdalio.Scene, want []string, given []int) ([]int, error) {
	if given != nil {
		if len(given) != len(want) {
			return nil, fmt.Errorf("embed: %d bands given for the encoder's %d (%s)", len(given), len(want), strings.Join(want, ", "))
		}
		idx := make([]int, len(given))
		for i, b := range given {
			idx[i] = b - 1
		}
		return idx, nil
	}
	var idx []int
	for _, w := range want {
		found := -1
		for i, b := range s.Bands {
			if strings.EqualFold(b.Name, w) {
				found = i
				break
			}
		}
		if found < 0 {
			return nil, fmt.Errorf("%s: no band named %q (the encoder takes %s; give the band numbers)", s.Paths[0], w, strings.Join(want, ", "))
		}
		idx = append(idx, found)
	}
	return idx, nil
}

// source is an opened scene with the encoder's bands selected, its
// normalisation, and what the sidecar says of it.
type source struct {
	s         *gdalio.Scene
	norm      *normalizer
	names     []string // the scene as named (sidecar "scene")
	unitsFrom string   // the product metadata giving the units, "" when none
}

// openScene opens the files as one scene, selects the encoder's bands and
// prepares its normalisation.
func openScene(e *Encoder, scene []string, bands []int, o Options) (*source, error) {
	s, err := gdalio.Open(scene...)
	if err != nil {
		return nil, err
	}
	idx, err := bandIndex(s, e.Manifest.Bands, bands)
	if err == nil {
		err = s.Select(idx)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	norm, err := newNormalizer(e.Manifest, s.Selected(), o)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("%s: %w", scene[0], err)
	}
	return &source{s: s, norm: norm, names: scene}, nil
}

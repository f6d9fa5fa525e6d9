package engine

import (
	"image"
	"log/slog"
	"time"

	"github.com/omnimask/omnimask/internal/product"
	"github.com/omnimask/omnimask/raster"
	"github.com/omnimask/omnimask/sensor"
	"github.com/omnimask/omnimask/tiling"
	"github.com/omnimask/omnimask/tta"
)

// Confidence selects the optional per-class probability output.
type Confidence int

const (
	NoConfidence      Confidence = iota // no probability output
	ConfidenceUint8                     // probabilities scaled to 0..255
	ConfidenceFloat32                   // probabilities as float32 0..1
)

// Request describes one prediction. The zero value predicts with the
// model's defaults and returns the mask in memory.
type Request struct {
	// Bands chooses the source bands for the model's inputs (see
	// preprocess.ParseBands); empty matches band names.
	Bands string
	// BandsByPosition takes a scene's bands in order as the model's when
	// their names do not match the model's and the counts agree (with a
	// warning). Without it such a scene is refused (strict: an
	// *InputError for Field "Bands"), so that bands named, say, blue,
	// swir, tir are never read as red, green, nir by accident. Bands
	// without any name are taken in order either way (with a warning).
	BandsByPosition bool
	// Sensor names a preset (see package sensor) that says where the red,
	// green and nir bands are; empty or "auto" detects it from metadata and
	// file names.
	Sensor string
	// NoData overrides the scene's nodata value.
	NoData raster.NoData
	// Resolution is the native pixel size in metres, for scenes without
	// georeference (or to override it); 0 = from the georeference.
	Resolution float64
	// ProcessingResolution forces the resolution inference runs at (metres);
	// 0 = the nearest resolution inside the model's supported range.
	ProcessingResolution float64
	// NoResample processes at native resolution whatever the model says.
	NoResample bool
	// Scale and Offset give the scene's reflectance for a model whose
	// manifest asks for reflectance input: reflectance = value x Scale +
	// Offset, one value for every band or one per model input. They
	// override what the product's metadata says (Landsat MTL, Sentinel-2
	// MTD XML); nil Scale means from the metadata (Offset alone: Scale 1).
	// Models taking any units ignore them.
	Scale, Offset []float64
	// PatchSize and Overlap override the model's tiling; 0 = model default,
	// a negative Overlap means none.
	PatchSize, Overlap int
	// Blend is the window that weights overlapping patches (default Ramp).
	Blend tiling.Window
	// TTA is the test-time augmentation (see Options.TTA); tta.Default =
	// the engine's.
	TTA tta.Mode
	// Confidence adds per-class probabilities to the result.
	Confidence Confidence
	// Output is the mask file to write (COG GeoTIFF); empty keeps the mask in
	// memory (Result.Mask). ConfidenceOutput is the probabilities file;
	// empty derives it from Output.
	Output, ConfidenceOutput string
	// Product runs a composite product (see Options.Product) instead of
	// the engine's models: its engine is opened on the first request that
	// names it, with the engine's options, and kept until Close.
	Product string
	// Progress, when set, receives how far the prediction is, from a
	// goroutine of its own: a slow callback does not stall the pipeline,
	// it gets the latest progress when it returns (intermediate values are
	// coalesced). Calls are sequential, and the last one, with Done ==
	// Total, is made before the prediction returns successfully.
	Progress func(Progress)
	// Logger receives this call's warnings (with "scene" and "model"
	// attributes); nil = the context's (WithLogger), else Options.Logger.
	Logger *slog.Logger
	// NoWait makes a call that the engine's memory budget
	// (Options.MemoryBudget) cannot admit now fail at once with ErrBusy
	// instead of waiting for budget.
	NoWait bool
}

// Progress reports how far a prediction is.
type Progress struct {
	Done, Total int // patches blended / planned (skipped ones count as done)
}

// Plan is what a prediction will do, decided before any pixel is read.
type Plan struct {
	Files      []string    // the rasters read (per-band files, sub-datasets…)
	Sensor     string      // sensor preset used, if any
	Size       image.Point // native scene size
	Geo        raster.Geo
	Bands      []string        // scene band read for each model band (Manifest.SourceBands), as named in the scene
	Derived    []string        // inputs computed from bands, e.g. "nd(green,nir) = (B03 - B08) / (B03 + B08), not normalised"
	Product    string          // composite product run (Options.Product), "" for a plain engine
	Models     []string        // the models run (for a product: the one chosen for each role)
	NoData     raster.NoData   // of the first model input (all of them unless BandNoData)
	BandNoData []raster.NoData // per model input, when the inputs' values differ
	NativeRes  [2]float64      // native pixel size (m) along x and y; 0 = unknown
	ProcRes    float64         // processing resolution (m); 0 = native (unknown)
	ProcSize   image.Point
	Patch      int
	Overlap    int
	Patches    int // patches in the grid (before skipping nodata ones)
	Blend      tiling.Window
	TTA        tta.Mode // the test-time augmentation run (never tta.Default)
	Notes      []string // warnings and decisions worth telling the user
	Memory     int64    // estimated peak resident memory the prediction adds, in bytes (what Options.MemoryBudget charges)
	BandIndex  []int    // 0-based scene band for each entry of Bands
	SceneBands []string // names of all the scene's bands
	Driver     string   // GDAL driver of the first file ("" for in-memory scenes)
	Source     []Band   // every band of the files read, in order (PredictFile and Inspect)
	// Units turn each band read (Bands) into the reflectance a model asks
	// for (nil for models taking any units), and UnitsFrom says where they
	// come from (product metadata, or --scale/--offset). Derived inputs are
	// computed from bands in these units whenever they are known, for
	// models taking any units too.
	Units     []sensor.Units
	UnitsFrom string
	grid      *tiling.Grid
	sources   []string // model band names of Bands (layout.sources)
	variant   *variant // the models run and how
	derived   bool     // some input is derived from bands
}

// Band describes one band of the files a scene is read from: the file
// (raster or GDAL dataset) holding it, its 1-based Index there, Name, data
// Type as GDAL names it, NoData, and the file's pixel size in metres
// (Resolution, 0 when not georeferenced).
type Band = product.Band

// Resampled reports whether the scene is processed at another resolution.
func (p *Plan) Resampled() bool { return p.ProcSize != p.Size }

// Result is the outcome of a prediction.
type Result struct {
	Plan Plan
	// Mask holds class ids with 255 for nodata, on the native grid (only
	// when Request.Output is empty).
	Mask *image.Gray
	// Probabilities holds per-class probabilities on the native grid (only
	// with Request.Confidence and an empty Request.Output); NaN at nodata.
	Probabilities *raster.Float32
	// Output and ConfidenceOutput are the files written, if any.
	Output, ConfidenceOutput string
	// ClassCounts counts mask pixels per class id; index 255 is nodata.
	ClassCounts [256]int64
	Skipped     int // patches skipped as all nodata
	Uncovered   int64
	Elapsed     time.Duration
	InferTime   time.Duration // wall time during which at least one inference call ran
	Warnings    []string
	e           *Engine // for WriteTo and WriteGeoTIFF: the classes, colours and models
}

package cmdline

import (
	"flag"
	"fmt"
	"runtime"
	"strings"

	"github.com/omnimask/omnimask/engine"
	"github.com/omnimask/omnimask/eval"
)

// MaxResolution bounds --resolution, --processing-resolution and eval's
// --resolutions, in metres.
const MaxResolution = 100_000

// EngineFlags are the flags that configure the engine, as predict, info,
// eval, serve and omnimask-batch share them.
type EngineFlags struct {
	Models    List
	Product   string
	ORTLib    string
	Threads   int
	Streams   int
	BatchSize int
	TTA       TTA
	Quiet     bool
	Verbose   bool
}

// Register adds the engine flags to fs.
func (f *EngineFlags) Register(fs *flag.FlagSet) {
	fs.Var(&f.Models, "model", "built-in model name or .onnx path; repeat for an ensemble (default: the built-in default)")
	fs.StringVar(&f.Product, "product", "", "composite product instead of --model: water (cloud model + water model, one mask: land, water, clouds, shadow) or a product .json")
	fs.StringVar(&f.ORTLib, "ort-lib", "", "path to libonnxruntime.so (default: $ONNXRUNTIME_LIB, beside the binary, third_party/onnxruntime, system folders)")
	fs.IntVar(&f.Threads, "threads", 0, "threads for inference, in all, 1 to 4 per core (default: all cores)")
	fs.IntVar(&f.Streams, "streams", 0, "inference calls running at once, sharing the threads, 1 to the threads (default 2)")
	fs.IntVar(&f.BatchSize, "batch-size", 0, "patches per inference call, 1..256 (default 1)")
	fs.Var(&f.TTA, "tta", TTAUsage)
	fs.BoolVar(&f.Quiet, "quiet", false, "print errors only")
	fs.BoolVar(&f.Verbose, "v", false, "verbose logs")
}

// Check checks the engine flags given explicitly (set). The error is one
// line naming the flag and its range.
func (f *EngineFlags) Check(set map[string]bool) error {
	if f.Product != "" && len(f.Models) > 0 {
		return fmt.Errorf("--product chooses its own models: give --model or --product, not both")
	}
	if _, err := CheckThreads(set, f.Threads, f.Streams); err != nil {
		return err
	}
	if set["batch-size"] && (f.BatchSize < 1 || f.BatchSize > engine.MaxBatchSize) {
		return fmt.Errorf("--batch-size %d: want 1..%d (leave the flag out for 1)", f.BatchSize, engine.MaxBatchSize)
	}
	return nil
}

// CheckThreads checks --threads and --streams when given explicitly (set)
// and returns the threads in all: threads, or all cores without the flag.
func CheckThreads(set map[string]bool, threads, streams int) (int, error) {
	cores := runtime.NumCPU()
	if !set["threads"] {
		threads = cores
	} else if threads < 1 || threads > engine.MaxThreadsPerCore*cores {
		return 0, fmt.Errorf("--threads %d: want 1..%d (%d per core; leave the flag out for all %d cores)", threads, engine.MaxThreadsPerCore*cores, engine.MaxThreadsPerCore, cores)
	}
	if set["streams"] && (streams < 1 || streams > threads) {
		return 0, fmt.Errorf("--streams %d: want 1..%d (at most the %d threads; leave the flag out for %d)", streams, threads, threads, min(2, threads))
	}
	return threads, nil
}

// RequestFlags are the flags that configure one prediction, as predict,
// info, serve and omnimask-batch share them.
type RequestFlags struct {
	Sensor     string
	Bands      string
	NoData     NoData
	Resolution float64
	ProcRes    float64
	NoResample bool
	Patch      int
	Overlap    int
	Blend      Blend
	Scale      Floats
	Offset     Floats
}

// Register adds the request flags to fs.
func (f *RequestFlags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.Sensor, "sensor", "auto", "sensor preset for band layout: auto, sentinel2, landsat8, landsat7, landsat5, planetscope4, planetscope8, naip, modis")
	fs.StringVar(&f.Bands, "bands", "", "source bands for the model's inputs: 3,2,4 | B04,B03,B08 | red=3,green=2,nir=4 (default: match band names)")
	fs.Var(&f.NoData, "nodata", "nodata value of the input (default: from the file)")
	fs.Float64Var(&f.Resolution, "resolution", 0, "native pixel size in metres (0 < m <= 100000), for scenes without georeference")
	fs.Float64Var(&f.ProcRes, "processing-resolution", 0, "resolution in metres to run the model at, 0 < m <= 100000 (default: nearest inside the model's range)")
	fs.BoolVar(&f.NoResample, "no-resample", false, "run at native resolution whatever the model's range")
	fs.IntVar(&f.Patch, "patch-size", 0, "patch size in pixels at processing resolution, 32..4096 and a multiple of the model's size multiple (default: the model's)")
	fs.IntVar(&f.Overlap, "overlap", 0, "patch overlap in pixels, below half the patch; 0 or -1 for none (default: the model's)")
	fs.Var(&f.Blend, "blend", "blend window for overlapping patches: ramp | hann | boxcar")
	fs.Var(&f.Scale, "scale", "for models that want reflectance: reflectance = value x scale + offset; one value or one per model input (default: from the product metadata)")
	fs.Var(&f.Offset, "offset", "see --scale (default 0 with --scale)")
}

// Check checks the request flags given explicitly (set) that need no
// model; CheckTiling checks those that do.
func (f *RequestFlags) Check(set map[string]bool) error {
	for _, r := range []struct {
		name string
		v    float64
	}{{"resolution", f.Resolution}, {"processing-resolution", f.ProcRes}} {
		if set[r.name] {
			if err := CheckResolution("--"+r.name, r.v, "leave the flag out for the georeference's"); err != nil {
				return err
			}
		}
	}
	return nil
}

// EngineOverlap is --overlap as the engine takes it: an explicit 0 means
// none (-1); the engine's 0 is the model's overlap.
func (f *RequestFlags) EngineOverlap(set map[string]bool) int {
	if set["overlap"] && f.Overlap == 0 {
		return -1
	}
	return f.Overlap
}

// CheckResolution checks a pixel size in metres given to flag; hint says
// what leaving the flag out means.
func CheckResolution(flag string, v float64, hint string) error {
	if !(v > 0 && v <= MaxResolution) { // NaN fails too
		return fmt.Errorf("%s %g: want a pixel size in metres, 0 < m <= %d (%s)", flag, v, MaxResolution, hint)
	}
	return nil
}

// CheckSteps checks eval's --scales and --resolutions, each on its own so
// that the message names the flag, and returns the steps they give.
func CheckSteps(scales, resolutions string) ([]eval.Step, error) {
	trim := func(err error) string { return strings.TrimPrefix(err.Error(), "eval: ") }
	if _, err := eval.ParseSteps(scales, ""); err != nil {
		return nil, fmt.Errorf("--scales %s: %s", scales, trim(err))
	}
	rs, err := eval.ParseSteps("", resolutions)
	if err != nil {
		return nil, fmt.Errorf("--resolutions %s: %s", resolutions, trim(err))
	}
	if resolutions != "" {
		for _, s := range rs {
			if err := CheckResolution("--resolutions", s.Resolution, "leave the flag out for native resolution"); err != nil {
				return nil, err
			}
		}
	}
	return eval.ParseSteps(scales, resolutions)
}

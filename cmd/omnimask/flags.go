package main

import (
	"flag"
	"fmt"
	"github.com/omnimask/omnimask/internal/cmdline"
	"io"
	"log/slog"

	"github.com/omnimask/omnimask/engine"
)

// engineFlags are the flags that configure the engine, shared by commands.
type engineFlags struct {
	models    cmdline.List
	product   string
	ortLib    string
	threads   int
	streams   int
	batchSize int
	tta       cmdline.TTA
	quiet     bool
	verbose   bool
}

func (f *engineFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.models, "model", "built-in model name or .onnx path; repeat for an ensemble (default: the built-in default)")
	fs.StringVar(&f.product, "product", "", "composite product instead of --model: water (cloud model + water model, one mask: land, water, clouds, shadow) or a product .json")
	fs.StringVar(&f.ortLib, "ort-lib", "", "path to libonnxruntime.so (default: $ONNXRUNTIME_LIB, beside the binary, third_party/onnxruntime, system folders)")
	fs.IntVar(&f.threads, "threads", 0, "threads for inference, in all, 1 to 4 per core (default: all cores)")
	fs.IntVar(&f.streams, "streams", 0, "inference calls running at once, sharing the threads, 1 to the threads (default 2)")
	fs.IntVar(&f.batchSize, "batch-size", 0, "patches per inference call, 1..256 (default 1)")
	fs.Var(&f.tta, "tta", cmdline.TTAUsage)
	fs.BoolVar(&f.quiet, "quiet", false, "print errors only")
	fs.BoolVar(&f.verbose, "v", false, "verbose logs")
}

// options configure the engine as the command runs it: one prediction at
// a time, so the pipeline's memory goes back to the OS before each mask's
// COG copy (Options.ReturnMemory).
func (f *engineFlags) options(stderr io.Writer) engine.Options {
	return engine.Options{Models: f.models, Product: f.product, ORTLibrary: f.ortLib, Threads: f.threads,
		Streams: f.streams, BatchSize: f.batchSize, TTA: f.tta.Mode, Logger: f.logger(stderr), ReturnMemory: true}
}

func (f *engineFlags) logger(stderr io.Writer) *slog.Logger {
	level := slog.LevelInfo
	switch {
	case f.quiet:
		level = slog.LevelError
	case f.verbose:
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
}

// requestFlags configure one prediction.
type requestFlags struct {
	sensor     string
	bands      string
	nodata     cmdline.NoData
	resolution float64
	procRes    float64
	noResample bool
	patch      int
	overlap    int
	blend      cmdline.Blend
	scale      cmdline.Floats
	offset     cmdline.Floats
}

func (f *requestFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.sensor, "sensor", "auto", "sensor preset for band layout: auto, sentinel2, landsat8, landsat7, landsat5, planetscope4, planetscope8, naip, modis")
	fs.StringVar(&f.bands, "bands", "", "source bands for the model's inputs: 3,2,4 | B04,B03,B08 | red=3,green=2,nir=4 (default: match band names)")
	fs.Var(&f.nodata, "nodata", "nodata value of the input (default: from the file)")
	fs.Float64Var(&f.resolution, "resolution", 0, "native pixel size in metres (0 < m <= 100000), for scenes without georeference")
	fs.Float64Var(&f.procRes, "processing-resolution", 0, "resolution in metres to run the model at, 0 < m <= 100000 (default: nearest inside the model's range)")
	fs.BoolVar(&f.noResample, "no-resample", false, "run at native resolution whatever the model's range")
	fs.IntVar(&f.patch, "patch-size", 0, "patch size in pixels at processing resolution, 32..4096 and a multiple of the model's size multiple (default: the model's)")
	fs.IntVar(&f.overlap, "overlap", 0, "patch overlap in pixels, below half the patch; 0 or -1 for none (default: the model's)")
	fs.Var(&f.blend, "blend", "blend window for overlapping patches: ramp | hann | boxcar")
	fs.Var(&f.scale, "scale", "for models that want reflectance: reflectance = value x scale + offset; one value or one per model input (default: from the product metadata)")
	fs.Var(&f.offset, "offset", "see --scale (default 0 with --scale)")
}

// request is the engine request of the flags; set are the flags given
// explicitly: --overlap 0 means none (the engine's 0 is the model's).
func (f *requestFlags) request(set map[string]bool) engine.Request {
	overlap := f.overlap
	if set["overlap"] && overlap == 0 {
		overlap = -1
	}
	return engine.Request{Sensor: f.sensor, Bands: f.bands, BandsByPosition: true, NoData: f.nodata.V, Resolution: f.resolution,
		ProcessingResolution: f.procRes, NoResample: f.noResample, PatchSize: f.patch,
		Overlap: overlap, Blend: f.blend.Window, Scale: f.scale.V, Offset: f.offset.V}
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name, args string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: omnimask %s %s\n\nFlags:\n", name, args)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags that may come before or after the positional
// arguments, and returns the positional ones.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return nil, err
			}
			return nil, usageError{msg: err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

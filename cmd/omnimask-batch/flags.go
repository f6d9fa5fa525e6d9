package main

import (
	"flag"
	"github.com/omnimask/omnimask/internal/cmdline"
	"io"
	"log/slog"
	"sort"
	"strconv"
	"strings"

	"github.com/omnimask/omnimask/engine"
	"github.com/omnimask/omnimask/raster"
	"github.com/omnimask/omnimask/sensor"
	"github.com/omnimask/omnimask/tiling"
	"github.com/omnimask/omnimask/tta"
)

// The flags below mean exactly what they mean in `omnimask predict`
// (TestFlagsMatchPredict compares them with `omnimask predict -h`).

// Config is everything a worker needs to predict: it travels to the
// workers inside the DoFn (exported fields are serialised by Beam).
type Config struct {
	Models     []string
	Product    string
	ORTLib     string
	Threads    int
	Streams    int
	BatchSize  int
	TTA        string // "" (the model's) or none, flips, d4
	Quiet      bool
	Verbose    bool
	Sensor     string
	Bands      string
	NoDataSet  bool
	NoData     float64
	Resolution float64
	ProcRes    float64
	NoResample bool
	Patch      int
	Overlap    int
	Blend      string
	Scale      []float64
	Offset     []float64
	Confidence string // "", "uint8" or "float32" (canonical)
	Force      bool
	Parallel   int // scenes in flight per worker process
}

// flags are the command line of a batch.
type flags struct {
	cmdline.EngineFlags
	cmdline.RequestFlags

	outDir     string
	confidence string
	force      bool
	parallel   int
}

func (f *flags) register(fs *flag.FlagSet) {
	f.EngineFlags.Register(fs)
	f.RequestFlags.Register(fs)
	// Output flags: --output-dir and --confidence as in predict.
	fs.StringVar(&f.outDir, "output-dir", "", "folder for the masks (default: beside each scene)")
	fs.StringVar(&f.confidence, "confidence", "", "also write per-class probabilities: uint8 (0..254 = 0..1, 255 nodata) or float32")
	// Batch flags.
	fs.BoolVar(&f.force, "force", false, "recompute every scene, even those whose mask was written with the same model and flags")
	fs.IntVar(&f.parallel, "parallel", 1, "scenes predicted at once per worker process (the engine already uses all cores for one)")
}

// config checks the flags given explicitly (set) as predict checks them
// (ranges, sensor preset; those that need the model are checked by
// checkTiling) and returns the workers' configuration.
func (f *flags) config(set map[string]bool) (Config, error) {
	c := Config{Models: f.Models, Product: f.Product, ORTLib: f.ORTLib, Threads: f.Threads, Streams: f.Streams, BatchSize: f.BatchSize,
		TTA: f.TTA.Mode.String(), Quiet: f.Quiet, Verbose: f.Verbose, Sensor: f.Sensor, Bands: f.Bands, NoDataSet: f.NoData.V.Set, NoData: f.NoData.V.Value,
		Resolution: f.Resolution, ProcRes: f.ProcRes, NoResample: f.NoResample, Patch: f.Patch, Overlap: f.EngineOverlap(set),
		Blend: f.Blend.Window.String(), Scale: f.Scale.V, Offset: f.Offset.V, Force: f.force, Parallel: f.parallel}
	if err := f.EngineFlags.Check(set); err != nil {
		return c, cmdline.Usagef("%s", err)
	}
	if err := f.RequestFlags.Check(set); err != nil {
		return c, cmdline.Usagef("%s", err)
	}
	if f.Sensor != "" && !strings.EqualFold(f.Sensor, "auto") {
		if _, err := sensor.Lookup(f.Sensor); err != nil {
			return c, cmdline.Usagef("--sensor %s: %v", f.Sensor, strings.TrimPrefix(err.Error(), "sensor: "))
		}
	}
	switch strings.ToLower(f.confidence) {
	case "":
	case "uint8", "u8":
		c.Confidence = "uint8"
	case "float32", "f32":
		c.Confidence = "float32"
	default:
		return c, cmdline.Usagef("--confidence %q: want uint8 or float32", f.confidence)
	}
	if f.parallel < 1 {
		return c, cmdline.Usagef("--parallel %d: want at least 1", f.parallel)
	}
	return c, nil
}

// checkTiling checks --patch-size and --overlap against the engine's
// models, as predict does: a patch the network takes, an overlap below
// half the patch.
func (c Config) checkTiling(set map[string]bool, e *engine.Engine) error {
	if err := cmdline.CheckTiling(c.Patch, c.Overlap, set, e); err != nil {
		return cmdline.Usagef("%s", err)
	}
	return nil
}

// setFlags returns the names of the flags given on the command line.
func setFlags(fs *flag.FlagSet) map[string]bool { return cmdline.SetFlags(fs) }

func (c Config) options(log *slog.Logger) engine.Options {
	// As predict: with one scene at a time per process, the pipeline's
	// memory goes back to the OS before each mask's COG copy.
	return engine.Options{Models: c.Models, Product: c.Product, ORTLibrary: c.ORTLib, Threads: c.Threads,
		Streams: c.Streams, BatchSize: c.BatchSize, TTA: c.tta(), Logger: log, ReturnMemory: c.Parallel <= 1}
}

// tta is the engine's test-time augmentation (tta.Default when not given;
// config checked the name).
func (c Config) tta() tta.Mode {
	m, _ := tta.Parse(c.TTA)
	return m
}

func (c Config) request() (engine.Request, error) {
	// As predict: bands whose names do not match are taken in order (with
	// a warning) when the counts agree.
	r := engine.Request{Sensor: c.Sensor, Bands: c.Bands, BandsByPosition: true, Resolution: c.Resolution,
		ProcessingResolution: c.ProcRes, NoResample: c.NoResample, PatchSize: c.Patch, Overlap: c.Overlap,
		Scale: c.Scale, Offset: c.Offset}
	if c.NoDataSet {
		r.NoData = raster.NoDataValue(c.NoData)
	}
	w, err := tiling.ParseWindow(c.Blend)
	if err != nil {
		return r, err
	}
	r.Blend = w
	switch c.Confidence {
	case "uint8":
		r.Confidence = engine.ConfidenceUint8
	case "float32":
		r.Confidence = engine.ConfidenceFloat32
	}
	return r, nil
}

// pixelFlags are the flags that change a mask's pixels (or the files
// written), canonicalised: they are part of a mask's stored identity.
// Threads and streams are not (the output is identical for any number,
// tested in the engine); the batch size is, conservatively.
func (c Config) pixelFlags() map[string]string {
	g := func(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
	m := map[string]string{
		"sensor": c.Sensor, "bands": c.Bands, "resolution": g(c.Resolution),
		"processing-resolution": g(c.ProcRes), "no-resample": strconv.FormatBool(c.NoResample),
		"patch-size": strconv.Itoa(c.Patch), "overlap": strconv.Itoa(c.Overlap), "blend": c.Blend,
		"confidence": c.Confidence, "batch-size": strconv.Itoa(max(c.BatchSize, 1)),
	}
	if c.NoDataSet {
		m["nodata"] = g(c.NoData)
	}
	if c.TTA != "" {
		m["tta"] = c.TTA // absent when not given, so earlier masks keep their identity
	}
	for name, v := range map[string][]float64{"scale": c.Scale, "offset": c.Offset} {
		if v != nil {
			f := cmdline.Floats{V: v}
			m[name] = f.String()
		}
	}
	return m
}

func (c Config) logger(w io.Writer) *slog.Logger { return cmdline.Logger(w, c.Quiet, c.Verbose) }

// beamFlags adds Beam's pipeline flags (--runner, --endpoint,
// --environment_type, --environment_config, --project, --region, …),
// registered by the SDK on the process's flag set, to fs, so they can be
// given anywhere on the command line. They set the SDK's own variables.
func beamFlags(fs *flag.FlagSet) []string {
	var names []string
	flag.CommandLine.VisitAll(func(f *flag.Flag) {
		if fs.Lookup(f.Name) == nil && !workerOnly[f.Name] {
			fs.Var(f.Value, f.Name, f.Usage)
			names = append(names, f.Name)
		}
	})
	sort.Strings(names)
	return names
}

// workerOnly are the SDK's flags for the worker harness, given by the
// runner's container boot, not by users.
var workerOnly = map[string]bool{"worker": true, "id": true, "logging_endpoint": true,
	"control_endpoint": true, "semi_persist_dir": true, "options": true, "status_endpoint": true}

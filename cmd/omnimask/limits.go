package main

import (
	"flag"
	"github.com/omnimask/omnimask/internal/cmdline"
	"runtime"

	"github.com/omnimask/omnimask/engine"
	"github.com/omnimask/omnimask/eval"
)

// The valid ranges of the numeric flags. A flag left out means its default;
// a value given explicitly must lie in its range, or the command line is a
// usage error (exit 2): one line naming the flag and the range, before any
// scene is read.
const (
	maxResolution = 100_000 // metres: --resolution, --processing-resolution, eval's --resolutions
)

// setFlags returns the names of the flags given on the command line.
func setFlags(fs *flag.FlagSet) map[string]bool { return cmdline.SetFlags(fs) }

// check checks the engine flags given explicitly.
func (f *engineFlags) check(set map[string]bool) error {
	if f.product != "" && len(f.models) > 0 {
		return usagef("--product chooses its own models: give --model or --product, not both")
	}
	cores := runtime.NumCPU()
	threads := cores
	if set["threads"] {
		if f.threads < 1 || f.threads > engine.MaxThreadsPerCore*cores {
			return usagef("--threads %d: want 1..%d (%d per core; leave the flag out for all %d cores)", f.threads, engine.MaxThreadsPerCore*cores, engine.MaxThreadsPerCore, cores)
		}
		threads = f.threads
	}
	if set["streams"] && (f.streams < 1 || f.streams > threads) {
		return usagef("--streams %d: want 1..%d (at most the %d threads; leave the flag out for %d)", f.streams, threads, threads, min(2, threads))
	}
	if set["batch-size"] && (f.batchSize < 1 || f.batchSize > engine.MaxBatchSize) {
		return usagef("--batch-size %d: want 1..%d (leave the flag out for 1)", f.batchSize, engine.MaxBatchSize)
	}
	return nil
}

// check checks the request flags given explicitly that need no model.
func (f *requestFlags) check(set map[string]bool) error {
	for _, r := range []struct {
		name string
		v    float64
	}{{"resolution", f.resolution}, {"processing-resolution", f.procRes}} {
		if set[r.name] {
			if err := checkResolution("--"+r.name, r.v, "leave the flag out for the georeference's"); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkResolution checks a pixel size in metres; hint says what leaving
// the flag out means.
func checkResolution(flag string, v float64, hint string) error {
	if !(v > 0 && v <= maxResolution) { // NaN fails too
		return usagef("%s %g: want a pixel size in metres, 0 < m <= %d (%s)", flag, v, maxResolution, hint)
	}
	return nil
}

// checkTiling checks --patch-size and --overlap against the engine's
// models: a patch the network takes, an overlap below half the patch.
func (f *requestFlags) checkTiling(set map[string]bool, e *engine.Engine) error {
	if err := cmdline.CheckTiling(f.patch, f.overlap, set, e); err != nil {
		return usagef("%s", err)
	}
	return nil
}

// checkSteps checks eval's --scales and --resolutions, each on its own so
// that the message names the flag.
func checkSteps(scales, resolutions string) ([]eval.Step, error) {
	if _, err := eval.ParseSteps(scales, ""); err != nil {
		return nil, usagef("--scales %s: %v", scales, evalErr{err})
	}
	rs, err := eval.ParseSteps("", resolutions)
	if err != nil {
		return nil, usagef("--resolutions %s: %v", resolutions, evalErr{err})
	}
	if resolutions != "" {
		for _, s := range rs {
			if err := checkResolution("--resolutions", s.Resolution, "leave the flag out for native resolution"); err != nil {
				return nil, err
			}
		}
	}
	return eval.ParseSteps(scales, resolutions)
}

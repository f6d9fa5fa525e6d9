package main

import (
	"flag"
	"github.com/omnimask/omnimask/internal/cmdline"

	"github.com/omnimask/omnimask/engine"
	"github.com/omnimask/omnimask/eval"
)

// The numeric flags have valid ranges. A flag left out means its default;
// a value given explicitly must lie in its range, or the command line is a
// usage error (exit 2): one line naming the flag and the range, before any
// scene is read.

// setFlags returns the names of the flags given on the command line.
func setFlags(fs *flag.FlagSet) map[string]bool { return cmdline.SetFlags(fs) }

// check checks the engine flags given explicitly.
func (f *engineFlags) check(set map[string]bool) error {
	if err := f.Check(set); err != nil {
		return usagef("%s", err)
	}
	return nil
}

// check checks the request flags given explicitly that need no model.
func (f *requestFlags) check(set map[string]bool) error {
	if err := f.Check(set); err != nil {
		return usagef("%s", err)
	}
	return nil
}

// checkTiling checks --patch-size and --overlap against the engine's
// models: a patch the network takes, an overlap below half the patch.
func (f *requestFlags) checkTiling(set map[string]bool, e *engine.Engine) error {
	if err := cmdline.CheckTiling(f.Patch, f.Overlap, set, e); err != nil {
		return usagef("%s", err)
	}
	return nil
}

// checkSteps checks --scales and --resolutions (cmdline.CheckSteps).
func checkSteps(scales, resolutions string) ([]eval.Step, error) {
	steps, err := cmdline.CheckSteps(scales, resolutions)
	if err != nil {
		return nil, usagef("%s", err)
	}
	return steps, nil
}

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
type engineFlags struct{ cmdline.EngineFlags }

// options configure the engine as the command runs it: one prediction at
// a time, so the pipeline's memory goes back to the OS before each mask's
// COG copy (Options.ReturnMemory).
func (f *engineFlags) options(stderr io.Writer) engine.Options {
	return engine.Options{Models: f.Models, Product: f.Product, ORTLibrary: f.ORTLib, Threads: f.Threads,
		Streams: f.Streams, BatchSize: f.BatchSize, TTA: f.TTA.Mode, Logger: f.logger(stderr), ReturnMemory: true}
}

func (f *engineFlags) logger(stderr io.Writer) *slog.Logger {
	return cmdline.Logger(stderr, f.Quiet, f.Verbose)
}

// requestFlags configure one prediction.
type requestFlags struct{ cmdline.RequestFlags }

// request is the engine request of the flags; set are the flags given
// explicitly: --overlap 0 means none (the engine's 0 is the model's).
func (f *requestFlags) request(set map[string]bool) engine.Request {
	return engine.Request{Sensor: f.Sensor, Bands: f.Bands, BandsByPosition: true, NoData: f.NoData.V, Resolution: f.Resolution,
		ProcessingResolution: f.ProcRes, NoResample: f.NoResample, PatchSize: f.Patch,
		Overlap: f.EngineOverlap(set), Blend: f.Blend.Window, Scale: f.Scale.V, Offset: f.Offset.V}
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

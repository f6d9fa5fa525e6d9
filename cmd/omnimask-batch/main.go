// Command omnimask-batch masks whole archives: it runs `omnimask predict`
// over many scenes as an Apache Beam pipeline — in-process on Beam's Prism
// runner by default, or on Flink, Spark or Dataflow with the same command
// line — and writes a summary of the batch.
//
// Usage:
//
//	omnimask-batch SCENE... --output-dir DIR [predict flags] [--force] [--runner R] [beam flags]
//
// SCENE is a file, folder or GDAL path as in predict, a glob, or @list.txt
// (one scene path per line). Each worker process owns one engine. A re-run
// skips scenes whose mask was written with the same model identity and
// pixel-changing flags (stored in MASK.omnimask.json beside each mask).
//
// Exit codes: 0 success, 1 a scene failed (the others are done), 2 bad
// usage, 130 interrupted.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	beamlog "github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners"

	// Runners and the reflection-optimised runtime, as beamx imports them.
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/exec/optimized"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/dataflow"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/flink"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/spark"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/universal"

	"github.com/omnimask/omnimask/batch"
	"github.com/omnimask/omnimask/engine"
	"github.com/omnimask/omnimask/internal/cmdline"
	"github.com/omnimask/omnimask/internal/gdalio"
)

func main() {
	cmdline.TuneProcess()
	if workerMode(os.Args[1:]) {
		// Started by a runner's container boot as a Beam worker: the SDK
		// harness takes over and exits when the runner is done with it.
		flag.Parse()
		beam.Init()
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(cmdline.ExitCode(err))
}

// workerMode reports whether a runner's container boot started this
// binary as a Beam worker (--worker=true).
func workerMode(args []string) bool {
	return slices.ContainsFunc(args, func(a string) bool {
		a = strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		return a == "worker" || a == "worker=true"
	})
}

const usageHead = `omnimask-batch — omnimask predict over many scenes, as an Apache Beam pipeline

Usage:
  omnimask-batch SCENE... [flags]      omnimask predict over many scenes
  omnimask-batch eval RUNFILE [flags]  omnimask eval, scenes scored in parallel

SCENE: a file, product folder or GDAL path (as in omnimask predict), a glob
("scenes/*.tif"), or @list.txt (one scene path per line, # comments).
Masks are named as predict names them; summary.csv and summary.jsonl go into
--output-dir (the current folder without it). A re-run skips scenes whose
mask was written with the same models and pixel-changing flags (--force
recomputes). The pipeline runs in this process on Beam's Prism runner unless
--runner says otherwise (flink, spark, dataflow, universal, with Beam's
--endpoint, --environment_type, --environment_config, --project, --region…).
Exit codes: 0 ok, 1 a scene failed (the others are done), 2 bad usage, 130 interrupted.

Flags:
`

var initOnce sync.Once

// beamInit initialises the SDK once. The SDK and the in-process Prism
// runner log job-service chatter through slog's default logger, which
// beam.Init sets up: warnings only, unless -v.
func beamInit(verbose bool) {
	initOnce.Do(func() {
		beamlog.LogLevel = "warn"
		if verbose {
			beamlog.LogLevel = "info"
		}
		beam.Init()
	})
}

// newFlagSet returns the command's flags: omnimask's own, then Beam's.
func newFlagSet(stderr io.Writer) (*flag.FlagSet, *flags) {
	own := flag.NewFlagSet("omnimask-batch", flag.ContinueOnError)
	var f flags
	f.register(own)
	fs := flag.NewFlagSet("omnimask-batch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	own.VisitAll(func(fl *flag.Flag) { fs.Var(fl.Value, fl.Name, fl.Usage) })
	beam := beamFlags(fs)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageHead)
		own.SetOutput(stderr)
		own.PrintDefaults()
		fmt.Fprintf(stderr, "\nBeam pipeline flags, passed to the runner (see Beam's documentation):\n  %s\n", wrap(beam, 76))
	}
	return fs, &f
}

// wrap joins names with spaces into lines of at most width characters.
func wrap(names []string, width int) string {
	var b strings.Builder
	n := 0
	for _, s := range names {
		if n > 0 && n+1+len(s)+2 > width {
			b.WriteString("\n  ")
			n = 0
		} else if n > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString("--" + s)
		n += len(s) + 2
	}
	return b.String()
}

// run is the whole program, testable: it writes to stdout and stderr and
// returns an error instead of exiting. Beam's flags are the SDK's process-wide
// variables; run sets them from args.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	defer func() {
		if err != nil && !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "omnimask-batch: %v\n", err)
		}
	}()
	if len(args) > 0 && args[0] == "eval" {
		return runEval(ctx, args[1:], stdout, stderr)
	}
	*runners.Runner = "" // process-wide; run may be called more than once (tests)
	fs, f := newFlagSet(stderr)
	scenes, err := cmdline.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(scenes) == 0 {
		fs.Usage()
		return cmdline.Usagef("no scene given")
	}
	start := time.Now()
	set := setFlags(fs)
	cfg, err := f.config(set)
	if err != nil {
		return err
	}
	req, err := cfg.request()
	if err != nil {
		return cmdline.UsageError{Msg: err.Error()}
	}
	runner := *runners.Runner
	if runner == "" {
		runner = "prism"
	}
	if err := checkRunner(runner); err != nil {
		return err
	}
	if f.outDir != "" {
		if st, err := os.Stat(f.outDir); err != nil {
			return fmt.Errorf("%s: output folder does not exist", f.outDir)
		} else if !st.IsDir() {
			return cmdline.Usagef("--output-dir %s: not a folder", f.outDir)
		}
	}
	items, err := batch.Plan(scenes, f.outDir)
	if err != nil {
		return cmdline.UsageError{Msg: err.Error()}
	}
	sumDir := f.outDir
	if sumDir == "" {
		sumDir = "."
	}
	if sumDir, err = filepath.Abs(sumDir); err != nil {
		return err
	}

	beamInit(cfg.Verbose)
	log := cfg.logger(stderr)
	release := func() {}
	if runner == "prism" {
		// The workers run in this process: progress and logs go to stderr,
		// and they share the engine built here, which also checks what
		// needs the model before the pipeline starts.
		var w io.Writer = stderr
		logSink.Store(&w)
		defer logSink.Store(nil)
		wk, err := acquireWorker(cfg)
		if err != nil {
			return err
		}
		release = wk.release
		defer func() { release() }()
		if err := checkBatch(set, cfg, wk.eng, items, req); err != nil {
			return err
		}
		prog := newProgress(stderr, log, len(items), cfg.Quiet)
		tracker.Store(prog)
		defer func() { tracker.Store(nil); prog.finish() }()
	} else {
		defaultWorkerBinary()
		if set["patch-size"] || set["overlap"] {
			e, err := engine.New(cfg.options(nil))
			if err != nil {
				return err
			}
			err = cfg.checkTiling(set, e)
			e.Close()
			if err != nil {
				return err
			}
		}
	}
	removeStale(log, items, req, start)
	log.Debug("batch", "scenes", len(items), "runner", runner, "summary", sumDir)
	_, err = beam.Run(ctx, runner, buildPipeline(items, cfg, sumDir))
	inflight.Wait()
	release()
	release = func() {}
	if n := closeWorkers(); n > 0 {
		log.Debug("closed engines the runner left open", "engines", n)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		return fmt.Errorf("pipeline (%s): %w", runner, err)
	}
	tot, err := readTotal(filepath.Join(sumDir, batch.SummaryJSONL))
	if err != nil {
		return err
	}
	if !cfg.Quiet {
		fmt.Fprintf(stdout, "%d scenes: %d predicted, %d skipped, %d failed; summary in %s\n",
			tot.Scenes, tot.OK, tot.Skipped, tot.Failed, filepath.Join(sumDir, batch.SummaryCSV))
	}
	if tot.Failed > 0 {
		return fmt.Errorf("%d of %d scenes failed (see %s)", tot.Failed, tot.Scenes, filepath.Join(sumDir, batch.SummaryCSV))
	}
	return nil
}

// checkBatch refuses, before anything is written, what predict refuses:
// --patch-size and --overlap the model does not take, and outputs that
// would replace a file any scene reads, or each other (engine.CheckOutputs;
// a scene whose files cannot be resolved fails on its own later).
func checkBatch(set map[string]bool, cfg Config, e *engine.Engine, items []batch.Item, req engine.Request) error {
	if err := cfg.checkTiling(set, e); err != nil {
		return err
	}
	var inputs []string
	for _, it := range items {
		srcs, _ := e.Sources([]string{it.Scene}, req)
		inputs = append(inputs, srcs...)
	}
	if err := engine.CheckOutputs(inputs, outputs(items, req)); err != nil {
		return cmdline.UsageError{Msg: err.Error()}
	}
	return nil
}

// outputs lists every file a batch writes.
func outputs(items []batch.Item, req engine.Request) []string {
	var outs []string
	for _, it := range items {
		outs = append(outs, it.Output)
		if req.Confidence != engine.NoConfidence {
			outs = append(outs, engine.ConfidencePath(it.Output))
		}
	}
	return outs
}

// removeStale removes the temporary files that killed runs left in the
// batch's output folders, as predict does (see gdalio.RemoveStale).
func removeStale(log *slog.Logger, items []batch.Item, req engine.Request, before time.Time) {
	seen := map[string]bool{}
	for _, o := range outputs(items, req) {
		d := filepath.Dir(o)
		if seen[d] {
			continue
		}
		seen[d] = true
		removed, err := gdalio.RemoveStale(d, before)
		for _, r := range removed {
			log.Info("removed a temporary file left by an interrupted run", "file", r)
		}
		if err != nil {
			log.Warn("cannot remove a stale temporary file", "err", err)
		}
	}
}

// defaultWorkerBinary makes workers run this very binary (built with the
// image's GDAL and ONNX Runtime) unless --worker_binary names another;
// without one the SDK would try to compile the program from source.
func defaultWorkerBinary() {
	env := strings.ToLower(*jobopts.EnvironmentType)
	if *jobopts.WorkerBinary != "" || env == "loopback" {
		return
	}
	if exe, err := os.Executable(); err == nil {
		*jobopts.WorkerBinary = exe
	}
}

type total struct {
	Kind                        string
	Scenes, OK, Skipped, Failed int
}

// readTotal reads the totals line of summary.jsonl.
func readTotal(path string) (total, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return total{}, fmt.Errorf("summary: %w", err)
	}
	var t total
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		if err := json.Unmarshal(sc.Bytes(), &t); err != nil {
			return total{}, fmt.Errorf("%s: %w", path, err)
		}
	}
	if t.Kind != "total" {
		return total{}, fmt.Errorf("%s: no totals line", path)
	}
	return t, nil
}

package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners"

	"github.com/omnimask/omnimask/eval"
	"github.com/omnimask/omnimask/internal/cmdline"
)

func init() {
	beam.RegisterType(reflect.TypeOf((*evalPart)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*evalParts)(nil)).Elem())
	register.DoFn3x1[context.Context, int, func(evalPart), error](&evalFn{})
	register.Emitter1[evalPart]()
	register.Combiner3[evalParts, evalPart, evalParts](&evalCombineFn{})
	register.DoFn2x1[context.Context, evalParts, error](&writeReportFn{})
}

// EvalConfig is what eval workers need: the engine flags, the run file
// (an absolute path every worker can read), the data root and the steps.
type EvalConfig struct {
	Engine   Config
	RunFile  string // as given on the command line: reports name it
	RunAbs   string
	DataRoot string // absolute; the run's data root when not overridden
	Steps    []eval.Step
	Previews string // folder for previews, or ""
	Out      string
}

// buildEvalPipeline is `omnimask eval` as a pipeline: scene indexes →
// (reshuffle) → one evaluation per scene on the worker's engine → a
// CombineFn joining the per-scene reports → the report, written by
// eval.Report.Write as `omnimask eval` writes it.
func buildEvalPipeline(n int, cfg EvalConfig) *beam.Pipeline {
	p, s := beam.NewPipelineWithRoot()
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	scenes := beam.Reshuffle(s, beam.CreateList(s, idx))
	parts := beam.ParDo(s.Scope("evaluate"), &evalFn{Cfg: cfg}, scenes)
	all := beam.Combine(s.Scope("combine"), &evalCombineFn{}, parts)
	beam.ParDo0(s.Scope("write-report"), &writeReportFn{Cfg: cfg}, all)
	return p
}

// evalPart is the report of one scene (at every step), as JSON.
type evalPart struct {
	Index  int
	Report string
}

type evalParts struct{ Parts []evalPart }

// evalFn evaluates one scene of the run per element.
type evalFn struct {
	Cfg EvalConfig

	w   *worker
	run *eval.Run
}

func (f *evalFn) Setup() error {
	run, err := eval.LoadRunFile(f.Cfg.RunAbs)
	if err != nil {
		return err
	}
	f.run = run
	f.w, err = acquireWorker(f.Cfg.Engine)
	return err
}

func (f *evalFn) Teardown() error {
	if f.w != nil {
		f.w.release()
		f.w = nil
	}
	return nil
}

func (f *evalFn) ProcessElement(ctx context.Context, i int, emit func(evalPart)) error {
	inflight.Add()
	defer inflight.Done()
	if i < 0 || i >= len(f.run.Scenes) {
		return fmt.Errorf("%s: no scene %d (the run file changed?)", f.Cfg.RunAbs, i)
	}
	sub := *f.run
	sub.Scenes = f.run.Scenes[i : i+1]
	opts := eval.Options{Steps: f.Cfg.Steps, DataRoot: f.Cfg.DataRoot, PreviewDir: f.Cfg.Previews}
	select {
	case f.w.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	predictCalls.Add(1)
	rep, err := eval.Evaluate(ctx, f.w.eng, &sub, opts)
	<-f.w.slots
	if err != nil {
		return err
	}
	b, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	if t := tracker.Load(); t != nil {
		t.evalScene(f.run.Scenes[i].Name, rep.Failed())
	}
	emit(evalPart{Index: i, Report: string(b)})
	return nil
}

// evalCombineFn gathers the per-scene reports; the order they arrive in
// does not matter (they are sorted by scene index when extracted).
type evalCombineFn struct{}

func (evalCombineFn) CreateAccumulator() evalParts { return evalParts{} }
func (evalCombineFn) AddInput(a evalParts, p evalPart) evalParts {
	a.Parts = append(a.Parts, p)
	return a
}
func (evalCombineFn) MergeAccumulators(a, b evalParts) evalParts {
	a.Parts = append(a.Parts, b.Parts...)
	return a
}
func (evalCombineFn) ExtractOutput(a evalParts) evalParts {
	slices.SortFunc(a.Parts, func(x, y evalPart) int { return x.Index - y.Index })
	return a
}

// writeReportFn merges the parts into the run's report and writes it.
type writeReportFn struct{ Cfg EvalConfig }

func (f *writeReportFn) ProcessElement(_ context.Context, all evalParts) error {
	run, err := eval.LoadRunFile(f.Cfg.RunAbs)
	if err != nil {
		return err
	}
	run.Path = f.Cfg.RunFile
	if len(all.Parts) != len(run.Scenes) {
		return fmt.Errorf("eval: %d scene reports for %d scenes", len(all.Parts), len(run.Scenes))
	}
	reps := make([]*eval.Report, len(all.Parts))
	for i, p := range all.Parts {
		if p.Index != i {
			return fmt.Errorf("eval: scene %d reported as %d", i, p.Index)
		}
		reps[i] = new(eval.Report)
		if err := json.Unmarshal([]byte(p.Report), reps[i]); err != nil {
			return fmt.Errorf("eval: scene %d: %w", i, err)
		}
	}
	rep, err := eval.Merge(run, reps)
	if err != nil {
		return err
	}
	return rep.Write(f.Cfg.Out)
}

// checkSteps checks --scales and --resolutions (cmdline.CheckSteps).
func checkSteps(scales, resolutions string) ([]eval.Step, error) {
	steps, err := cmdline.CheckSteps(scales, resolutions)
	if err != nil {
		return nil, cmdline.Usagef("%s", err)
	}
	return steps, nil
}

// runEval is `omnimask-batch eval RUNFILE [flags]`: the flags of `omnimask
// eval`, Beam's flags, and the same report files.
func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	*runners.Runner = ""
	own := flag.NewFlagSet("omnimask-batch eval", flag.ContinueOnError)
	var f flags
	f.EngineFlags.Register(own)
	data := own.String("data", "", "folder the run's scene and mask paths are relative to (overrides the run file's data_root)")
	scales := own.String("scales", "", "resolution sweep: factors of each scene's native pixel size, e.g. 1,2,3,5 (default 1)")
	resolutions := own.String("resolutions", "", "resolution sweep: processing resolutions in metres, e.g. 30,60")
	out := own.String("out", "", "folder for report.md, metrics.csv, metrics.json and plots (default ./eval-out/RUNNAME)")
	previews := own.Bool("previews", false, "also write a PNG per scene and step into OUT/previews: prediction, reference, disagreement")
	own.IntVar(&f.parallel, "parallel", 1, "scenes evaluated at once per worker process (the engine already uses all cores for one)")
	fs := flag.NewFlagSet("omnimask-batch eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	own.VisitAll(func(fl *flag.Flag) { fs.Var(fl.Value, fl.Name, fl.Usage) })
	beamNames := beamFlags(fs)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: omnimask-batch eval RUNFILE [flags]\n\n`omnimask eval` as a Beam pipeline: scenes are scored in parallel and\ncombined into the same report.\n\nFlags:\n")
		own.SetOutput(stderr)
		own.PrintDefaults()
		fmt.Fprintf(stderr, "\nBeam pipeline flags, passed to the runner:\n  %s\n", wrap(beamNames, 76))
	}
	pos, err := cmdline.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return cmdline.Usagef("want one RUNFILE, got %d arguments", len(pos))
	}
	f.Sensor, f.Blend.Window = "auto", 0
	engCfg, err := f.config(setFlags(fs))
	if err != nil {
		return err
	}
	steps, err := checkSteps(*scales, *resolutions)
	if err != nil {
		return err
	}
	runner := *runners.Runner
	if runner == "" {
		runner = "prism"
	}
	if err := checkRunner(runner); err != nil {
		return err
	}
	run, err := eval.LoadRunFile(pos[0])
	if err != nil {
		return fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "eval: "))
	}
	dir, err := cmdline.EvalDir(*data, *out, run.Name)
	if err != nil {
		return err
	}
	cfg := EvalConfig{Engine: engCfg, RunFile: pos[0], Steps: steps}
	if cfg.RunAbs, err = filepath.Abs(pos[0]); err != nil {
		return err
	}
	if cfg.DataRoot, err = filepath.Abs(run.Root(*data)); err != nil {
		return err
	}
	if cfg.Out, err = filepath.Abs(dir); err != nil {
		return err
	}
	if *previews {
		cfg.Previews = filepath.Join(cfg.Out, "previews")
	}
	if len(run.Scenes) == 0 {
		return fmt.Errorf("%s: no scenes", pos[0])
	}

	beamInit(engCfg.Verbose)
	if runner == "prism" {
		var w io.Writer = stderr
		logSink.Store(&w)
		defer logSink.Store(nil)
		prog := newProgress(stderr, engCfg.logger(stderr), len(run.Scenes), engCfg.Quiet)
		tracker.Store(prog)
		defer func() { tracker.Store(nil); prog.finish() }()
	} else {
		defaultWorkerBinary()
	}
	// Stale reports must not pass for this run's.
	for _, name := range []string{eval.MarkdownFile, eval.JSONFile, eval.CSVFile} {
		os.Remove(filepath.Join(cfg.Out, name))
	}
	_, err = beam.Run(ctx, runner, buildEvalPipeline(len(run.Scenes), cfg))
	inflight.Wait()
	closeWorkers()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		return fmt.Errorf("pipeline (%s): %w", runner, err)
	}
	b, err := os.ReadFile(filepath.Join(cfg.Out, eval.JSONFile))
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	var rep eval.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(cfg.Out, eval.JSONFile), err)
	}
	if err := rep.WriteMarkdown(stdout, false); err != nil {
		return err
	}
	if !engCfg.Quiet {
		fmt.Fprintf(stderr, "reports in %s\n", dir)
	}
	if n := rep.Failed(); n > 0 {
		return fmt.Errorf("%d of %d scene predictions failed (see %s)", n, len(rep.Scenes), filepath.Join(dir, eval.MarkdownFile))
	}
	return nil
}

package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/omnimask/omnimask/engine"
	"github.com/omnimask/omnimask/eval"
	"github.com/omnimask/omnimask/internal/cmdline"
)

// runEval scores a model against the reference masks of a run file: it
// prints the Markdown summary on stdout, progress on stderr, and writes
// report.md, metrics.csv, metrics.json and PNG plots into --out.
func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("eval", "RUNFILE [flags]", stderr)
	var ef engineFlags
	ef.Register(fs)
	data := fs.String("data", "", "folder the run's scene and mask paths are relative to (overrides the run file's data_root)")
	scales := fs.String("scales", "", "resolution sweep: factors of each scene's native pixel size, e.g. 1,2,3,5 (default 1)")
	resolutions := fs.String("resolutions", "", "resolution sweep: processing resolutions in metres, e.g. 30,60")
	out := fs.String("out", "", "folder for report.md, metrics.csv, metrics.json and plots (default ./eval-out/RUNNAME)")
	previews := fs.Bool("previews", false, "also write a PNG per scene and step into OUT/previews: prediction, reference, disagreement")
	pos, err := cmdline.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return usagef("want one RUNFILE, got %d arguments", len(pos))
	}
	if err := ef.check(setFlags(fs)); err != nil {
		return err
	}
	steps, err := checkSteps(*scales, *resolutions)
	if err != nil {
		return err
	}
	run, err := eval.LoadRunFile(pos[0])
	if err != nil {
		return evalErr{err}
	}
	dir, err := cmdline.EvalDir(*data, *out, run.Name)
	if err != nil {
		return err
	}

	e, err := engine.New(ef.options(stderr))
	if err != nil {
		return err
	}
	defer e.Close()
	opts := eval.Options{Steps: steps, DataRoot: *data}
	if !ef.Quiet {
		opts.Progress = stderr
	}
	if *previews {
		opts.PreviewDir = filepath.Join(dir, "previews")
	}
	rep, err := eval.Evaluate(ctx, e, run, opts)
	if err != nil {
		return evalErr{err}
	}
	if err := rep.Write(dir); err != nil {
		return evalErr{err}
	}
	if err := rep.WriteMarkdown(stdout, false); err != nil {
		return err
	}
	if !ef.Quiet {
		fmt.Fprintf(stderr, "reports in %s\n", dir)
	}
	if n := rep.Failed(); n > 0 {
		return fmt.Errorf("%d of %d scene predictions failed (see %s)", n, len(rep.Scenes), filepath.Join(dir, eval.MarkdownFile))
	}
	return nil
}

// evalErr drops the package prefix of eval's errors, which main already
// prefixes with "omnimask eval:".
type evalErr struct{ error }

func (e evalErr) Error() string { return strings.TrimPrefix(e.error.Error(), "eval: ") }
func (e evalErr) Unwrap() error { return e.error }

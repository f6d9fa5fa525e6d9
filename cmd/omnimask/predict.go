package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/omnimask/omnimask/internal/cmdline"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/omnimask/omnimask/engine"
	"github.com/omnimask/omnimask/internal/quicklook"
)

func runPredict(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	start := time.Now()
	fs := newFlagSet("predict", "SCENE... [flags]", stderr)
	var ef engineFlags
	var rf requestFlags
	ef.Register(fs)
	rf.Register(fs)
	outDir := fs.String("output-dir", "", "folder for the masks (default: beside each scene)")
	output := fs.String("o", "", "mask file (one scene only; default SCENE_omnimask.tif)")
	stack := fs.Bool("stack", false, "treat all SCENE files as the bands of one scene, stacked in order")
	conf := fs.String("confidence", "", "also write per-class probabilities: uint8 (0..254 = 0..1, 255 nodata) or float32")
	preview := fs.String("preview", "", "write a PNG quick look with the mask overlaid (one scene only, or a folder)")
	scenes, err := cmdline.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(scenes) == 0 {
		fs.Usage()
		return usagef("no scene given")
	}
	set := setFlags(fs)
	if err := ef.check(set); err != nil {
		return err
	}
	if err := rf.check(set); err != nil {
		return err
	}
	if err := checkSensor(rf.Sensor); err != nil {
		return err
	}
	req := rf.request(set)
	switch strings.ToLower(*conf) {
	case "":
	case "uint8", "u8":
		req.Confidence = engine.ConfidenceUint8
	case "float32", "f32":
		req.Confidence = engine.ConfidenceFloat32
	default:
		return usagef("--confidence %q: want uint8 or float32", *conf)
	}
	groups := sceneGroups(scenes, *stack)
	if *output != "" && len(groups) > 1 {
		return usagef("-o names one file but %d scenes were given (use --output-dir)", len(groups))
	}
	if *outDir != "" {
		if st, err := os.Stat(*outDir); err != nil {
			return fmt.Errorf("%s: output folder does not exist", *outDir)
		} else if !st.IsDir() {
			return usagef("--output-dir %s: not a folder", *outDir)
		}
	}
	if *preview != "" && len(groups) > 1 {
		if st, err := os.Stat(*preview); err != nil || !st.IsDir() {
			return usagef("--preview %s: give a folder when predicting several scenes", *preview)
		}
	}
	outputs := make([]string, len(groups))
	seen := map[string]string{}
	for i, g := range groups {
		outputs[i] = *output
		if outputs[i] == "" {
			outputs[i] = cmdline.MaskPath(g[0], *outDir)
		}
		if prev, dup := seen[filepath.Clean(outputs[i])]; dup {
			return usagef("%s and %s would both write %s (use separate --output-dir runs)", prev, g[0], outputs[i])
		}
		seen[filepath.Clean(outputs[i])] = g[0]
	}

	log := ef.logger(stderr)
	e, err := engine.New(ef.options(stderr))
	if err != nil {
		return err
	}
	defer e.Close()
	if err := rf.checkTiling(set, e); err != nil {
		return err
	}
	if err := checkRunOutputs(e, groups, outputs, req, *preview); err != nil {
		return err
	}
	removeStale(log, runOutputs(outputs, req, *preview), start)

	failed := 0
	for i, g := range groups {
		if err := ctx.Err(); err != nil {
			return err
		}
		r := req
		r.Output = outputs[i]
		bar := newProgress(stderr, oneLine(filepath.Base(g[0])), ef.Quiet)
		r.Progress = bar.update
		res, err := e.PredictFile(ctx, g, r)
		bar.done()
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return err
			}
			fmt.Fprintf(stderr, "omnimask predict: %s\n", oneLine(explain(err)))
			failed++
			continue
		}
		log.Info("predicted", "scene", g[0], "output", res.Output, "size", fmt.Sprintf("%dx%d", res.Plan.Size.X, res.Plan.Size.Y),
			"patches", res.Plan.Patches, "skipped", res.Skipped, "elapsed", res.Elapsed.Round(time.Millisecond), "inference", res.InferTime.Round(time.Millisecond))
		if !ef.Quiet {
			summarise(stdout, e, res)
		}
		if *preview != "" {
			pp := previewPath(*preview, res.Output)
			// The rasters the engine read, not the arguments: a product
			// folder, MTL or MTD file names them, and the plan's band
			// indices refer to them.
			disp, _ := quicklook.DisplayBands(res.Plan.SceneBands, res.Plan.BandIndex[0], res.Plan.BandIndex[min(1, len(res.Plan.BandIndex)-1)])
			if err := quicklook.WriteFiles(pp, res.Plan.Files, disp, res.Output, e.Classes()); err != nil {
				fmt.Fprintf(stderr, "omnimask predict: %s\n", oneLine(err.Error()))
				failed++
				continue
			}
			log.Debug("preview written", "path", pp)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d scenes failed", failed, len(groups))
	}
	return nil
}

// sceneGroups returns one group of files per scene: every argument alone,
// or all of them as the bands of one scene with --stack.
func sceneGroups(args []string, stack bool) [][]string {
	if stack {
		return [][]string{args}
	}
	groups := make([][]string, len(args))
	for i, a := range args {
		groups[i] = []string{a}
	}
	return groups
}

func summarise(w io.Writer, e *engine.Engine, res *engine.Result) {
	p := res.Plan
	total := int64(p.Size.X) * int64(p.Size.Y)
	fmt.Fprintf(w, "%s  %dx%d", oneLine(res.Output), p.Size.X, p.Size.Y)
	if p.ProcRes > 0 {
		fmt.Fprintf(w, "  at %.4g m", p.ProcRes)
	}
	fmt.Fprintf(w, "  %d patches (%d skipped)  %s\n", p.Patches, res.Skipped, res.Elapsed.Round(time.Millisecond))
	for _, c := range e.Classes() {
		n := res.ClassCounts[c.ID]
		fmt.Fprintf(w, "  %-14s %6.2f%%\n", c.Name, 100*float64(n)/float64(total))
	}
	if n := res.ClassCounts[255]; n > 0 {
		fmt.Fprintf(w, "  %-14s %6.2f%%\n", "nodata", 100*float64(n)/float64(total))
	}
	if res.ConfidenceOutput != "" {
		fmt.Fprintf(w, "  probabilities: %s\n", oneLine(res.ConfidenceOutput))
	}
}

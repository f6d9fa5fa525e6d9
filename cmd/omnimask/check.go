package main

import (
	"context"
	"fmt"
	"image"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/omnimask/omnimask/engine"
	"github.com/omnimask/omnimask/internal/cmdline"
	"github.com/omnimask/omnimask/models"
	"github.com/omnimask/omnimask/raster"
)

// runModelsCheck loads each model as predict would (manifest against the
// graph, the load-time probe run), prints its contract and times it on a
// synthetic scene: omnimask models check MODEL.onnx...
func runModelsCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("models check", "MODEL.onnx... [flags]", stderr)
	ortLib := fs.String("ort-lib", "", "path to libonnxruntime.so")
	size := fs.Int("size", 1024, "side in pixels of the synthetic scene timed (32..8192)")
	threads := fs.Int("threads", 0, "inference threads (default: all cores)")
	refs, err := cmdline.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(refs) == 0 {
		return usagef("models check: no model given")
	}
	if *size < 32 || *size > 8192 {
		return usagef("--size %d outside 32..8192", *size)
	}
	for _, ref := range refs {
		if err := checkModel(ctx, ref, *ortLib, *size, *threads, stdout); err != nil {
			return err
		}
	}
	return nil
}

func checkModel(ctx context.Context, ref, lib string, size, threads int, w io.Writer) error {
	e, err := engine.New(engine.Options{Models: []string{ref}, ORTLibrary: lib, Threads: threads})
	if err != nil {
		return err
	}
	defer e.Close()
	m := e.Manifest()
	fmt.Fprintf(w, "%s: ok (manifest matches the graph; probe run passed)\n", ref)
	fmt.Fprintf(w, "  model       %s %s — %s\n", m.Name, m.Version, m.Description)
	units := m.InputUnits
	if units == "" {
		units = models.AnyUnits
	}
	norm := m.Normalization.Kind
	if m.Normalization.Kind == models.Fixed {
		norm += fmt.Sprintf(" (mean %v, std %v)", m.Normalization.Mean, m.Normalization.Std)
	}
	fmt.Fprintf(w, "  input       N x %d x H x W float32: %s; units %s; normalisation %s; nodata fill %g\n",
		len(m.Bands), strings.Join(m.Bands, ", "), units, norm, m.NoDataFill)
	multiple, fixed := e.PatchRule()
	tiling := fmt.Sprintf("patch %d, overlap %d, sides a multiple of %d", m.PatchSize, m.Overlap, multiple)
	if fixed > 0 {
		tiling = fmt.Sprintf("fixed %dx%d patches, overlap %d", fixed, fixed, m.Overlap)
	}
	fmt.Fprintf(w, "  tiling      %s\n", tiling)
	fmt.Fprintf(w, "  resolution  %g m (supported %g-%g m; 0 = unbounded)\n", m.ResolutionM, m.MinResolution, m.MaxResolution)
	out := fmt.Sprintf("%s, %d channel(s)", m.Output, m.OutputChannels())
	switch m.Output {
	case models.Sigmoid:
		out += fmt.Sprintf(", threshold %g, blended in logit space", m.SigmoidThreshold())
	case models.ClassIndex:
		out += ", blended by hard vote"
	}
	fmt.Fprintf(w, "  output      %s\n", out)
	var cls []string
	for _, c := range m.Classes {
		cls = append(cls, fmt.Sprintf("%d %s", c.ID, c.Name))
	}
	fmt.Fprintf(w, "  classes     %s\n", strings.Join(cls, ", "))

	// Speed on this machine: a synthetic scene of random values in 0..1
	// (given as reflectance to models that want it), no resampling.
	sc := &engine.Scene{Bands: raster.NewFloat32(len(m.Bands), image.Rect(0, 0, size, size)), Names: m.Bands}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range sc.Bands.Pix {
		sc.Bands.Pix[i] = rng.Float32()
	}
	req := engine.Request{NoResample: true}
	if m.WantsReflectance() {
		req.Scale = []float64{1}
	}
	t0 := time.Now()
	res, err := e.Predict(ctx, sc, req)
	if err != nil {
		return fmt.Errorf("%s: timing run: %w", ref, err)
	}
	d := time.Since(t0)
	mpx := float64(size*size) / 1e6
	fmt.Fprintf(w, "  speed       %.0f ms per Mpx (%dx%d scene, %d patches of %d px, %s)\n",
		float64(d.Milliseconds())/mpx, size, size, res.Plan.Patches, res.Plan.Patch, d.Round(time.Millisecond))
	return nil
}

// Package eval scores a model against reference masks: it reads a run
// description (scenes, reference masks, sensors, band mappings and label
// maps), predicts every scene through the engine — optionally at a sweep of
// coarser resolutions — and reports confusion matrices, per-group
// precision, recall, F1, IoU and balanced overall accuracy (BOA), overall
// accuracy and Cohen's kappa per scene, per sensor and overall, as Markdown,
// CSV, JSON and PNG plots.
//
// Scoring is done per pixel on the scene's native grid. For a sweep step
// coarser than native, the engine area-averages the scene to the coarser
// grid (simulating a coarser sensor), predicts there and upsamples the class
// logits bilinearly back to the native grid, so the mask is scored
// against the full-resolution reference.
package eval

import (
	"context"
	"fmt"
	"image"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/omnimask/omnimask/engine"
	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/raster"
)

// Method describes how scenes are degraded and scored; it is repeated in the
// reports.
const Method = "Each scene is predicted through the engine (engine.PredictFile). " +
	"For a step coarser than native, the engine area-averages the scene to the coarser grid " +
	"(simulating a coarser sensor), predicts there and upsamples the class logits " +
	"bilinearly back to the native grid; the mask is scored per pixel against the " +
	"full-resolution reference. Reference pixels that are nodata or whose code is not in the " +
	"label map are ignored (counted as \"ignored\"). Valid reference pixels the model leaves " +
	"as nodata are counted (\"pred nodata\") and scored as misses. " +
	"BOA = (TPR + TNR) / 2 per group, one group against the rest. " +
	"Aggregates pool the confusion matrices of their scenes."

// Step is one point of a resolution sweep: a factor of the scene's native
// pixel size, or an absolute processing resolution.
type Step struct {
	Scale      float64 `json:"scale,omitempty"`        // factor of the native pixel size
	Resolution float64 `json:"resolution_m,omitempty"` // processing resolution in metres
}

// String returns "x2" for a scale and "60 m" for a resolution.
func (s Step) String() string {
	if s.Resolution > 0 {
		return strconv.FormatFloat(s.Resolution, 'g', -1, 64) + " m"
	}
	return "x" + strconv.FormatFloat(s.Scale, 'g', -1, 64)
}

func (s Step) slug() string { return strings.ReplaceAll(s.String(), " ", "") }

// ParseSteps parses comma-separated scale factors ("1,2,3,5") and
// processing resolutions in metres ("30,60") into sweep steps, scales
// first. Both empty means native resolution only.
func ParseSteps(scales, resolutions string) ([]Step, error) {
	var steps []Step
	seen := map[Step]bool{}
	for i, list := range []string{scales, resolutions} {
		if strings.TrimSpace(list) == "" {
			continue
		}
		for _, f := range strings.Split(list, ",") {
			v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil || !(v > 0) || math.IsInf(v, 0) || (i == 0 && v > 100) {
				return nil, fmt.Errorf("eval: %q is not a valid %s", f, [2]string{"scale (0 < s <= 100)", "resolution in metres (r > 0)"}[i])
			}
			s := Step{Scale: v}
			if i == 1 {
				s = Step{Resolution: v}
			}
			if seen[s] {
				return nil, fmt.Errorf("eval: step %v given twice", s)
			}
			seen[s] = true
			steps = append(steps, s)
		}
	}
	if len(steps) == 0 {
		steps = []Step{{Scale: 1}}
	}
	return steps, nil
}

// Options control an evaluation.
type Options struct {
	// Steps is the resolution sweep; empty means native resolution only.
	Steps []Step
	// DataRoot, when set, replaces the run's data_root (relative to the
	// working directory).
	DataRoot string
	// PreviewDir, when set, receives a PNG per scene and step: prediction,
	// reference and disagreement side by side.
	PreviewDir string
	// Progress receives a line per prediction; nil is silent.
	Progress io.Writer
}

// Evaluate predicts every scene of the run with e at every step and scores
// it. A scene that cannot be read or predicted is reported with its error
// (see Report.Failed) and the evaluation goes on; only set-up errors and
// cancellation end it early.
func Evaluate(ctx context.Context, e *engine.Engine, run *Run, opts Options) (*Report, error) {
	steps := opts.Steps
	if len(steps) == 0 {
		steps = []Step{{Scale: 1}}
	}
	if run.Product != "" {
		pe, err := e.ForProduct(run.Product)
		if err != nil {
			return nil, fmt.Errorf("eval: %s: %w", runName(run), err)
		}
		e = pe
	}
	sc, err := newScorer(e, run)
	if err != nil {
		return nil, err
	}
	rep := &Report{Run: run.Name, RunFile: run.Path, Description: run.Description,
		Models: e.Models(), Product: run.Product, Groups: run.Groups, Steps: steps, Method: Method}
	if m := e.TTA(); m.Calls() > 1 {
		rep.TTA = m.String()
	}
	root := run.Root(opts.DataRoot)
	total, done := len(run.Scenes)*len(steps), 0
	for _, s := range run.Scenes {
		results, err := sc.scene(ctx, root, s, steps, opts, func(r SceneResult) {
			done++
			if opts.Progress != nil {
				fmt.Fprintf(opts.Progress, "[%d/%d] %s\n", done, total, r.line())
			}
		})
		if err != nil {
			return nil, err
		}
		rep.Scenes = append(rep.Scenes, results...)
	}
	rep.aggregate()
	return rep, nil
}

// scorer holds what scoring needs of the model and the run.
type scorer struct {
	e          *engine.Engine
	names      []string
	classGroup [256]int   // model class id -> group index, -1 = none (nodata)
	groupClass []int      // group -> its first class (shown for group-level labels)
	colors     [][3]uint8 // by model class id
}

func newScorer(e *engine.Engine, run *Run) (*scorer, error) {
	sc := &scorer{e: e, colors: make([][3]uint8, 256)}
	for i := range sc.classGroup {
		sc.classGroup[i] = -1
	}
	known := map[int]bool{}
	for _, c := range e.Classes() {
		known[c.ID] = true
		if c.ID >= 0 && c.ID < 256 {
			sc.colors[c.ID] = c.Color
		}
	}
	for gi, g := range run.Groups {
		sc.names = append(sc.names, g.Name)
		sc.groupClass = append(sc.groupClass, g.Classes[0])
		for _, c := range g.Classes {
			if !known[c] {
				return nil, fmt.Errorf("eval: %s: group %q: the model has no class %d", runName(run), g.Name, c)
			}
			sc.classGroup[c] = gi
		}
	}
	for _, c := range e.Classes() {
		if c.ID < 0 || c.ID > 254 || sc.classGroup[c.ID] < 0 {
			return nil, fmt.Errorf("eval: %s: the model's class %d (%s) is in no scoring group", runName(run), c.ID, c.Name)
		}
	}
	return sc, nil
}

func runName(r *Run) string {
	if r.Path != "" {
		return r.Path
	}
	return r.Name
}

// scene predicts and scores one scene at every step; emit is called after
// each step.
func (sc *scorer) scene(ctx context.Context, root string, s Scene, steps []Step, opts Options, emit func(SceneResult)) ([]SceneResult, error) {
	paths := make([]string, len(s.Image))
	for i, p := range s.Image {
		paths[i] = resolve(root, p)
	}
	base := engine.Request{Bands: s.Bands, BandsByPosition: true, Resolution: s.Resolution, Scale: s.Scale, Offset: s.Offset}
	results := make([]SceneResult, len(steps))
	for i := range steps {
		results[i] = SceneResult{Scene: s.Name, Sensor: s.Sensor, Step: i}
	}
	fail := func(err error) []SceneResult {
		for i := range results {
			results[i].Error = err.Error()
			emit(results[i])
		}
		return results
	}
	probe := base
	probe.NoResample = true
	plan, err := sc.e.Inspect(ctx, paths, probe)
	if err != nil {
		return fail(err), nil
	}
	native := math.Sqrt(plan.NativeRes[0] * plan.NativeRes[1])
	ref, err := sc.reference(resolve(root, s.Mask), plan.Size, s.LabelMap)
	if err != nil {
		return fail(err), nil
	}
	for i, st := range steps {
		r := &results[i]
		r.Width, r.Height, r.NativeRes = plan.Size.X, plan.Size.Y, native
		req := base
		switch {
		case st.Resolution > 0 && native > 0:
			req.ProcessingResolution = st.Resolution
		case st.Scale > 0 && native > 0:
			req.ProcessingResolution = native * st.Scale
		case st.Scale == 1:
			req.NoResample = true
		default:
			r.Error = fmt.Sprintf("%s: native resolution unknown (not georeferenced, no resolution_m): cannot process at %v", paths[0], st)
			emit(*r)
			continue
		}
		res, err := sc.e.PredictFile(ctx, paths, req)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			r.Error = err.Error()
			emit(*r)
			continue
		}
		if res.Mask == nil || res.Mask.Rect.Size() != plan.Size {
			r.Error = fmt.Sprintf("%s: the engine returned no mask of the scene's size", paths[0])
			emit(*r)
			continue
		}
		r.ProcRes, r.Scale = res.Plan.ProcRes, 1
		if native > 0 && r.ProcRes > 0 {
			r.Scale = r.ProcRes / native
		}
		r.ProcWidth, r.ProcHeight = res.Plan.ProcSize.X, res.Plan.ProcSize.Y
		r.Seconds = res.Elapsed.Seconds()
		t0 := time.Now()
		r.Confusion = sc.score(ref, res.Mask)
		m := r.Confusion.Metrics(sc.names)
		r.Metrics = &m
		r.Seconds += time.Since(t0).Seconds()
		if opts.PreviewDir != "" {
			name := sanitize(s.Sensor+"_"+s.Name+"_"+st.slug()) + ".png"
			if err := sc.preview(opts.PreviewDir, name, res.Mask, ref); err != nil {
				return nil, err
			}
		}
		emit(*r)
	}
	return results, nil
}

// reference reads a reference mask and maps its codes to model class ids
// (255 = ignored); a code mapped to a group shows as the group's first class.
func (sc *scorer) reference(path string, size image.Point, lm LabelMap) (*image.Gray, error) {
	s, err := gdalio.Open(path)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	if s.Size != size {
		return nil, fmt.Errorf("%s: reference mask is %dx%d, the scene %dx%d", path, s.Size.X, s.Size.Y, size.X, size.Y)
	}
	if err := s.Select([]int{0}); err != nil {
		return nil, err
	}
	buf := raster.NewFloat32(1, image.Rectangle{Max: size})
	if err := s.Read(buf); err != nil {
		return nil, err
	}
	groupIdx := map[string]int{}
	for gi, n := range sc.names {
		groupIdx[n] = gi
	}
	out := image.NewGray(image.Rectangle{Max: size})
	for i, v := range buf.Pix {
		out.Pix[i] = 255
		code := math.Round(float64(v))
		if code != float64(v) || math.Abs(code) > math.MaxInt32 {
			continue // NaN, fractional or out of range: not a code
		}
		l, ok := lm[int(code)]
		switch {
		case !ok || l.Ignore:
		case l.Group != "":
			out.Pix[i] = uint8(sc.groupClass[groupIdx[l.Group]])
		default:
			out.Pix[i] = uint8(l.Class)
		}
	}
	return out, nil
}

// score tallies a predicted mask against a reference of class ids.
func (sc *scorer) score(ref, pred *image.Gray) *Confusion {
	c := NewConfusion(len(sc.names))
	size := ref.Rect.Size()
	for y := 0; y < size.Y; y++ {
		rr := ref.Pix[y*ref.Stride : y*ref.Stride+size.X]
		pr := pred.Pix[pred.PixOffset(pred.Rect.Min.X, pred.Rect.Min.Y+y):][:size.X]
		for x, r := range rr {
			if r == 255 {
				c.Ignored++
				continue
			}
			c.Add(sc.classGroup[r], sc.classGroup[pr[x]])
		}
	}
	return c
}

// line is a one-line summary for progress output.
func (r SceneResult) line() string {
	if r.Error != "" {
		return fmt.Sprintf("%s/%s step %d: FAILED: %s", r.Sensor, r.Scene, r.Step+1, r.Error)
	}
	return fmt.Sprintf("%s/%s x%.3g (%s): OA %s, kappa %s, mean BOA %s (%.1f s)", r.Sensor, r.Scene, r.Scale,
		resLabel(r.ProcRes), r.Metrics.Accuracy.Format(3, "—"), r.Metrics.Kappa.Format(3, "—"),
		r.Metrics.MeanBOA.Format(3, "—"), r.Seconds)
}

func resLabel(m float64) string {
	if m <= 0 {
		return "native"
	}
	return strconv.FormatFloat(m, 'g', 4, 64) + " m"
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == '.' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') {
			return r
		}
		return '_'
	}, s)
}

package engine

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"path/filepath"
	"strings"
	"time"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/internal/liberr"
	"github.com/omnimask/omnimask/internal/product"
	"github.com/omnimask/omnimask/models"
	"github.com/omnimask/omnimask/raster"
)

// ErrOutputIsInput is returned when the output would overwrite an input.
var ErrOutputIsInput = errors.New("engine: output path is an input file")

// Inspect opens a scene (one file, or per-band files stacked) and returns
// the plan a prediction with req would follow, reading no pixels. When the
// files open but cannot be predicted with req, it returns what is known of
// them (Files, Driver, Source, Size, Geo) with the error.
func (e *Engine) Inspect(ctx context.Context, paths []string, req Request) (*Plan, error) {
	if res, ok, err := onProduct(e, req, func(s *Engine, r Request) (*Plan, error) { return s.Inspect(ctx, paths, r) }); ok {
		return res, err
	}
	ctx, done, err := e.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	if err := ctx.Err(); err != nil {
		return nil, shutErr(ctx, context.Cause(ctx))
	}
	s, p, err := e.open(paths, req)
	if err != nil {
		return p, classify(err, true)
	}
	s.Close()
	return p, nil
}

// open resolves the inputs, opens them as one scene and plans the run with
// the first of the engine's variants whose bands the scene has and whose
// models support the pixel size they see (see choose: a product whose
// water model is water-cnn at 10 m, MNDWI when there is a SWIR band, NDWI
// otherwise).
func (e *Engine) open(paths []string, req Request) (*gdalio.Scene, *Plan, error) {
	scenes := map[*Plan]*gdalio.Scene{}
	p, err := e.choose(func(v *variant) (*Plan, func(), error) {
		s, p, err := e.openVariant(v, paths, req)
		if err != nil {
			return p, nil, err
		}
		scenes[p] = s
		return p, func() { s.Close() }, nil
	})
	if err != nil {
		return nil, p, err
	}
	return scenes[p], p, nil
}

// openVariant is open for one variant.
func (e *Engine) openVariant(v *variant, paths []string, req Request) (*gdalio.Scene, *Plan, error) {
	if len(paths) == 0 {
		return nil, nil, errors.New("engine: no input")
	}
	pr, err := product.Open(paths, product.Options{Sensor: req.Sensor, Bands: req.Bands, Want: v.layout.sources})
	if err != nil {
		return nil, nil, err
	}
	s := pr.Scene
	if req.NoData.Set {
		s.SetNoData(req.NoData)
	}
	info := fileInfo(s)
	req.Bands = pr.Spec
	p, err := plan(e.manifest, v.limits(e.limits), info, req)
	if err != nil {
		s.Close()
		p = &Plan{Size: info.size, Geo: info.geo, SceneBands: info.names}
		describeSource(p, pr)
		return nil, p, err
	}
	describeSource(p, pr)
	e.useVariant(p, v)
	if err := resolveUnits(e.manifest, p, pr.Bands, pr.UnitsFrom, req); err != nil {
		s.Close()
		return nil, p, fmt.Errorf("%s: %w", info.name, err)
	}
	p.Notes = append(append(pr.Notes, s.Notes...), p.Notes...)
	if err := s.Select(p.BandIndex); err != nil {
		s.Close()
		return nil, nil, err
	}
	p.Memory += fileMemory(s, paths, p, req)
	return s, p, nil
}

// productOptions is what product resolution needs of a request (with the
// bands of the engine's preferred variant).
func (e *Engine) productOptions(req Request) product.Options {
	return product.Options{Sensor: req.Sensor, Bands: req.Bands, Want: e.variants[0].layout.sources}
}

// outputClasses returns the classes of the mask (the product's, or the
// models'), and the names of the probability channels (a product's: each
// model's classes in turn, a class name two of its models share followed
// by the model's name, e.g. "water (water-cnn)").
func (e *Engine) outputClasses(p *Plan) (classes []models.Class, probs []string) {
	if e.composite == nil {
		for _, c := range e.manifest.Classes {
			probs = append(probs, c.Name)
		}
		return e.manifest.Classes, probs
	}
	seen := map[string]int{}
	for _, m := range p.variant.models {
		for _, c := range m.manifest.Classes {
			seen[c.Name]++
		}
	}
	for _, m := range p.variant.models {
		for _, c := range m.manifest.Classes {
			name := c.Name
			if seen[name] > 1 {
				name += " (" + m.manifest.Name + ")"
			}
			probs = append(probs, name)
		}
	}
	return e.composite.Classes, probs
}

// useVariant records in p the variant it runs.
func (e *Engine) useVariant(p *Plan, v *variant) {
	p.variant = v
	p.Models = v.names()
	if e.composite != nil {
		p.Product = e.composite.Name
	}
}

// describeSource records in p the files a scene is read from.
func describeSource(p *Plan, pr *product.Product) {
	p.Files, p.Sensor, p.Driver = pr.Paths, pr.Sensor, pr.Scene.Driver
	p.Source = pr.Bands
}

func fileInfo(s *gdalio.Scene) sceneInfo {
	info := sceneInfo{name: s.Paths[0], size: s.Size, geo: s.Geo}
	if len(s.Paths) > 1 {
		info.name = strings.Join(s.Paths, " + ")
	}
	for _, b := range s.Bands {
		info.names = append(info.names, b.Name)
		info.bandNoData = append(info.bandNoData, b.NoData)
	}
	if len(s.Bands) > 0 {
		info.nodata = s.Bands[0].NoData
	}
	info.res[0], info.res[1], info.resOK = s.ResolutionM()
	return info
}

// PredictFile predicts a scene read with GDAL from one file (or from per-band
// files stacked in order). With req.Output set it writes a georeferenced
// mask there (atomically); otherwise the mask is returned in memory.
func (e *Engine) PredictFile(ctx context.Context, paths []string, req Request) (*Result, error) {
	if res, ok, err := onProduct(e, req, func(s *Engine, r Request) (*Result, error) { return s.PredictFile(ctx, paths, r) }); ok {
		return res, err
	}
	t0 := time.Now()
	ctx, req, done, err := e.begin(ctx, paths, req)
	if err != nil {
		return nil, classify(err, true)
	}
	defer done()
	s, p, err := e.open(paths, req)
	if err != nil {
		return nil, classify(err, true)
	}
	defer s.Close()
	if err := checkSources(paths, p.Files, req); err != nil {
		return nil, classify(err, true)
	}
	release, err := e.admit(ctx, p, req)
	if err != nil {
		return nil, shutErr(ctx, fmt.Errorf("%s: %w", paths[0], err))
	}
	defer release()
	res, err := e.predict(ctx, p, s, req)
	if err != nil {
		input := aboutInput(err, paths, p.Files)
		if !input {
			err = fmt.Errorf("%s: %w", paths[0], err)
		}
		return nil, shutErr(ctx, classify(err, input))
	}
	res.Elapsed = time.Since(t0)
	return res, nil
}

// Predict predicts an in-memory scene. With req.Output set the mask is also
// written to that file.
func (e *Engine) Predict(ctx context.Context, sc *Scene, req Request) (*Result, error) {
	if res, ok, err := onProduct(e, req, func(s *Engine, r Request) (*Result, error) { return s.Predict(ctx, sc, r) }); ok {
		return res, err
	}
	t0 := time.Now()
	ctx, req, done, err := e.begin(ctx, nil, req)
	if err != nil {
		return nil, classify(err, true)
	}
	defer done()
	res, err := e.predictScene(ctx, sc, req)
	if err != nil {
		return nil, shutErr(ctx, err)
	}
	res.Elapsed = time.Since(t0)
	return res, nil
}

// predictScene is Predict once the call is registered.
func (e *Engine) predictScene(ctx context.Context, sc *Scene, req Request) (*Result, error) {
	p, err := e.planScene(sc, req)
	if err != nil {
		return nil, classify(err, true)
	}
	release, err := e.admit(ctx, p, req)
	if err != nil {
		return nil, fmt.Errorf("in-memory scene: %w", err)
	}
	defer release()
	res, err := e.predict(ctx, p, &memSource{sc.Bands, p.BandIndex}, req)
	return res, classify(err, false)
}

// planScene checks an in-memory scene and plans its prediction.
func (e *Engine) planScene(sc *Scene, req Request) (*Plan, error) {
	if sc == nil || sc.Bands == nil {
		return nil, errors.New("engine: nil scene")
	}
	names := sc.Names
	if len(names) == 0 {
		names = make([]string, sc.Bands.C)
	}
	if len(names) != sc.Bands.C {
		return nil, fmt.Errorf("engine: %d band names for %d bands", len(names), sc.Bands.C)
	}
	r := sc.Bands.Rect
	if r.Min != (image.Point{}) {
		return nil, fmt.Errorf("engine: scene bounds %v must start at (0,0)", r)
	}
	info := sceneInfo{name: "in-memory scene", size: r.Size(), geo: sc.Geo, names: names, nodata: sc.NoData}
	if info.geo.Transform == (raster.GeoTransform{}) {
		info.geo.Transform = raster.Identity
	}
	wkt, err := gdalio.NormalizeCRS(info.geo.CRS)
	if err != nil {
		return nil, err
	}
	info.geo.CRS = wkt
	info.res[0], info.res[1], info.resOK = gdalio.ResolutionM(info.geo, info.size)
	p, err := e.choose(func(v *variant) (*Plan, func(), error) {
		p, err := plan(e.manifest, v.limits(e.limits), info, req)
		if err == nil {
			e.useVariant(p, v)
		}
		return p, nil, err
	})
	if err != nil {
		return nil, err
	}
	if err := resolveUnits(e.manifest, p, nil, "", req); err != nil {
		return nil, fmt.Errorf("%s: %w", info.name, err)
	}
	return p, nil
}

// memSource reads selected channels of an in-memory raster.
type memSource struct {
	m   *raster.Float32
	sel []int
}

func (s *memSource) Read(dst *raster.Float32) error {
	for c, j := range s.sel {
		for y := dst.Rect.Min.Y; y < dst.Rect.Max.Y; y++ {
			src := s.m.Row(j, y)[dst.Rect.Min.X-s.m.Rect.Min.X:]
			copy(dst.Row(c, y), src)
		}
	}
	return nil
}

// checkOutputs checks the request's outputs against the files named (see
// CheckOutputs); PredictFile checks them again against every file the scene
// reads once its inputs are resolved.
func checkOutputs(paths []string, req Request) error {
	if req.Output == "" && req.ConfidenceOutput == "" {
		return nil
	}
	return CheckOutputs(paths, outputFiles(req))
}

// checkSources checks the outputs against every file the scene reads.
func checkSources(paths, files []string, req Request) error {
	if req.Output == "" && req.ConfidenceOutput == "" {
		return nil
	}
	srcs := append([]string(nil), paths...)
	for _, f := range files {
		fs, err := gdalio.Sources(f)
		if err != nil {
			return err
		}
		srcs = append(srcs, fs...)
	}
	return CheckOutputs(srcs, outputFiles(req))
}

// begin registers a prediction in flight (done must be called when it
// ends), derives the confidence file name and checks the outputs against
// the inputs.
func (e *Engine) begin(ctx context.Context, paths []string, req Request) (context.Context, Request, func(), error) {
	ctx, done, err := e.enter(ctx)
	if err != nil {
		return nil, req, nil, err
	}
	req = withConfidencePath(req)
	if err := checkOutputs(paths, req); err != nil {
		done()
		return nil, req, nil, err
	}
	return ctx, req, done, nil
}

// withConfidencePath fills in the derived probabilities file name.
func withConfidencePath(req Request) Request {
	if req.Confidence != NoConfidence && req.Output != "" && req.ConfidenceOutput == "" {
		req.ConfidenceOutput = ConfidencePath(req.Output)
	}
	return req
}

// ConfidencePath derives the probabilities file name from a mask path.
func ConfidencePath(mask string) string {
	ext := filepath.Ext(mask)
	return strings.TrimSuffix(mask, ext) + "_confidence" + ext
}

func (e *Engine) predict(ctx context.Context, p *Plan, src source, req Request) (*Result, error) {
	res := &Result{Plan: *p, Warnings: append([]string(nil), p.Notes...), e: e}
	v := p.variant
	lay := v.layout
	r := &run{e: e, v: v, p: p, req: req, src: src, C: len(lay.raw), N: len(lay.chans), K: v.K, res: res}
	if lay.derived() {
		r.src = &derivedSource{src: src, l: lay, p: p}
		r.nanOnly = true // derived channels mark nodata with NaN
	}
	conf := req.Confidence != NoConfidence
	if req.Output == "" {
		r.sink = newMemSink(res, p, r.K, conf)
	} else {
		fs, err := e.createFiles(p, req, res)
		if err != nil {
			if le := (*Error)(nil); !errors.As(err, &le) {
				err = liberr.Mark(err, ErrInvalidInput) // the output named is unusable
			}
			return nil, err
		}
		r.sink = fs
	}
	r.progress = startProgress(req.Progress)
	err := r.execute(ctx)
	r.progress.stop()
	if err != nil {
		r.sink.abort()
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		r.sink.abort()
		return nil, context.Cause(ctx)
	}
	if n, all := r.nanOut.Load(), r.inferred.Load(); all > 0 && n == all {
		r.sink.abort()
		return nil, fmt.Errorf("%w: the model produced no usable output (NaN or only ±Inf) for any of %d patch pixels", ErrModelOutput, all)
	}
	if err := r.sink.commit(); err != nil {
		return nil, err
	}
	res.InferTime = r.busy.total
	if res.ClassCounts[255] == int64(p.Size.X)*int64(p.Size.Y) {
		res.Warnings = append(res.Warnings, "the scene has no valid pixel: the mask is all nodata")
	}
	if n := r.nanOut.Load(); n > 0 {
		all := r.inferred.Load()
		res.Warnings = append(res.Warnings, fmt.Sprintf("the model produced NaN or only ±Inf for %d of %d patch pixels (%.3g%%); they are marked nodata", n, all, 100*float64(n)/float64(all)))
	}
	if res.Uncovered > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d valid pixels were not covered by any patch and are marked nodata", res.Uncovered))
	}
	log := e.logger(ctx, req)
	for _, w := range res.Warnings {
		log.Warn(w, "scene", sceneName(p), "model", e.models[0].name)
	}
	return res, nil
}

func (e *Engine) createFiles(p *Plan, req Request, res *Result) (*fileSink, error) {
	classes, probs := e.outputClasses(p)
	var colors [][3]uint8
	var names []string // category names by class id
	md := map[string]string{"OMNIMASK_MODEL": strings.Join(e.Models(), ",")}
	if p.Product != "" {
		md["OMNIMASK_MODEL"] = strings.Join(p.Models, ",")
		md["OMNIMASK_PRODUCT"] = p.Product
	}
	if p.TTA.Calls() > 1 {
		md["OMNIMASK_TTA"] = p.TTA.String() // absent without augmentation: masks as before
	}
	for _, c := range classes {
		for len(colors) <= c.ID {
			colors = append(colors, [3]uint8{})
			names = append(names, "")
		}
		colors[c.ID] = c.Color
		names[c.ID] = c.Name
		md[fmt.Sprintf("CLASS_%d", c.ID)] = c.Name
	}
	md["CLASS_255"] = "nodata"
	mask, err := gdalio.Create(req.Output, p.Size, p.Geo, gdalio.WriteOptions{
		NoData: raster.NoDataValue(255), Colors: colors, Names: []string{"class"}, Metadata: md, Categories: names})
	if err != nil {
		return nil, err
	}
	fs := &fileSink{mask: mask, float: req.Confidence == ConfidenceFloat32, returnMemory: e.opts.ReturnMemory}
	res.Output = req.Output
	if req.Confidence != NoConfidence {
		path := req.ConfidenceOutput
		names := make([]string, len(probs))
		for i, c := range probs {
			names[i] = "p_" + c
		}
		nd := raster.NoDataValue(255)
		cmd := map[string]string{"OMNIMASK_SCALE": "probability = value / 254"}
		if fs.float {
			nd = raster.NoDataValue(math.NaN())
			cmd = nil
		}
		fs.conf, err = gdalio.Create(path, p.Size, p.Geo, gdalio.WriteOptions{
			Bands: len(probs), Float32: fs.float, NoData: nd, Names: names, Metadata: cmd})
		if err != nil {
			mask.Close()
			return nil, err
		}
		res.ConfidenceOutput = path
	}
	return fs, nil
}

// PlanScene returns the plan Predict would follow for an in-memory scene
// (its Memory is what the memory budget admits), reading no pixel.
func (e *Engine) PlanScene(sc *Scene, req Request) (*Plan, error) {
	if res, ok, err := onProduct(e, req, func(s *Engine, r Request) (*Plan, error) { return s.PlanScene(sc, r) }); ok {
		return res, err
	}
	p, err := e.planScene(sc, req)
	return p, classify(err, true)
}

// sceneName names a scene in log records: its first file, or "in-memory".
func sceneName(p *Plan) string {
	if len(p.Files) > 0 {
		return p.Files[0]
	}
	return "in-memory"
}

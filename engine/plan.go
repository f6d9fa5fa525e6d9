package engine

import (
	"fmt"
	"image"
	"math"
	"strings"

	"github.com/omnimask/omnimask/internal/liberr"
	"github.com/omnimask/omnimask/models"
	"github.com/omnimask/omnimask/preprocess"
	"github.com/omnimask/omnimask/raster"
	"github.com/omnimask/omnimask/tiling"
	"github.com/omnimask/omnimask/tta"
)

// Scene is an in-memory raster for Predict: bands x height x width float32
// with optional georeferencing and band names.
type Scene struct {
	Bands  *raster.Float32
	Names  []string // band names, used to match the model's bands (optional)
	Geo    raster.Geo
	NoData raster.NoData
}

// sceneInfo is what planning needs to know of a scene.
type sceneInfo struct {
	name   string // for messages
	size   image.Point
	geo    raster.Geo
	names  []string
	nodata raster.NoData
	// bandNoData is every scene band's own nodata (files; nil in memory).
	bandNoData []raster.NoData
	// res is the native pixel size in metres along x and y from the
	// georeference (gdalio.ResolutionM), when resOK.
	res   [2]float64
	resOK bool
}

// limits is what planning needs to know of the engine: the models' fixed
// input dimensions and how a prediction runs.
type limits struct {
	fixedBatch, fixedPatch int      // 0 = dynamic
	batch, streams         int      // patches per inference call, calls at once
	nets                   int      // models run on every patch (0 = 1)
	maxMemory              int64    // bytes one prediction may hold
	tta                    tta.Mode // Options.TTA
	// layout is what the models read; nil = the bands of the planned
	// manifest alone.
	layout *layout
}

// layoutFor returns the limits' layout, or the one of m alone.
func (lim limits) layoutFor(m *models.Manifest) (*layout, error) {
	if lim.layout != nil {
		return lim.layout, nil
	}
	return newLayout([]*models.Manifest{m})
}

// plan decides what a prediction of scene s with req does, from the models'
// contract m and the engine's limits alone: it reads no pixel and calls
// neither GDAL nor ONNX Runtime.
func plan(m *models.Manifest, lim limits, s sceneInfo, req Request) (*Plan, error) {
	p := &Plan{Size: s.size, Geo: s.geo, NoData: s.nodata, Blend: req.Blend}
	if s.size.X <= 0 || s.size.Y <= 0 {
		return nil, fmt.Errorf("%s: empty raster (%dx%d)", s.name, s.size.X, s.size.Y)
	}
	if req.NoData.Set {
		p.NoData = req.NoData
	}
	lay, err := lim.layoutFor(m)
	if err != nil {
		return nil, err
	}
	refs, err := preprocess.ParseBands(req.Bands, lay.sources)
	if err != nil {
		return nil, &InputError{"Bands", fmt.Errorf("%s: %w", s.name, err)}
	}
	idx, note, err := preprocess.ResolveBands(refs, lay.sources, s.names)
	if err != nil {
		return nil, &InputError{"Bands", fmt.Errorf("%s: %w", s.name, err)}
	}
	if note != "" && !req.BandsByPosition && preprocess.AnyNamed(s.names) {
		// Names that do not match the model's are not taken by position
		// unless the caller says so.
		return nil, &InputError{"Bands", fmt.Errorf("%s: no band named %s among %d bands %s; choose them with a band spec, or take them in order (Request.BandsByPosition)",
			s.name, strings.Join(m.Bands, ", "), len(s.names), preprocess.QuoteBands(s.names))}
	}
	if note != "" {
		p.Notes = append(p.Notes, note)
	}
	p.BandIndex = idx
	p.chooseNoData(s, req)
	p.SceneBands = s.names
	for _, i := range idx {
		n := s.names[i]
		if n == "" {
			n = fmt.Sprintf("band %d", i+1)
		}
		p.Bands = append(p.Bands, n)
	}
	p.Derived = lay.describe(p.Bands)
	p.sources, p.derived = lay.sources, lay.derived()

	// Resolution.
	if s.geo.Transform.Rotated() {
		p.Notes = append(p.Notes, "the geotransform is rotated; the mask keeps it, pixel size is taken along rows and columns")
	}
	for _, r := range []float64{req.Resolution, req.ProcessingResolution} {
		if r < 0 || math.IsNaN(r) || math.IsInf(r, 0) {
			return nil, &InputError{"Resolution", fmt.Errorf("%s: resolution %g m: must be a positive number", s.name, r)}
		}
	}
	var dx, dy float64
	var ok bool
	if req.Resolution > 0 {
		dx, dy, ok = req.Resolution, req.Resolution, true
	} else {
		dx, dy, ok = s.res[0], s.res[1], s.resOK
		if ok && (dx <= 0 || dy <= 0 || math.IsNaN(dx+dy) || math.IsInf(dx+dy, 0) || dx/dy > 100 || dy/dx > 100) {
			return nil, &InputError{"Resolution", fmt.Errorf("%s: unusable pixel size %.4g x %.4g m from the georeference (near a pole, or a degenerate geotransform); give the resolution", s.name, dx, dy)}
		}
	}
	if ok {
		p.NativeRes = [2]float64{dx, dy}
	}
	ranged := m.MinResolution > 0 || m.MaxResolution > 0
	switch {
	case req.NoResample:
		p.ProcSize = s.size
	case !ok && (ranged || req.ProcessingResolution > 0):
		return nil, &InputError{"Resolution", fmt.Errorf("%s: not georeferenced, so its pixel size is unknown; give the resolution (or do not resample)", s.name)}
	case !ok:
		p.ProcSize = s.size
	default:
		native := math.Sqrt(dx * dy)
		proc := req.ProcessingResolution
		if proc == 0 {
			var outside bool
			proc, outside = m.ProcessingResolution(native)
			if outside {
				p.Notes = append(p.Notes, fmt.Sprintf("resolution %.4g m is coarser than the model's supported %g-%g m; processing at native resolution, expect lower accuracy", native, m.MinResolution, m.MaxResolution))
			} else if proc != native {
				p.Notes = append(p.Notes, fmt.Sprintf("resolution %.4g m is finer than the model's supported %g-%g m; processing at %g m and upsampling the result", native, m.MinResolution, m.MaxResolution, proc))
			}
		} else if m.MinResolution > 0 && proc < m.MinResolution || m.MaxResolution > 0 && proc > m.MaxResolution {
			p.Notes = append(p.Notes, fmt.Sprintf("processing resolution %g m is outside the model's supported %g-%g m; expect lower accuracy", proc, m.MinResolution, m.MaxResolution))
		}
		p.ProcRes = proc
		p.ProcSize = image.Pt(max(1, int(math.Round(float64(s.size.X)*dx/proc))), max(1, int(math.Round(float64(s.size.Y)*dy/proc))))
		if math.Abs(proc/native-1) < 1e-6 {
			p.ProcSize = s.size
		}
		if p.ProcSize.X > 4*s.size.X || p.ProcSize.Y > 4*s.size.Y {
			return nil, fmt.Errorf("%s: processing at %g m would upsample the %.4g m scene more than 4x", s.name, proc, native)
		}
	}

	// Tiling.
	if !req.Blend.Valid() {
		return nil, fmt.Errorf("%s: unknown blend window %v", s.name, req.Blend)
	}
	if !req.TTA.Valid() {
		return nil, fmt.Errorf("%s: unknown test-time augmentation %v", s.name, req.TTA)
	}
	// Patches are square (one patch size; a fixed graph's height and width
	// both equal the manifest's patch_size), so every D4 transform maps a
	// patch onto itself.
	p.TTA = req.TTA.Or(lim.tta).Or(m.DefaultTTA())
	patch, overlap := m.PatchSize, m.Overlap
	if req.PatchSize != 0 {
		// Another patch size keeps the model's overlap up to a quarter
		// of the patch.
		patch = req.PatchSize
		if req.Overlap == 0 {
			overlap = min(overlap, patch/4)
		}
	}
	if req.Overlap > 0 {
		overlap = req.Overlap
	} else if req.Overlap < 0 {
		overlap = 0
	}
	if fp := lim.fixedPatch; fp > 0 {
		if req.PatchSize > 0 && req.PatchSize != fp {
			return nil, fmt.Errorf("%s: the model's input is fixed at %d px, patch size %d requested", s.name, fp, req.PatchSize)
		}
		patch = fp
		if p.ProcSize.X < fp || p.ProcSize.Y < fp {
			return nil, fmt.Errorf("%s: %w: %dx%d pixels at processing resolution, the model's fixed input needs %dx%d", s.name, tiling.ErrTooSmall, p.ProcSize.X, p.ProcSize.Y, fp, fp)
		}
	}
	p.Patch, p.Overlap, err = tiling.Fit(p.ProcSize, patch, overlap, m.Multiple())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.name, err)
	}
	// The estimate needs only the patch size, so it is checked before the
	// grid's origins are listed: a declared width of billions of pixels
	// must fail here, not after allocating their origins.
	p.Memory = workingMemory(m, lay, lim, p, req, lim.streams)
	if p.Memory > lim.maxMemory {
		return nil, liberr.Mark(fmt.Errorf("%s: %dx%d pixels need about %s of working memory, above the limit of %s (Options.MaxMemory; a smaller patch size or writing to a file needs less)",
			s.name, s.size.X, s.size.Y, gib(p.Memory), gib(lim.maxMemory)), ErrTooLarge)
	}
	p.grid, err = tiling.NewGrid(p.ProcSize, p.Patch, p.Overlap)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.name, err)
	}
	p.Patches = p.grid.Len()
	// A grid of fewer batches than streams runs fewer calls at once.
	p.Memory = workingMemory(m, lay, lim, p, req, inferenceCalls(lim.streams, p.Patches, max(lim.batch, lim.fixedBatch)))
	return p, nil
}

package embed

import (
	"errors"
	"fmt"
	"image"
	"math"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/preprocess"
	"github.com/omnimask/omnimask/raster"
)

// maxResolution bounds Options.Resolution and ProcessingResolution, as
// predict's flags are bounded (metres).
const maxResolution = 100_000

// grid is the pixel grid chips are cut on: the scene's own, or the scene
// resampled to the processing resolution res.
type grid struct {
	size   image.Point
	native image.Point
	res    float64 // processing resolution in metres; 0 on the native grid
}

func (g grid) resampled() bool { return g.size != g.native }

// geo is the georeference of scene s on g: s's own, its transform scaled
// to g's pixels when g is resampled.
func (g grid) geo(s *gdalio.Scene) raster.Geo {
	geo := s.Geo
	if g.resampled() && !geo.Transform.IsIdentity() {
		geo.Transform = geo.Transform.Scale(float64(g.native.X)/float64(g.size.X), float64(g.native.Y)/float64(g.size.Y))
	}
	return geo
}

// procGrid is the grid of scene s at the processing resolution proc (0:
// its own grid), its pixel size being res metres or, for res 0, what its
// georeference says; sized as predict sizes its processing grid
// (engine.Plan).
func procGrid(s *gdalio.Scene, res, proc float64) (grid, error) {
	g := grid{size: s.Size, native: s.Size}
	if proc == 0 {
		return g, nil
	}
	dx, dy := res, res
	if res == 0 {
		var ok bool
		if dx, dy, ok = s.ResolutionM(); !ok {
			return g, errors.New("not georeferenced, so its pixel size is unknown; give the resolution")
		}
		if dx <= 0 || dy <= 0 || math.IsNaN(dx+dy) || math.IsInf(dx+dy, 0) || dx/dy > 100 || dy/dx > 100 {
			return g, fmt.Errorf("unusable pixel size %.4g x %.4g m from the georeference; give the resolution", dx, dy)
		}
	}
	if native := math.Sqrt(dx * dy); math.Abs(proc/native-1) < 1e-6 {
		return g, nil
	}
	g.res = proc
	g.size = image.Pt(max(1, int(math.Round(float64(s.Size.X)*dx/proc))), max(1, int(math.Round(float64(s.Size.Y)*dy/proc))))
	if g.size.X > 4*s.Size.X || g.size.Y > 4*s.Size.Y {
		return g, fmt.Errorf("processing at %g m would upsample the %.4g m scene more than 4x", proc, math.Sqrt(dx*dy))
	}
	if g.size == g.native {
		g.res = 0
	}
	return g, nil
}

// checkResolutions checks Options' (and DenseOptions') Resolution and
// ProcessingResolution.
func checkResolutions(res, proc float64) error {
	if !(res >= 0 && res <= maxResolution) || !(proc >= 0 && proc <= maxResolution) {
		return fmt.Errorf("embed: resolution %g m and processing resolution %g m: want 0 (none) or up to %d m", res, proc, maxResolution)
	}
	return nil
}

// resampledRows reads chip rows (or, in dense mode, tile rows: cs is then
// the tile height) of the scene resampled onto the grid of size: for each
// row, the native rows under it are read as float32, their validity marked (normalizer.validity), and both area-averaged
// onto the processing grid by preprocess.Area, predict's resampling; the
// chips are then normalised from that strip as floatRows normalises them.
type resampledRows struct {
	s      *gdalio.Scene
	norm   *normalizer
	size   image.Point
	cs, y0 int
	sx, sy float64
	nat    *raster.Float32 // native rows, reallocated when more are needed
	natOK  []bool          // their validity
	strip  *raster.Float32 // the chip row at processing resolution
	valid  []bool          // its validity, normalizer.valid while its chips are cut
}

func newResampledRows(s *gdalio.Scene, norm *normalizer, size image.Point, cs int) *resampledRows {
	return &resampledRows{s: s, norm: norm, size: size, cs: cs,
		sx: float64(s.Size.X) / float64(size.X), sy: float64(s.Size.Y) / float64(size.Y),
		strip: raster.NewFloat32(len(norm.nodata), image.Rect(0, 0, size.X, cs)),
		valid: make([]bool, size.X*cs)}
}

func (r *resampledRows) read(y0 int) error {
	r.y0 = y0
	na, nb := preprocess.AreaSpan(y0, y0+r.cs, r.sy, r.s.Size.Y)
	nr := image.Rect(0, na, r.s.Size.X, nb)
	if r.nat == nil || r.nat.PlaneStride < nr.Dx()*nr.Dy() {
		r.nat = raster.NewFloat32(r.strip.C, nr)
	}
	r.nat.Rect, r.nat.Stride = nr, nr.Dx()
	if err := r.s.Read(r.nat); err != nil {
		return err
	}
	r.norm.valid = r.natOK
	r.norm.validity(r.nat) // as floatRows marks nodata, on the native rows
	r.natOK = r.norm.valid
	r.strip.Rect = image.Rect(0, y0, r.size.X, y0+r.cs)
	preprocess.Area(r.strip, &raster.Mask{Pix: r.valid, Stride: r.size.X, Rect: r.strip.Rect},
		r.nat, &raster.Mask{Pix: r.natOK, Stride: nr.Dx(), Rect: nr}, r.sx, r.sy, r.s.Size)
	r.norm.valid, r.norm.stripW = r.valid, r.size.X // what chip reads
	return nil
}

// window is 0: one reader reads every chip row (the resampling is not
// split between readers), batches filled across all of them.
func (r *resampledRows) window() int { return 0 }

func (r *resampledRows) chip(dst []float32, x0 int, maxND float64) bool {
	return r.norm.chip(dst, r.strip, x0, r.y0, r.cs, r.cs, maxND)
}

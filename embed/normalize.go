package embed

import (
	"fmt"
	"image"
	"math"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/models"
	"github.com/omnimask/omnimask/preprocess"
	"github.com/omnimask/omnimask/raster"
)

// normalizer turns a window of the scene into the encoder's input.
type normalizer struct {
	m             *models.Manifest
	nodata        []raster.NoData
	scale, offset []float64 // per band: value x scale + offset = the encoder's units
	valid         []bool    // per pixel of the current strip
	stripW        int
}

func newNormalizer(m *models.Manifest, bands []gdalio.Band, o Options) (*normalizer, error) {
	n := &normalizer{m: m}
	for _, b := range bands {
		n.nodata = append(n.nodata, b.NoData)
		n.scale, n.offset = append(n.scale, 1), append(n.offset, 0)
	}
	if m.WantsReflectance() {
		switch {
		case o.Scale != 0:
			for c := range n.scale {
				n.scale[c], n.offset[c] = o.Scale, o.Offset
			}
		case o.units != nil:
			for c, u := range o.units {
				n.scale[c], n.offset[c] = u.Scale, u.Offset
			}
		default:
			for _, b := range bands {
				if b.Type != "Float32" && b.Type != "Float64" {
					return nil, fmt.Errorf("embed: %s takes reflectance and band %q is %s: give its scale and offset", m.Name, b.Name, b.Type)
				}
			}
		}
	}
	return n, nil
}

// validity marks the strip's valid pixels in n.valid, strip-wide, with
// predict's rule (preprocess.ValidBands): a pixel is nodata when any band
// is NaN or ±Inf, or when every band with a nodata value holds it,
// compared in float32.
func (n *normalizer) validity(strip *raster.Float32) {
	w, h := strip.Rect.Dx(), strip.Rect.Dy()
	if cap(n.valid) < w*h {
		n.valid = make([]bool, w*h)
	}
	n.valid = n.valid[:w*h]
	n.stripW = w
	preprocess.ValidBands(&raster.Mask{Pix: n.valid, Stride: w, Rect: strip.Rect}, strip, n.nodata)
}

// chip fills dst (C x h x cs) from the cs x h window at scene (x0, y0) of
// strip (whose validity was computed) and reports whether the chip's nodata
// fraction is at most maxND.
func (n *normalizer) chip(dst []float32, strip *raster.Float32, x0, y0, cs, h int, maxND float64) bool {
	np, oy := cs*h, strip.Rect.Min.Y
	bad := 0
	for y := range h {
		for _, ok := range n.valid[(y0-oy+y)*n.stripW+x0 : (y0-oy+y)*n.stripW+x0+cs] {
			if !ok {
				bad++
			}
		}
	}
	if float64(bad) > maxND*float64(np) || bad == np {
		return false
	}
	fill := n.m.NoDataFill
	for c := range strip.C {
		out := dst[c*np : (c+1)*np]
		mean, std := n.fixedStats(c)
		if n.m.Normalization.Kind == models.ZScore {
			mean, std = n.zstats(strip, c, x0, y0, cs, h)
		}
		scale, offset := n.units(c)
		if n.m.Normalization.Kind == models.SoftCon {
			n.softcon(out, strip, c, x0, y0, cs, h, scale, offset)
			continue
		}
		a, b := affine(scale, offset, mean, std)
		for y := range h {
			row := strip.Row(c, y0+y)[x0 : x0+cs]
			valid := n.valid[(y0-oy+y)*n.stripW+x0:]
			o := out[y*cs : (y+1)*cs]
			for x, v := range row {
				if !valid[x] {
					o[x] = fill
					continue
				}
				o[x] = applyAffine(float64(v), a, b)
			}
		}
	}
	return true
}

// fixedStats is channel c's mean and std for the static normalisations:
// the manifest's for fixed, 0 and 1 otherwise (zscore's are per chip).
func (n *normalizer) fixedStats(c int) (mean, std float64) {
	if n.m.Normalization.Kind == models.Fixed {
		return n.m.Normalization.Mean[c], n.m.Normalization.Std[c]
	}
	return 0, 1
}

// units is channel c's scale and offset from values as read to the
// normalisation's input: the reflectance units (none for zscore), then the
// manifest's per-band scale and offset.
func (n *normalizer) units(c int) (scale, offset float64) {
	scale, offset = n.scale[c], n.offset[c]
	if n.m.Normalization.Kind == models.ZScore {
		scale, offset = 1, 0
	}
	if ns := n.m.Normalization.Scale; ns != nil { // manifest per-band scale/offset, after the units
		scale, offset = scale*ns[c], offset*ns[c]+n.m.Normalization.Offset[c]
	}
	return scale, offset
}

// affine folds (x*scale + offset - mean) / std into x*a + b, computed by
// applyAffine in float64.
func affine(scale, offset, mean, std float64) (a, b float64) {
	return scale / std, (offset - mean) / std
}

// applyAffine is the one expression every path normalises with, so that
// they round alike.
func applyAffine(v, a, b float64) float32 { return float32(v*a + b) }

// static returns channel c's normalisation of one value as read, for the
// normalisations that do not depend on the chip (all but zscore): the
// function chip applies, value for value.
func (n *normalizer) static(c int) func(v float64) float32 {
	mean, std := n.fixedStats(c)
	scale, offset := n.units(c)
	if nm := n.m.Normalization; nm.Kind == models.SoftCon {
		lo, width := nm.Mean[c]-2*nm.Std[c], 4*nm.Std[c]
		return func(v float64) float32 { return SoftConValue(v*scale+offset, lo, width, nm.Unit) }
	}
	a, b := affine(scale, offset, mean, std)
	return func(v float64) float32 { return applyAffine(v, a, b) }
}

// zstats is the dynamic z-score's mean and std over the chip's valid
// pixels of channel c: preprocess.Stats, predict's (population, float64,
// two passes in row order; std 0 becomes 1, see MANIFEST.md). chip calls it
// only for chips with a valid pixel.
func (n *normalizer) zstats(strip *raster.Float32, c, x0, y0, cs, h int) (float64, float64) {
	valid := &raster.Mask{Pix: n.valid, Stride: n.stripW, Rect: image.Rect(strip.Rect.Min.X, strip.Rect.Min.Y, strip.Rect.Min.X+n.stripW, strip.Rect.Max.Y)}
	return preprocess.Stats(strip.SubImage(image.Rect(x0, y0, x0+cs, y0+h)), c, valid)
}

// softcon writes SoftCon / SSL4EO's normalisation of channel c:
// (x - (mean - 2 std)) / (4 std) * 255, clipped to [0, 255], truncated, and
// divided by 255 when the manifest says unit; x is the value as read times
// scale plus offset. Computed in float64 in numpy's order (see
// testdata/embed/gen_softcon_vectors.py).
func (n *normalizer) softcon(out []float32, strip *raster.Float32, c, x0, y0, cs, h int, scale, offset float64) {
	nm := n.m.Normalization
	lo, width := nm.Mean[c]-2*nm.Std[c], 4*nm.Std[c]
	oy := strip.Rect.Min.Y
	for y := range h {
		row := strip.Row(c, y0+y)[x0 : x0+cs]
		valid := n.valid[(y0-oy+y)*n.stripW+x0:]
		o := out[y*cs : (y+1)*cs]
		for x, v := range row {
			if !valid[x] {
				o[x] = n.m.NoDataFill
				continue
			}
			o[x] = SoftConValue(float64(v)*scale+offset, lo, width, nm.Unit)
		}
	}
}

// SoftConValue is SoftCon's normalisation of one value x, given
// lo = mean - 2 std and width = 4 std.
func SoftConValue(x, lo, width float64, unit bool) float32 {
	y := (x - lo) / width * 255
	y = math.Trunc(min(max(y, 0), 255))
	if unit {
		return float32(y / 255)
	}
	return float32(y)
}

// fraction is the nodata fraction of the cs x cs block at scene (x0, y0) of
// the strip whose validity was computed.
func (n *normalizer) fraction(strip *raster.Float32, x0, y0, cs int) float64 {
	bad, oy := 0, strip.Rect.Min.Y
	for y := range cs {
		for _, ok := range n.valid[(y0-oy+y)*n.stripW+x0 : (y0-oy+y)*n.stripW+x0+cs] {
			if !ok {
				bad++
			}
		}
	}
	return float64(bad) / float64(cs*cs)
}

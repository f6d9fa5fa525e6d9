package embed

import (
	"fmt"
	"math"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/models"
	"github.com/omnimask/omnimask/raster"
)

// normalizer turns a window of the scene into the encoder's input.
type normalizer struct {
	m             *models.Manifest
	nodata        []raster.NoData
	scale, offset float64
	valid         []bool // scratch: per pixel of a chip
}

func newNormalizer(m *models.Manifest, bands []gdalio.Band, o Options) (*normalizer, error) {
	n := &normalizer{m: m, scale: 1, offset: 0}
	for _, b := range bands {
		n.nodata = append(n.nodata, b.NoData)
	}
	if m.WantsReflectance() {
		if o.Scale != 0 {
			n.scale, n.offset = o.Scale, o.Offset
		} else {
			for _, b := range bands {
				if b.Type != "Float32" && b.Type != "Float64" {
					return nil, fmt.Errorf("embed: %s takes reflectance and band %q is %s: give its scale and offset", m.Name, b.Name, b.Type)
				}
			}
		}
	}
	return n, nil
}

// chip fills dst (C x cs x cs) from the cs x cs window at (x0, y0) of strip
// and reports whether the chip's nodata fraction is at most maxND. A pixel is
// nodata when every band equals its nodata value or any is NaN or ±Inf.
func (n *normalizer) chip(dst []float32, strip *raster.Float32, x0, y0, cs int, maxND float64) bool {
	C, np := strip.C, cs*cs
	if cap(n.valid) < np {
		n.valid = make([]bool, np)
	}
	valid := n.valid[:np]
	bad := 0
	for y := range cs {
		for x := range cs {
			all, nonFinite := true, false
			for c := range C {
				v := strip.At(c, x0+x, y0+y)
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					nonFinite = true
				}
				if nd := n.nodata[c]; !nd.Set || float64(v) != nd.Value {
					all = false
				}
			}
			ok := !nonFinite && !all
			valid[y*cs+x] = ok
			if !ok {
				bad++
			}
		}
	}
	if float64(bad) > maxND*float64(np) || bad == np {
		return false
	}
	fill := n.m.NoDataFill
	for c := range C {
		out := dst[c*np : (c+1)*np]
		mean, std := 0.0, 1.0
		switch n.m.Normalization.Kind {
		case models.Fixed:
			mean, std = n.m.Normalization.Mean[c], n.m.Normalization.Std[c]
		case models.ZScore:
			mean, std = n.zstats(strip, c, x0, y0, cs, valid)
		}
		for y := range cs {
			row := strip.Row(c, y0+y)[x0 : x0+cs]
			for x, v := range row {
				if !valid[y*cs+x] {
					out[y*cs+x] = fill
					continue
				}
				f := float64(v)
				if n.m.Normalization.Kind != models.ZScore {
					f = f*n.scale + n.offset
				}
				out[y*cs+x] = float32((f - mean) / std)
			}
		}
	}
	return true
}

// zstats is the dynamic z-score's mean and std (population, float64) over the
// chip's valid pixels of channel c; std 0 becomes 1 (see MANIFEST.md).
func (n *normalizer) zstats(strip *raster.Float32, c, x0, y0, cs int, valid []bool) (float64, float64) {
	var s, k float64
	for y := range cs {
		for x, v := range strip.Row(c, y0+y)[x0 : x0+cs] {
			if valid[y*cs+x] {
				s += float64(v)
				k++
			}
		}
	}
	mean := s / k
	var ss float64
	for y := range cs {
		for x, v := range strip.Row(c, y0+y)[x0 : x0+cs] {
			if valid[y*cs+x] {
				d := float64(v) - mean
				ss += d * d
			}
		}
	}
	std := math.Sqrt(ss / k)
	if std == 0 {
		std = 1
	}
	return mean, std
}

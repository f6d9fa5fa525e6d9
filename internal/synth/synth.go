// Package synth makes synthetic satellite scenes with known truth — land,
// water, thick and thin clouds, their shadows and nodata borders — for
// tests, demos and benchmarks. Pixels are computed independently from a
// seed, so scenes of any size can be streamed row by row.
package synth

import (
	"image"
	"math"
	"sort"

	"github.com/omnimask/omnimask/raster"
)

// Classes of the truth mask (OmniCloudMask order) and its nodata value.
const (
	Clear      = 0
	ThickCloud = 1
	ThinCloud  = 2
	Shadow     = 3
	NoData     = 255
)

// Options describe a scene. The zero value is a 256x256, 3-band (red,
// green, nir) scene at 10 m with ~30% cloud and no nodata border.
type Options struct {
	Width, Height int
	Bands         []string // any of blue, green, red, nir, swir1 (default red, green, nir)
	Seed          uint64
	Cloud         float64 // target cloud fraction, 0..1 (default 0.3)
	NoDataCorners bool    // cut nodata triangles at two corners (like a swath edge)
	CloudScale    float64 // cloud feature size in pixels (default 96)
	ResolutionM   float64 // default 10
}

func (o Options) withDefaults() Options {
	if o.Width == 0 {
		o.Width = 256
	}
	if o.Height == 0 {
		o.Height = 256
	}
	if len(o.Bands) == 0 {
		o.Bands = []string{"red", "green", "nir"}
	}
	if o.Cloud == 0 {
		o.Cloud = 0.3
	}
	if o.CloudScale == 0 {
		o.CloudScale = 96
	}
	if o.ResolutionM == 0 {
		o.ResolutionM = 10
	}
	return o
}

// Generator computes a scene's reflectance and truth pixel by pixel.
type Generator struct {
	Opts  Options
	thick float64 // noise threshold for thick cloud
	thin  float64
	shx   int // shadow offset
	shy   int
}

// New returns a generator for the scene o describes.
func New(o Options) *Generator {
	o = o.withDefaults()
	// Thresholds from the noise's own distribution (sampled over a fixed
	// domain), so the cloud fraction is about as requested; the outer 35%
	// of the cloud is thin.
	g := &Generator{Opts: o}
	var v []float64
	for y := 0; y < 2048; y += 16 {
		for x := 0; x < 2048; x += 16 {
			v = append(v, g.cloudiness(x, y))
		}
	}
	sort.Float64s(v)
	q := func(f float64) float64 { return v[min(len(v)-1, max(0, int(f*float64(len(v)))))] }
	g.thin, g.thick = q(1-o.Cloud), q(1-o.Cloud*0.65)
	g.shx, g.shy = int(o.CloudScale*0.25)+2, int(o.CloudScale*0.18)+2
	return g
}

// Geo returns a UTM zone 33N georeference for the scene.
func (g *Generator) Geo() raster.Geo {
	r := g.Opts.ResolutionM
	return raster.Geo{Transform: raster.GeoTransform{500000, r, 0, 5000000, 0, -r}, CRS: UTM33N}
}

// UTM33N is the WKT of EPSG:32633.
const UTM33N = `PROJCS["WGS 84 / UTM zone 33N",GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4326"]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",15],PARAMETER["scale_factor",0.9996],PARAMETER["false_easting",500000],PARAMETER["false_northing",0],UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Easting",EAST],AXIS["Northing",NORTH],AUTHORITY["EPSG","32633"]]`

// cloudiness returns the cloud noise at (x, y).
func (g *Generator) cloudiness(x, y int) float64 {
	return fbm(float64(x)/g.Opts.CloudScale, float64(y)/g.Opts.CloudScale, g.Opts.Seed, 4)
}

// Truth returns the class at (x, y).
func (g *Generator) Truth(x, y int) uint8 {
	if g.nodata(x, y) {
		return NoData
	}
	c := g.cloudiness(x, y)
	switch {
	case c >= g.thick:
		return ThickCloud
	case c >= g.thin:
		return ThinCloud
	}
	if g.cloudiness(x-g.shx, y-g.shy) >= g.thick {
		return Shadow
	}
	return Clear
}

func (g *Generator) nodata(x, y int) bool {
	if !g.Opts.NoDataCorners {
		return false
	}
	w, h := g.Opts.Width, g.Opts.Height
	cut := min(w, h) / 4
	return x+y < cut || (w-1-x)+(h-1-y) < cut
}

// ground returns the surface reflectance of band at (x, y).
func (g *Generator) ground(x, y int, band string) float64 {
	n := fbm(float64(x)/40, float64(y)/40, g.Opts.Seed+101, 3)
	water := fbm(float64(x)/150, float64(y)/150, g.Opts.Seed+202, 2) > 0.78
	return groundValue(band, n, water)
}

func groundValue(band string, n float64, water bool) float64 {
	if water {
		switch band {
		case "nir", "swir1", "swir2":
			return 0.01 + 0.01*n
		case "blue":
			return 0.06
		}
		return 0.04 + 0.01*n
	}
	switch band {
	case "blue":
		return 0.04 + 0.04*n
	case "green":
		return 0.06 + 0.05*n
	case "red":
		return 0.05 + 0.08*n
	case "nir":
		return 0.20 + 0.20*n
	}
	return 0.15 + 0.10*n
}

// Reflectance returns the top-of-atmosphere-like reflectance of band at (x, y),
// or NaN for nodata.
func (g *Generator) Reflectance(x, y int, band string) float64 {
	if g.nodata(x, y) {
		return math.NaN()
	}
	v := g.ground(x, y, band)
	c := g.cloudiness(x, y)
	if c >= g.thin {
		// opacity rises from 0.35 at the thin threshold to 1 at thick.
		a := 0.35 + 0.65*math.Min(1, (c-g.thin)/math.Max(1e-9, g.thick-g.thin))
		cloud := 0.55 + 0.2*fbm(float64(x)/12, float64(y)/12, g.Opts.Seed+303, 2)
		return (1-a)*v + a*cloud
	}
	if g.cloudiness(x-g.shx, y-g.shy) >= g.thick {
		return v * 0.35
	}
	return v
}

// Fill writes reflectance (times scale) of the scene's bands over dst.Rect
// into dst, with nodata pixels set to nodata. Each pixel's cloud, shadow and
// ground fields are computed once for all bands.
func (g *Generator) Fill(dst *raster.Float32, scale, nodata float64) {
	bands := g.Opts.Bands
	for y := dst.Rect.Min.Y; y < dst.Rect.Max.Y; y++ {
		for x := dst.Rect.Min.X; x < dst.Rect.Max.X; x++ {
			i := dst.PixOffset(0, x, y)
			if g.nodata(x, y) {
				for c := range bands {
					dst.Pix[i+c*dst.PlaneStride] = float32(nodata)
				}
				continue
			}
			n := fbm(float64(x)/40, float64(y)/40, g.Opts.Seed+101, 3)
			water := fbm(float64(x)/150, float64(y)/150, g.Opts.Seed+202, 2) > 0.78
			c := g.cloudiness(x, y)
			var alpha, cloud float64
			shadow := false
			if c >= g.thin {
				alpha = 0.35 + 0.65*math.Min(1, (c-g.thin)/math.Max(1e-9, g.thick-g.thin))
				cloud = 0.55 + 0.2*fbm(float64(x)/12, float64(y)/12, g.Opts.Seed+303, 2)
			} else {
				shadow = g.cloudiness(x-g.shx, y-g.shy) >= g.thick
			}
			for ci, b := range bands {
				v := groundValue(b, n, water)
				switch {
				case alpha > 0:
					v = (1-alpha)*v + alpha*cloud
				case shadow:
					v *= 0.35
				}
				dst.Pix[i+ci*dst.PlaneStride] = float32(v * scale)
			}
		}
	}
}

// Scene returns the whole scene in memory (reflectance times scale) and its
// truth mask.
func (g *Generator) Scene(scale, nodata float64) (*raster.Float32, *image.Gray) {
	r := image.Rect(0, 0, g.Opts.Width, g.Opts.Height)
	m := raster.NewFloat32(len(g.Opts.Bands), r)
	g.Fill(m, scale, nodata)
	truth := image.NewGray(r)
	for y := 0; y < r.Dy(); y++ {
		for x := 0; x < r.Dx(); x++ {
			truth.Pix[y*truth.Stride+x] = g.Truth(x, y)
		}
	}
	return m, truth
}

// fbm is fractal value noise in about [0, 1].
func fbm(x, y float64, seed uint64, octaves int) float64 {
	var sum, amp, norm float64 = 0, 1, 0
	for o := 0; o < octaves; o++ {
		sum += amp * valueNoise(x, y, seed+uint64(o)*7919)
		norm += amp
		amp *= 0.5
		x, y = x*2.03, y*2.03
	}
	v := sum / norm
	// stretch: the sum of octaves concentrates around 0.5
	v = 0.5 + (v-0.5)*1.9
	return math.Max(0, math.Min(1, v))
}

func valueNoise(x, y float64, seed uint64) float64 {
	x0, y0 := math.Floor(x), math.Floor(y)
	fx, fy := x-x0, y-y0
	ix, iy := int64(x0), int64(y0)
	sx, sy := fx*fx*(3-2*fx), fy*fy*(3-2*fy)
	a := lattice(ix, iy, seed)
	b := lattice(ix+1, iy, seed)
	c := lattice(ix, iy+1, seed)
	d := lattice(ix+1, iy+1, seed)
	return (a*(1-sx)+b*sx)*(1-sy) + (c*(1-sx)+d*sx)*sy
}

func lattice(x, y int64, seed uint64) float64 {
	h := uint64(x)*0x9E3779B97F4A7C15 ^ uint64(y)*0xC2B2AE3D27D4EB4F ^ seed*0x165667B19E3779F9
	h ^= h >> 31
	h *= 0xD6E8FEB86659FD93
	h ^= h >> 32
	return float64(h>>11) / float64(1<<53)
}

// Command synthscene2 writes a second synthetic scene for checking cloud
// models, written independently of tools/synthscene (issue #17, item 5:
// "never tune to the demo scene itself: also check a second generator"):
// vegetated farmland (Voronoi field parcels of crops, pasture and a little
// bare soil, hedges between them, low texture) under sparse bright cumulus
// (clusters of soft discs), and its two-class truth: 0 clear, 1 cloud
// (opacity >= 0.3; fainter cloud edges count as clear). No shadows, no
// nodata.
//
//	go run ./tools/synthscene2 -size 1536 -o scene2.tif -truth scene2_truth.tif
//
// The scene is float32 reflectance (0-1) in the bands blue, green, red, nir,
// named in the band descriptions, on a UTM 33N grid.
package main

import (
	"flag"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"os"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/raster"
)

// bands in file order.
var bands = []string{"blue", "green", "red", "nir"}

// cover kinds of a field parcel: reflectance ranges per band (blue, green,
// red, nir), chosen between lo and hi by the parcel's vigour.
type cover struct {
	lo, hi [4]float64
	share  float64
}

var covers = []cover{
	{lo: [4]float64{0.030, 0.060, 0.040, 0.28}, hi: [4]float64{0.020, 0.080, 0.025, 0.46}, share: 0.55}, // crops
	{lo: [4]float64{0.040, 0.070, 0.060, 0.22}, hi: [4]float64{0.030, 0.085, 0.045, 0.34}, share: 0.30}, // pasture
	{lo: [4]float64{0.070, 0.100, 0.130, 0.20}, hi: [4]float64{0.090, 0.130, 0.170, 0.26}, share: 0.15}, // bare soil
}

type parcel struct {
	x, y   float64
	kind   int
	vigour float64
	slope  [2]float64 // gentle within-field gradient
}

type blob struct{ x, y, r float64 }

type scene struct {
	w, h    int
	cell    float64
	gw, gh  int
	parcels []parcel
	blobs   []blob
	cloud   [4]float64
	seed    uint64
}

func newScene(w, h int, seed uint64, cover float64) *scene {
	rng := rand.New(rand.NewPCG(seed, 0x5eed2))
	s := &scene{w: w, h: h, cell: 110, seed: seed}
	s.gw, s.gh = int(float64(w)/s.cell)+2, int(float64(h)/s.cell)+2
	for j := 0; j < s.gh; j++ {
		for i := 0; i < s.gw; i++ {
			u := rng.Float64()
			k := 0
			for acc := covers[0].share; k < len(covers)-1 && u > acc; acc += covers[k].share {
				k++
			}
			s.parcels = append(s.parcels, parcel{
				x: (float64(i) + 0.15 + 0.7*rng.Float64()) * s.cell, y: (float64(j) + 0.15 + 0.7*rng.Float64()) * s.cell,
				kind: k, vigour: rng.Float64(), slope: [2]float64{rng.NormFloat64() * 0.03, rng.NormFloat64() * 0.03},
			})
		}
	}
	// Sparse cumulus: clusters of 3-8 soft discs until the cloud area
	// (opacity >= 0.3, estimated from disc areas) reaches the cover.
	area := 0.0
	for area < cover*float64(w*h) {
		cx, cy := rng.Float64()*float64(w), rng.Float64()*float64(h)
		n := 3 + rng.IntN(6)
		for k := 0; k < n; k++ {
			r := 8 + 30*rng.Float64()
			s.blobs = append(s.blobs, blob{x: cx + rng.NormFloat64()*25, y: cy + rng.NormFloat64()*25, r: r})
			area += 0.6 * math.Pi * r * r
		}
	}
	b := 0.62 + 0.15*rng.Float64()
	s.cloud = [4]float64{b * 1.04, b * 1.01, b, b * 0.97}
	return s
}

// field returns the parcel index nearest (x, y) and the distance margin to
// the second nearest (small near a boundary: hedges).
func (s *scene) field(x, y float64) (int, float64) {
	ci, cj := int(x/s.cell), int(y/s.cell)
	best, second := math.Inf(1), math.Inf(1)
	bi := 0
	for j := max(0, cj-1); j <= min(s.gh-1, cj+2); j++ {
		for i := max(0, ci-1); i <= min(s.gw-1, ci+2); i++ {
			k := j*s.gw + i
			d := math.Hypot(s.parcels[k].x-x, s.parcels[k].y-y)
			switch {
			case d < best:
				second, best, bi = best, d, k
			case d < second:
				second = d
			}
		}
	}
	return bi, second - best
}

// hash returns a deterministic value in [0, 1) for pixel (x, y).
func (s *scene) hash(x, y int) float64 {
	v := uint64(x)*0x9e3779b97f4a7c15 ^ uint64(y)*0xc2b2ae3d27d4eb4f ^ s.seed*0x165667b19e3779f9
	v ^= v >> 31
	v *= 0xbf58476d1ce4e5b9
	v ^= v >> 29
	return float64(v>>11) / (1 << 53)
}

// opacity of the cloud at (x, y): a smooth-edged union of the discs.
func (s *scene) opacity(x, y float64) float64 {
	a := 0.0
	for _, b := range s.blobs {
		dx, dy := x-b.x, y-b.y
		if math.Abs(dx) > 2*b.r || math.Abs(dy) > 2*b.r {
			continue
		}
		d := math.Hypot(dx, dy) / b.r
		a = max(a, 1/(1+math.Exp((d-1)*6)))
	}
	return a
}

// pixel returns the reflectance of the four bands and the truth at (x, y).
func (s *scene) pixel(x, y int) ([4]float64, uint8) {
	fx, fy := float64(x)+0.5, float64(y)+0.5
	k, margin := s.field(fx, fy)
	p := s.parcels[k]
	c := covers[p.kind]
	var v [4]float64
	grad := 1 + p.slope[0]*(fx-p.x)/s.cell + p.slope[1]*(fy-p.y)/s.cell
	tex := 1 + 0.04*(s.hash(x, y)-0.5)
	for b := range v {
		v[b] = (c.lo[b] + p.vigour*(c.hi[b]-c.lo[b])) * grad * tex
	}
	if margin < 3 { // hedge: darker, greener
		v = [4]float64{0.025, 0.045, 0.03, 0.25 * tex}
	}
	a := s.opacity(fx, fy)
	for b := range v {
		v[b] = (1-a)*v[b] + a*s.cloud[b]
	}
	if a >= 0.3 {
		return v, 1
	}
	return v, 0
}

func main() {
	size := flag.Int("size", 1536, "width and height in pixels")
	out := flag.String("o", "scene2.tif", "output GeoTIFF (float32 reflectance)")
	truth := flag.String("truth", "", "also write the two-class truth mask here (0 clear, 1 cloud)")
	seed := flag.Uint64("seed", 2, "random seed")
	cover := flag.Float64("cloud", 0.08, "cloud cover fraction (approximate)")
	res := flag.Float64("resolution", 10, "pixel size in metres")
	flag.Parse()
	if err := run(*size, *seed, *cover, *res, *out, *truth); err != nil {
		fmt.Fprintln(os.Stderr, "synthscene2:", err)
		os.Exit(1)
	}
}

const utm33n = `PROJCS["WGS 84 / UTM zone 33N",GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",15],PARAMETER["scale_factor",0.9996],PARAMETER["false_easting",500000],PARAMETER["false_northing",0],UNIT["metre",1],AUTHORITY["EPSG","32633"]]`

func run(n int, seed uint64, cover, res float64, out, truth string) error {
	if n < 64 {
		return fmt.Errorf("size %d: want at least 64", n)
	}
	s := newScene(n, n, seed, cover)
	geo := raster.Geo{Transform: raster.GeoTransform{600000, res, 0, 4000000, 0, -res}, CRS: utm33n}
	size := image.Pt(n, n)
	gdalio.Register()
	w, err := gdalio.Create(out, size, geo, gdalio.WriteOptions{Bands: len(bands), Float32: true, Names: bands})
	if err != nil {
		return err
	}
	defer w.Close()
	var tw *gdalio.Writer
	if truth != "" {
		if tw, err = gdalio.Create(truth, size, geo, gdalio.WriteOptions{NoData: raster.NoDataValue(255)}); err != nil {
			return err
		}
		defer tw.Close()
	}
	rows := make([][]float32, len(bands))
	for b := range rows {
		rows[b] = make([]float32, n)
	}
	lab := make([]uint8, n)
	var cloudy int
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			v, t := s.pixel(x, y)
			for b := range rows {
				rows[b][x] = float32(v[b])
			}
			lab[x] = t
			cloudy += int(t)
		}
		r := image.Rect(0, y, n, y+1)
		for b := range rows {
			if err := w.WriteFloat32(b, r, rows[b]); err != nil {
				return err
			}
		}
		if tw != nil {
			if err := tw.WriteUint8(0, r, lab); err != nil {
				return err
			}
		}
	}
	if err := w.Commit(); err != nil {
		return err
	}
	if tw != nil {
		if err := tw.Commit(); err != nil {
			return err
		}
	}
	fmt.Printf("%s: %dx%d, cloud %.1f %%\n", out, n, n, 100*float64(cloudy)/float64(n*n))
	return nil
}

package engine

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/omnimask/omnimask/models"
	"github.com/omnimask/omnimask/preprocess"
	"github.com/omnimask/omnimask/raster"
	"github.com/omnimask/omnimask/sensor"
)

// layout says what a prediction reads and feeds the models: the scene bands
// read (sources), the raw channels computed from them at native resolution
// (bands, and indices derived from bands), the normalised channels prepared
// for every patch, and which of those each model takes. Models of an
// ensemble may take different inputs; a channel two models share is read
// and normalised once.
type layout struct {
	sources []string   // model band names of the scene bands read, in order
	raw     []rawChan  // channels of the strips
	chans   []normChan // channels of a batch's prepared patches
	takes   [][]int    // per model: its inputs, as indices into chans
	scores  int        // score channels of a batch (variant.K)
}

// rawChan is source band a (op "") or an index of sources a and b.
type rawChan struct {
	op   string
	a, b int
}

// normChan is raw channel raw normalised as the model says; reflect: the
// model wants reflectance, so the scene's units are folded in (unitChans).
type normChan struct {
	raw       int
	kind      string
	mean, std float64
	fill      float32
	reflect   bool
}

// newLayout builds the layout of models' manifests (which must be valid).
func newLayout(ms []*models.Manifest) (*layout, error) {
	l := &layout{}
	src := func(name string) int {
		for i, s := range l.sources {
			if strings.EqualFold(s, name) {
				return i
			}
		}
		l.sources = append(l.sources, name)
		return len(l.sources) - 1
	}
	for _, m := range ms {
		var take []int
		for i, in := range m.Inputs() {
			rc := rawChan{op: in.Op, a: src(in.Args[0])}
			if in.Derived() {
				if in.Op != models.NormDiff {
					return nil, fmt.Errorf("engine: %s: unsupported derived input %q", m.Name, in.Name)
				}
				rc.b = src(in.Args[1])
			}
			ri := slices.Index(l.raw, rc)
			if ri < 0 {
				l.raw = append(l.raw, rc)
				ri = len(l.raw) - 1
			}
			kind, mean, std := m.InputNormalization(i)
			nc := normChan{raw: ri, kind: kind, mean: mean, std: std, fill: m.NoDataFill, reflect: m.WantsReflectance() && !in.Derived()}
			ci := slices.Index(l.chans, nc)
			if ci < 0 {
				l.chans = append(l.chans, nc)
				ci = len(l.chans) - 1
			}
			take = append(take, ci)
		}
		l.takes = append(l.takes, take)
	}
	return l, nil
}

// derived reports whether some raw channel is computed, not read: the
// strips then come from a derivedSource.
func (l *layout) derived() bool {
	if len(l.raw) != len(l.sources) {
		return true
	}
	for i, rc := range l.raw {
		if rc != (rawChan{a: i}) {
			return true
		}
	}
	return false
}

// direct reports whether model k takes every prepared channel in order, so
// that a batch's input is its input as is.
func (l *layout) direct(k int) bool {
	if len(l.takes[k]) != len(l.chans) {
		return false
	}
	for i, c := range l.takes[k] {
		if c != i {
			return false
		}
	}
	return true
}

// describe returns, for each derived raw channel, how it is computed from
// the scene's bands (names, one per source).
func (l *layout) describe(names []string) []string {
	var out []string
	for _, rc := range l.raw {
		if rc.op == models.NormDiff {
			out = append(out, fmt.Sprintf("nd(%s,%s) = (%s - %s) / (%s + %s), not normalised",
				l.sources[rc.a], l.sources[rc.b], names[rc.a], names[rc.b], names[rc.a], names[rc.b]))
		}
	}
	return out
}

// validity marks the valid pixels of m in dst: with the plan's nodata rule,
// or, on the raw channels of a derivedSource, where no channel is NaN.
func (r *run) validity(dst *raster.Mask, m *raster.Float32) int {
	if r.nanOnly {
		return preprocess.Valid(dst, m, raster.NoData{})
	}
	return validity(dst, m, r.p)
}

// unitChans returns the layout's prepared channels with the plan's units
// folded into the normalisation of the band inputs of models that want
// reflectance. For units (s, o) and a fixed normalisation (mean, std),
// ((x·s + o) − mean) / std = (x − (mean − o)/s) / (std/s); with none, the
// units alone are a fixed normalisation with mean −o/s and std 1/s. Z-score
// normalisation is untouched: it removes any positive scale and offset.
// Derived inputs get the units before the index is computed
// (derivedSource).
func (r *run) unitChans() []normChan {
	chans := append([]normChan(nil), r.v.layout.chans...)
	if r.p.Units == nil {
		return chans
	}
	for i, ch := range chans {
		rc := r.v.layout.raw[ch.raw]
		if !ch.reflect || rc.op != "" || rc.a >= len(r.p.Units) || ch.kind == models.ZScore {
			continue
		}
		u := r.p.Units[rc.a]
		mu, sd := 0.0, 1.0
		if ch.kind == models.Fixed {
			mu, sd = ch.mean, ch.std
		}
		chans[i].kind, chans[i].mean, chans[i].std = models.Fixed, (mu-u.Offset)/u.Scale, sd/u.Scale
	}
	return chans
}

// plane returns channel c of m as a one-channel raster sharing its memory.
func plane(m *raster.Float32, c int) *raster.Float32 {
	return &raster.Float32{Pix: m.Pix[c*m.PlaneStride:], C: 1, Stride: m.Stride, PlaneStride: m.PlaneStride, Rect: m.Rect}
}

// normalize normalises channel c of a prepared patch as ch says; valid
// covers the patch.
func normalize(p *raster.Float32, valid *raster.Mask, ch normChan) {
	switch ch.kind {
	case models.ZScore:
		preprocess.ZScore(p, valid, ch.fill)
	case models.Fixed:
		// std > 0 is checked by the manifest's validation.
		_ = preprocess.Fixed(p, valid, []float64{ch.mean}, []float64{ch.std}, ch.fill)
	default:
		preprocess.Fill(p, valid, ch.fill)
	}
}

// derivedSource reads the source bands of a scene and computes the raw
// channels of a layout from them. A pixel that is nodata in the sources,
// or where an index is undefined (zero denominator, NaN), is NaN in every
// channel, so validity is had from NaN alone: the read stage then checks
// no nodata value (an index of exactly the nodata value is data).
type derivedSource struct {
	src source
	l   *layout
	p   *Plan     // its nodata rule (validity)
	buf []float32 // source bands of the last read, reused
	ok  []bool
}

// toUnits sets dst to src converted with u (reflectance = value x scale +
// offset), in float64 as the normalisation does.
func toUnits(dst, src []float32, u sensor.Units) {
	for i, v := range src {
		dst[i] = float32(float64(v)*u.Scale + u.Offset)
	}
}

func (d *derivedSource) Read(dst *raster.Float32) error { return d.ReadParallel(dst, 1) }

// ReadParallel reads with threads where the source can use them.
func (d *derivedSource) ReadParallel(dst *raster.Float32, threads int) error {
	r := dst.Rect
	n := r.Dx() * r.Dy()
	c := len(d.l.sources)
	if cap(d.buf) < c*n {
		d.buf, d.ok = make([]float32, c*n), make([]bool, n)
	}
	in := &raster.Float32{Pix: d.buf[:c*n], C: c, Stride: r.Dx(), PlaneStride: n, Rect: r}
	ok := &raster.Mask{Pix: d.ok[:n], Stride: r.Dx(), Rect: r}
	if err := readWith(d.src, in, threads); err != nil {
		return err
	}
	validity(ok, in, d.p)
	nan := float32(math.NaN())
	units := d.p.Units
	inBands(r.Min.Y, r.Max.Y, threads, func(a, b int) {
		rows := make([][]float32, len(d.l.raw))
		var ua, ub []float32 // operands in reflectance when the units are known
		if units != nil {
			ua, ub = make([]float32, r.Dx()), make([]float32, r.Dx())
		}
		for y := a; y < b; y++ {
			okRow := ok.Row(y)
			for k, rc := range d.l.raw {
				rows[k] = dst.Row(k, y)
				if rc.op == models.NormDiff {
					x, z := in.Row(rc.a, y), in.Row(rc.b, y)
					if units != nil {
						toUnits(ua, x, units[rc.a])
						toUnits(ub, z, units[rc.b])
						x, z = ua, ub
					}
					preprocess.NormDiff(rows[k], x, z, okRow)
				} else {
					copy(rows[k], in.Row(rc.a, y))
				}
			}
			// A pixel any index leaves undefined is nodata in all channels.
			for x, good := range okRow {
				for _, row := range rows {
					good = good && row[x] == row[x]
				}
				if !good {
					for _, row := range rows {
						row[x] = nan
					}
				}
			}
		}
	})
	return nil
}

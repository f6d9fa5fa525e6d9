package embed

import (
	"context"
	"fmt"
	"time"

	"github.com/omnimask/omnimask/internal/product"
	"github.com/omnimask/omnimask/preprocess"
	"github.com/omnimask/omnimask/sensor"
)

// Input is a scene named as predict takes one: a raster, a product folder
// (Landsat MTL, Sentinel-2 SAFE), a metadata file (MTL, MTD XML), a
// container (MODIS HDF) or a GDAL dataset name; or, several paths, the
// bands of one scene stacked in order. Package product resolves it.
type Input struct {
	Paths  []string
	Sensor string // sensor preset ("" or "auto": detected)
	// Bands is a band spec choosing the encoder's inputs: 3,2,4 (1-based
	// scene bands, in the encoder's band order), B04,B03,B08 or
	// red=3,green=2,nir=B08; "" chooses them by name or from the product.
	Bands string
}

// ChipsInput is Chips over a scene resolved as predict resolves one. For
// encoders taking reflectance, an explicit o.Scale wins; else the units
// the product's metadata gives each band (Landsat MTL, Sentinel-2 MTD) are
// used when known, else the bands must be floating point reflectance. The
// sidecar says which units were used and where from. o.Bands is ignored
// (in.Bands chooses the bands).
func ChipsInput(ctx context.Context, e *Encoder, in Input, out string, o Options) (*Result, error) {
	t0 := time.Now()
	if err := o.defaults(); err != nil {
		return nil, err
	}
	if m := e.Manifest; o.Chip%m.Multiple() != 0 {
		return nil, fmt.Errorf("embed: chip %d is not a multiple of %s's size_multiple %d", o.Chip, e.Ref, m.Multiple())
	}
	src, err := openInput(e, in, &o)
	if err != nil {
		return nil, err
	}
	defer src.s.Close()
	return chips(ctx, e, src, out, o, t0)
}

// DenseInput is Dense over a scene resolved as ChipsInput resolves one.
func DenseInput(ctx context.Context, e *Encoder, in Input, out string, o DenseOptions) (*Result, error) {
	t0 := time.Now()
	dtype, err := o.check(e)
	if err != nil {
		return nil, err
	}
	co := Options{Scale: o.Scale, Offset: o.Offset}
	src, err := openInput(e, in, &co)
	if err != nil {
		return nil, err
	}
	defer src.s.Close()
	o.units = co.units
	return dense(ctx, e, src, out, o, dtype, t0)
}

// openInput resolves and opens in, selects the encoder's bands and sets
// o.units from the product metadata when the encoder wants reflectance and
// no scale is given.
func openInput(e *Encoder, in Input, o *Options) (*source, error) {
	if len(in.Paths) == 0 {
		return nil, fmt.Errorf("embed: no input")
	}
	m := e.Manifest
	pr, err := product.Open(in.Paths, product.Options{Sensor: in.Sensor, Bands: in.Bands, Want: m.Bands})
	if err != nil {
		return nil, err
	}
	s := pr.Scene
	fail := func(err error) (*source, error) {
		s.Close()
		return nil, fmt.Errorf("%s: %w", in.Paths[0], err)
	}
	var names []string
	for _, b := range s.Bands {
		names = append(names, b.Name)
	}
	refs, err := preprocess.ParseBands(pr.Spec, m.Bands)
	if err != nil {
		return fail(err)
	}
	idx, note, err := preprocess.ResolveBands(refs, m.Bands, names)
	if err != nil {
		return fail(err)
	}
	if note != "" && preprocess.AnyNamed(names) {
		return fail(fmt.Errorf("no band named %s among bands %s (the encoder takes %s; choose them with --bands)",
			m.Bands[0], preprocess.QuoteBands(names), preprocess.QuoteBands(m.Bands)))
	}
	src := &source{names: in.Paths}
	if m.WantsReflectance() && o.Scale == 0 {
		units := make([]sensor.Units, len(idx))
		known := true
		for i, bi := range idx {
			if pr.Bands[bi].Units == nil {
				known = false
				break
			}
			units[i] = *pr.Bands[bi].Units
		}
		if known {
			o.units, src.unitsFrom = units, pr.UnitsFrom
		}
	}
	if err := s.Select(idx); err != nil {
		return fail(err)
	}
	norm, err := newNormalizer(m, s.Selected(), *o)
	if err != nil {
		return fail(err)
	}
	src.s, src.norm = s, norm
	return src, nil
}

// describeUnits says in the sidecar which units the values were taken in.
func (src *source) describeUnits(sc *Sidecar, e *Encoder, o Options) {
	if !e.Manifest.WantsReflectance() {
		return
	}
	switch {
	case o.Scale != 0:
		sc.UnitsFrom = "--scale/--offset"
		for range e.Manifest.Bands {
			sc.Units = append(sc.Units, sensor.Units{Scale: o.Scale, Offset: o.Offset})
		}
	case o.units != nil:
		sc.Units, sc.UnitsFrom = o.units, src.unitsFrom
	default:
		sc.UnitsFrom = "reflectance as read"
	}
}

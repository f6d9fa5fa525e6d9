package engine

import (
	"errors"
	"fmt"
	"math"

	"github.com/omnimask/omnimask/models"
	"github.com/omnimask/omnimask/sensor"
)

// ErrUnits is wrapped by the error for a reflectance model and a scene
// whose units are unknown.
var ErrUnits = errors.New("units unknown")

// checkScaleOffset validates Request.Scale and Offset for c model inputs.
func checkScaleOffset(req Request, c int) error {
	for _, l := range []struct {
		name string
		v    []float64
	}{{"scale", req.Scale}, {"offset", req.Offset}} {
		if len(l.v) != 0 && len(l.v) != 1 && len(l.v) != c {
			return fmt.Errorf("engine: %d %s values for %d model inputs (want 1 or %d)", len(l.v), l.name, c, c)
		}
		for _, v := range l.v {
			if math.IsNaN(v) || math.IsInf(v, 0) || l.name == "scale" && !(v > 0) {
				return fmt.Errorf("engine: %s %g (want a finite number%s)", l.name, v, map[bool]string{true: " > 0"}[l.name == "scale"])
			}
		}
	}
	return nil
}

// resolveUnits sets p.Units for a model that asks for reflectance: from
// req.Scale/Offset when given, else from the units the product's metadata
// gives each selected band (src, nil for in-memory scenes). A scene whose
// units stay unknown is an error saying how to give them.
//
// Derived inputs (indices) are computed from bands in reflectance whenever
// their units are known, whatever the model's input units: an index is not
// invariant to an offset such as Sentinel-2's (MANIFEST.md). For a model
// taking any units, p.Units is then set when --scale/--offset or the
// metadata give every band's units, and left nil otherwise, without error.
func resolveUnits(m *models.Manifest, p *Plan, src []Band, from string, req Request) error {
	optional := !m.WantsReflectance()
	if optional && !p.derived {
		if req.Scale != nil || req.Offset != nil {
			p.Notes = append(p.Notes, fmt.Sprintf("model %s takes values in any units: --scale/--offset ignored", m.Name))
		}
		return nil
	}
	c := len(p.BandIndex)
	if err := checkScaleOffset(req, c); err != nil {
		return err
	}
	at := func(v []float64, i int, def float64) float64 {
		switch len(v) {
		case 0:
			return def
		case 1:
			return v[0]
		}
		return v[i]
	}
	units := make([]sensor.Units, c)
	if req.Scale != nil || req.Offset != nil {
		for i := range units {
			units[i] = sensor.Units{Scale: at(req.Scale, i, 1), Offset: at(req.Offset, i, 0)}
		}
		p.Units, p.UnitsFrom = units, "--scale/--offset"
		return nil
	}
	var missing []string
	for i, bi := range p.BandIndex {
		if bi < len(src) && src[bi].Units != nil {
			units[i] = *src[bi].Units
		} else {
			missing = append(missing, p.sources[i])
		}
	}
	if len(missing) > 0 && optional {
		return nil
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: model %s wants reflectance 0..1 and the units of %v are unknown (no Landsat MTL or Sentinel-2 product metadata); give them: reflectance = value x --scale + --offset (e.g. --scale 1 for reflectance data, --scale 0.0001 for reflectance x 10000)", ErrUnits, m.Name, missing)
	}
	p.Units, p.UnitsFrom = units, from
	return nil
}

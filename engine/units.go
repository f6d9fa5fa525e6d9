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
func resolveUnits(m *models.Manifest, p *Plan, src []Band, from string, req Request) error {
	if !m.WantsReflectance() {
		if req.Scale != nil || req.Offset != nil {
			p.Notes = append(p.Notes, fmt.Sprintf("model %s takes values in any units: --scale/--offset ignored", m.Name))
		}
		return nil
	}
	c := len(m.Bands)
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
			missing = append(missing, m.Bands[i])
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: model %s wants reflectance 0..1 and the units of %v are unknown (no Landsat MTL or Sentinel-2 product metadata); give them: reflectance = value x --scale + --offset (e.g. --scale 1 for reflectance data, --scale 0.0001 for reflectance x 10000)", ErrUnits, m.Name, missing)
	}
	p.Units, p.UnitsFrom = units, from
	return nil
}

// normalization returns the normalisation a run applies: the manifest's,
// with the plan's reflectance units folded in. For units (s, o) and a fixed
// normalisation (mean, std), ((x·s + o) − mean) / std = (x − (mean − o)/s) /
// (std/s); with none, the units alone are a fixed normalisation with mean
// −o/s and std 1/s. Z-score normalisation is untouched: it removes any
// positive scale and offset.
func normalization(m *models.Manifest, units []sensor.Units) models.Normalization {
	n := m.Normalization
	if units == nil || n.Kind == models.ZScore {
		return n
	}
	mean, std := make([]float64, len(units)), make([]float64, len(units))
	for i, u := range units {
		mu, sd := 0.0, 1.0
		if n.Kind == models.Fixed {
			mu, sd = n.Mean[i], n.Std[i]
		}
		mean[i], std[i] = (mu-u.Offset)/u.Scale, sd/u.Scale
	}
	return models.Normalization{Kind: models.Fixed, Mean: mean, Std: std}
}

package engine

import (
	"fmt"
	"math"

	"github.com/omnimask/omnimask/preprocess"
	"github.com/omnimask/omnimask/raster"
)

// chooseNoData sets the plan's nodata from the bands the model reads, not
// from the scene's first band: the first input's value, and every input's
// own (BandNoData) when they differ, as a VRT's bands may. An explicit
// Request.NoData applies to every band (files: already set on the scene's
// bands, which read a value float32 cannot hold as NaN).
func (p *Plan) chooseNoData(s sceneInfo, req Request) {
	if len(s.bandNoData) == 0 || len(p.BandIndex) == 0 {
		return
	}
	sel := make([]raster.NoData, len(p.BandIndex))
	for i, j := range p.BandIndex {
		if j < len(s.bandNoData) {
			sel[i] = s.bandNoData[j]
		}
	}
	p.NoData = sel[0]
	for _, nd := range sel[1:] {
		if !sameNoData(nd, sel[0]) {
			p.BandNoData = sel
			p.Notes = append(p.Notes, fmt.Sprintf("the input bands have different nodata values (%s); each band's own is used", noDataList(sel)))
			return
		}
	}
}

func sameNoData(a, b raster.NoData) bool {
	return a.Set == b.Set && (!a.Set || a.Value == b.Value || math.IsNaN(a.Value) && math.IsNaN(b.Value))
}

func noDataList(nds []raster.NoData) string {
	s := ""
	for i, nd := range nds {
		if i > 0 {
			s += ", "
		}
		if nd.Set {
			s += fmt.Sprint(nd.Value)
		} else {
			s += "none"
		}
	}
	return s
}

// validity marks the valid pixels of m in dst with the plan's nodata rule
// (see preprocess.Valid and preprocess.ValidBands).
func validity(dst *raster.Mask, m *raster.Float32, p *Plan) int {
	if p.BandNoData != nil {
		return preprocess.ValidBands(dst, m, p.BandNoData)
	}
	return preprocess.Valid(dst, m, p.NoData)
}

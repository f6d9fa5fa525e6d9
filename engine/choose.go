package engine

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// choose plans the engine's variants in order of preference with try and
// returns the plan of the one to run: the first whose bands the scene has
// (try succeeds) and whose models all support the pixel size they see
// (models.Manifest.Supports, see seenResolution); where no variant the
// bands allow fits, the one whose earliest roles fit, i.e. per role the
// first model whose range fits, else the first whose bands the scene
// has. try returns a release for the resources of a plan not chosen. With
// no variant possible, choose returns the last attempt's plan and error.
func (e *Engine) choose(try func(*variant) (*Plan, func(), error)) (*Plan, error) {
	var best *Plan
	var bestMiss []bool
	var release func()
	var last *Plan
	var err error
	for _, v := range e.variants {
		p, rel, terr := try(v)
		if terr != nil {
			last, err = p, terr
			continue
		}
		miss := v.misfits(p)
		if best != nil && !fitsBetter(miss, bestMiss) {
			if rel != nil {
				rel()
			}
			continue
		}
		if release != nil {
			release()
		}
		best, bestMiss, release = p, miss, rel
		if !slices.Contains(miss, true) {
			break
		}
	}
	if best == nil {
		return last, err
	}
	e.noteResolution(best)
	return best, nil
}

// seenResolution returns the pixel size in metres the models of plan p
// see: the processing resolution, or the scene's own where that is
// coarser (a scene upsampled to a finer grid holds no finer detail) or the
// scene is not resampled; ok is false when the scene's pixel size is
// unknown.
func seenResolution(p *Plan) (res float64, ok bool) {
	if p.NativeRes[0] <= 0 || p.NativeRes[1] <= 0 {
		return 0, false
	}
	return max(math.Sqrt(p.NativeRes[0]*p.NativeRes[1]), p.ProcRes), true
}

// misfits reports, per role of a composite variant, whether its model does
// not support the pixel size the models of p see (nil for a plain engine;
// all false when the pixel size is unknown).
func (v *variant) misfits(p *Plan) []bool {
	res, ok := seenResolution(p)
	miss := make([]bool, len(v.roles))
	for i, m := range v.roles {
		miss[i] = ok && !m.manifest.Supports(res)
	}
	return miss
}

// fitsBetter reports whether role misfits a are preferable to b: the
// earliest role where they differ fits in a.
func fitsBetter(a, b []bool) bool {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return !a[i]
		}
	}
	return false
}

// candidates returns the models that may play role i of the engine's
// composite, in order of preference.
func (e *Engine) candidates(i int) []*model {
	var ms []*model
	for _, v := range e.variants {
		if i < len(v.roles) && !slices.Contains(ms, v.roles[i]) {
			ms = append(ms, v.roles[i])
		}
	}
	return ms
}

// noteResolution adds to p, a composite's plan, why each role runs the
// model it does where resolution decided it: models passed over because
// their supported range excludes the pixel size the models see, a model
// run outside its range because no candidate fits, or a range that could
// not be checked (pixel size unknown).
func (e *Engine) noteResolution(p *Plan) {
	v := p.variant
	if e.composite == nil || v == nil || len(v.roles) != len(e.composite.Members) {
		return
	}
	res, ok := seenResolution(p)
	seen := fmt.Sprintf("%.4g m pixels", res)
	if ok && p.ProcRes > 0 && p.ProcRes < res {
		seen += fmt.Sprintf(" (the scene's, upsampled to %.4g m)", p.ProcRes)
	}
	for i, mem := range e.composite.Members {
		m, cands := v.roles[i], e.candidates(i)
		if !ok {
			if len(cands) > 1 && m.manifest.Ranged() {
				p.Notes = append(p.Notes, fmt.Sprintf("%s: pixel size unknown, so %s was chosen by its bands alone (it supports %s)", mem.Role, m.name, m.manifest.ResolutionRange()))
			}
			continue
		}
		var skipped []string
		for _, c := range cands {
			if c == m {
				break
			}
			if !c.manifest.Supports(res) {
				skipped = append(skipped, fmt.Sprintf("%s (supports %s)", c.name, c.manifest.ResolutionRange()))
			}
		}
		switch {
		case !m.manifest.Supports(res) && m.manifest == e.manifest && p.ProcRes > 0 && !m.manifest.Supports(p.ProcRes):
			// plan noted it: the planning model's processing resolution
			// is outside its range.
		case !m.manifest.Supports(res):
			p.Notes = append(p.Notes, fmt.Sprintf("%s: no candidate supports the models' %s; running %s (supports %s), expect lower accuracy", mem.Role, seen, m.name, m.manifest.ResolutionRange()))
		case len(skipped) > 0:
			p.Notes = append(p.Notes, fmt.Sprintf("%s: running %s: the models see %s, outside the range of %s", mem.Role, m.name, seen, strings.Join(skipped, ", ")))
		}
	}
}

package engine

import (
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/omnimask/omnimask/internal/regfile"
	"github.com/omnimask/omnimask/models"
	"github.com/omnimask/omnimask/stitch"
)

// variant is one way the engine's models run on a scene: the models (all of
// them for a plain engine or an ensemble; one per role for a composite
// product), what they read (layout), and where each model's scores go in a
// batch's score channels.
type variant struct {
	models []*model
	// roles are a composite's models by role, in the composite's order
	// (a model playing two roles is there twice); nil for a plain engine.
	roles  []*model
	layout *layout
	off, k []int // per model: its first score channel and its class count
	avg    int   // models averaged into the score channels: an ensemble's size (0 for a composite)
	K      int   // score channels
	// Composite products only: per rule, its conditions (all must hold;
	// the last rule has none) and the class id it gives.
	rules  [][]cond
	ruleID []uint8
}

// limits are the engine's limits l planning with v's models and inputs.
func (v *variant) limits(l limits) limits {
	l.layout, l.nets = v.layout, len(v.models)
	return l
}

// ensembleVariant is the variant of a plain engine: every model writes the
// same channels, averaged.
func ensembleVariant(mods []*model, lay *layout) *variant {
	v := &variant{models: mods, layout: lay, K: len(mods[0].manifest.Classes), avg: len(mods)}
	lay.scores = v.K
	for range mods {
		v.off, v.k = append(v.off, 0), append(v.k, v.K)
	}
	return v
}

// names returns the variant's model names.
func (v *variant) names() []string {
	var n []string
	for _, m := range v.models {
		n = append(n, m.name)
	}
	return n
}

// loadComposite reads a composite: a built-in product name, or a .json file.
func loadComposite(ref string) (*models.Composite, error) {
	if !strings.ContainsAny(ref, `/\.`) {
		return models.BuiltinComposite(ref)
	}
	data, err := regfile.Read(ref, regfile.MetadataLimit)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: no such product file", ref)
	} else if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	c, err := models.ParseComposite(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	return c, nil
}

// compositeRefs lists the distinct models a composite may run, in order.
func compositeRefs(c *models.Composite) []string {
	var refs []string
	for _, m := range c.Members {
		for _, r := range m.Models {
			if !slices.Contains(refs, r) {
				refs = append(refs, r)
			}
		}
	}
	return refs
}

// compositeVariants returns the variants of a composite over its loaded
// models (by reference), in order of preference: each role's alternatives
// in the order listed, the first roles varying slowest.
func compositeVariants(c *models.Composite, byRef map[string]*model) ([]*variant, error) {
	for _, mem := range c.Members {
		for _, ref := range mem.Models {
			m := byRef[ref].manifest
			if hardVote(m) {
				return nil, fmt.Errorf("engine: product %s: %s outputs class indices; a product combines class scores", c.Name, ref)
			}
			if err := c.CheckMember(mem.Role, m); err != nil {
				return nil, err
			}
		}
	}
	var out []*variant
	var walk func(i int, picked []*model) error
	walk = func(i int, picked []*model) error {
		if i == len(c.Members) {
			v, err := newCompositeVariant(c, append([]*model(nil), picked...))
			if err != nil {
				return err
			}
			out = append(out, v)
			return nil
		}
		for _, ref := range c.Members[i].Models {
			if err := walk(i+1, append(picked, byRef[ref])); err != nil {
				return err
			}
		}
		return nil
	}
	return out, walk(0, nil)
}

// newCompositeVariant builds the variant running mods, one per role of c
// in order. A model that plays several roles (e.g. ndwi-water as the water
// model and as the NDWI check) runs once; the rules read its decision for
// each of its roles.
func newCompositeVariant(c *models.Composite, mods []*model) (*variant, error) {
	var uniq []*model
	at := make([]int, len(mods)) // role -> index in uniq
	for i, m := range mods {
		at[i] = slices.Index(uniq, m)
		if at[i] < 0 {
			at[i] = len(uniq)
			uniq = append(uniq, m)
		}
	}
	var ms []*models.Manifest
	for _, m := range uniq {
		ms = append(ms, m.manifest)
	}
	lay, err := newLayout(ms)
	if err != nil {
		return nil, err
	}
	v := &variant{models: uniq, roles: mods, layout: lay}
	for _, m := range uniq {
		v.off, v.k = append(v.off, v.K), append(v.k, len(m.manifest.Classes))
		v.K += len(m.manifest.Classes)
	}
	lay.scores = v.K
	ids := map[string]uint8{}
	for _, k := range c.Classes {
		ids[k.Name] = uint8(k.ID)
	}
	for _, r := range c.Rules {
		var conds []cond
		for i, mem := range c.Members {
			want, ok := r.When[mem.Role]
			if !ok {
				continue
			}
			cd := cond{model: at[i], class: -1, minProb: r.MinProb[mem.Role]}
			for j, k := range mods[i].manifest.Classes {
				if k.Name == want {
					cd.class = j
				}
			}
			if cd.class < 0 { // CheckMember ran on every alternative
				return nil, fmt.Errorf("engine: internal error: product %s: model %s has no class %q", c.Name, mods[i].name, want)
			}
			conds = append(conds, cd)
		}
		v.rules, v.ruleID = append(v.rules, conds), append(v.ruleID, ids[r.Class])
	}
	return v, nil
}

// cond is one condition of a composite rule: model decided class, with at
// least probability minProb (0: any).
type cond struct {
	model, class int
	minProb      float64
}

// prob returns model i's probability of its class j at pixel x: the softmax
// of its scores there, 1 / sum over classes c of exp(score c - score j),
// as the confidence output reports it.
func (v *variant) prob(logits [][]float32, i, j, x int) float64 {
	lj := float64(logits[v.off[i]+j][x])
	var s float64
	for c := v.off[i]; c < v.off[i]+v.k[i]; c++ {
		s += math.Exp(float64(logits[c][x]) - lj)
	}
	return 1 / s
}

// compose sets out to the composite class id of each pixel of a native row
// from its score rows (K, a variant's channels), or 255 where a model's
// scores are NaN (no patch covered the pixel); cls is scratch for the
// per-model decisions. It returns the number of such uncovered pixels.
func (v *variant) compose(out []uint8, logits [][]float32, valid []bool, cls [][]int16) (uncovered int64) {
	for i := range v.models {
		stitch.Argmax(cls[i], logits[v.off[i]:v.off[i]+v.k[i]])
	}
	for x := range out {
		if !valid[x] {
			out[x] = 255
			continue
		}
		covered := true
		for i := range v.models {
			covered = covered && cls[i][x] >= 0
		}
		if !covered {
			out[x] = 255
			uncovered++
			continue
		}
	rules:
		for r, conds := range v.rules { // the last rule has no condition
			for _, c := range conds {
				if int(cls[c.model][x]) != c.class {
					continue rules
				}
			}
			for _, c := range conds {
				if c.minProb > 0 && v.prob(logits, c.model, c.class, x) < c.minProb {
					continue rules
				}
			}
			out[x] = v.ruleID[r]
			break
		}
	}
	return uncovered
}

package models

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"sort"
	"strings"
)

//go:embed composites/*.json
var compositeFS embed.FS

// ErrComposite is wrapped by every composite validation error.
var ErrComposite = errors.New("models: invalid composite")

// Composite describes a product made of several models run over the same
// tiles, each deciding its own classes, and the rules that combine their
// decisions into one mask (see MANIFEST.md, "Composite products").
type Composite struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Members     []Member `json:"models"`
	Classes     []Class  `json:"classes"`
	Rules       []Rule   `json:"rules"`
}

// Member is one role of a composite: the first of Models whose bands the
// scene has and whose supported range (Manifest.Supports) holds the pixel
// size the models see is run (e.g. water-cnn at 10 m, MNDWI when there is
// a SWIR band, else NDWI); where none fits the range, the first whose
// bands the scene has. The first member's first model sets the tiling and
// the processing resolution.
type Member struct {
	Role   string   `json:"role"`
	Models []string `json:"models"`
}

// Rule gives Class to a pixel where every role named in When decided the
// class named there and, for each role in MinProb, that role's model gave
// its decided class at least that probability (softmax of its blended
// scores). Rules are tried in order; the last has no condition.
type Rule struct {
	When    map[string]string  `json:"when,omitempty"`
	MinProb map[string]float64 `json:"min_prob,omitempty"`
	Class   string             `json:"class"`
}

// ParseComposite decodes and validates a composite description.
func ParseComposite(data []byte) (*Composite, error) {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	var c Composite
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrComposite, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: trailing data after the JSON object", ErrComposite)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Validate checks the composite on its own (not against its models'
// classes: see CheckMember).
func (c *Composite) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s: "+format, append([]any{ErrComposite, c.Name}, a...)...)
	}
	if c.Name == "" {
		return fmt.Errorf("%w: name is empty", ErrComposite)
	}
	if len(c.Members) < 1 {
		return bad("no models")
	}
	roles := map[string]bool{}
	for _, m := range c.Members {
		if m.Role == "" || roles[m.Role] {
			return bad("roles must be unique and non-empty, got %q", m.Role)
		}
		roles[m.Role] = true
		if len(m.Models) == 0 || slices.Contains(m.Models, "") {
			return bad("role %s lists no model", m.Role)
		}
	}
	if len(c.Classes) < 1 || len(c.Classes) > 254 {
		return bad("%d classes (want 1..254)", len(c.Classes))
	}
	ids, names := map[int]bool{}, map[string]bool{}
	for _, k := range c.Classes {
		if k.ID < 0 || k.ID > 254 || ids[k.ID] || k.Name == "" || names[k.Name] {
			return bad("class ids must be unique in 0..254 and names unique and non-empty, got %d %q", k.ID, k.Name)
		}
		ids[k.ID], names[k.Name] = true, true
	}
	if len(c.Rules) == 0 || len(c.Rules[len(c.Rules)-1].When) != 0 {
		return bad("the last rule must have no condition (the class of every other pixel)")
	}
	for i, r := range c.Rules {
		if !names[r.Class] {
			return bad("rule %d gives class %q, not one of the composite's", i+1, r.Class)
		}
		if i < len(c.Rules)-1 && len(r.When) == 0 {
			return bad("rule %d has no condition but is not the last", i+1)
		}
		for role, v := range r.When {
			if !roles[role] || v == "" {
				return bad("rule %d names role %q (roles: %s)", i+1, role, strings.Join(c.roles(), ", "))
			}
		}
		for role, p := range r.MinProb {
			if _, ok := r.When[role]; !ok {
				return bad("rule %d: min_prob of role %q, which its when does not name (the probability is of the class named there)", i+1, role)
			}
			if !(p > 0 && p < 1) { // NaN fails too
				return bad("rule %d: min_prob of role %q is %v (want 0 < p < 1)", i+1, role, p)
			}
		}
	}
	return nil
}

func (c *Composite) roles() []string {
	var r []string
	for _, m := range c.Members {
		r = append(r, m.Role)
	}
	return r
}

// CheckMember checks that model m can play role: every class the rules
// name for the role is one of m's classes.
func (c *Composite) CheckMember(role string, m *Manifest) error {
	for i, r := range c.Rules {
		want, ok := r.When[role]
		if !ok {
			continue
		}
		if !slices.ContainsFunc(m.Classes, func(k Class) bool { return k.Name == want }) {
			return fmt.Errorf("%w: %s: rule %d wants class %q of role %s, model %s has none", ErrComposite, c.Name, i+1, want, role, m.Name)
		}
	}
	return nil
}

// Composites returns the names of the built-in composites, sorted.
func Composites() []string {
	entries, _ := compositeFS.ReadDir("composites")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".json"))
	}
	sort.Strings(names)
	return names
}

// BuiltinComposite returns the built-in composite called name.
func BuiltinComposite(name string) (*Composite, error) {
	b, err := compositeFS.ReadFile(path.Join("composites", name+".json"))
	if err != nil || strings.ContainsAny(name, `/\.`) {
		return nil, fmt.Errorf("%w: no built-in product %q (built-in: %s)", ErrComposite, name, strings.Join(Composites(), ", "))
	}
	return ParseComposite(b)
}

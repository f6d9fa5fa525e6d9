package eval

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/omnimask/omnimask/internal/regfile"
)

// Run is a run description: the scenes to predict, their reference masks and
// how to read and score them. Its Settings (sensor, bands, resolution_m,
// label_map, scale, offset) are defaults that a scene may override.
type Run struct {
	Name        string `json:"name" yaml:"name"`
	Description string `json:"description,omitempty" yaml:"description"`
	// DataRoot is the folder scene and mask paths are relative to, itself
	// relative to the run file's folder; empty means the run file's folder.
	DataRoot string `json:"data_root,omitempty" yaml:"data_root"`

	Settings `yaml:",inline"`
	// Product, when set, runs that composite product (engine.Request.Product,
	// e.g. "water") instead of the engine's models; groups then name the
	// product's classes.
	Product string `json:"product,omitempty" yaml:"product"`

	// Groups are the scoring groups, in report order; every model class
	// must belong to exactly one.
	Groups Groups  `json:"groups" yaml:"groups"`
	Scenes []Scene `json:"scenes" yaml:"scenes"`

	// Path is the run file read by LoadRunFile ("" when parsed from bytes).
	Path string `json:"-" yaml:"-"`
}

// Settings are how a run's scenes are read and scored: a run's are the
// defaults of its scenes, a scene's override them field by field (Scale
// and Offset together).
type Settings struct {
	Sensor     string   `json:"sensor,omitempty" yaml:"sensor"`
	Bands      string   `json:"bands,omitempty" yaml:"bands"`
	Resolution float64  `json:"resolution_m,omitempty" yaml:"resolution_m"`
	LabelMap   LabelMap `json:"label_map,omitempty" yaml:"label_map"`
	// Scale and Offset give the scenes' reflectance (value x scale +
	// offset) to models that want reflectance (engine.Request.Scale).
	Scale  []float64 `json:"scale,omitempty" yaml:"scale"`
	Offset []float64 `json:"offset,omitempty" yaml:"offset"`
}

// or returns s with what it leaves unset taken from d.
func (s Settings) or(d Settings) Settings {
	if s.Sensor == "" {
		s.Sensor = d.Sensor
	}
	if s.Bands == "" {
		s.Bands = d.Bands
	}
	if s.Resolution == 0 {
		s.Resolution = d.Resolution
	}
	if s.LabelMap == nil {
		s.LabelMap = d.LabelMap
	}
	if s.Scale == nil && s.Offset == nil {
		s.Scale, s.Offset = d.Scale, d.Offset
	}
	return s
}

// Scene is one scene of a run. After parsing, the run's defaults are filled
// in, so every field holds the value in effect.
type Scene struct {
	Name     string `json:"name,omitempty" yaml:"name"`
	Image    Files  `json:"image" yaml:"image"`
	Mask     string `json:"mask" yaml:"mask"`
	Settings `yaml:",inline"`
}

// Files is one image file, or several per-band files stacked in order. In a
// run file it is a string or a list of strings.
type Files []string

// UnmarshalJSON accepts a string or an array of strings.
func (f *Files) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*f = Files{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("image must be a file name or a list of file names")
	}
	*f = many
	return nil
}

// UnmarshalYAML accepts a scalar or a sequence of scalars.
func (f *Files) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*f = Files{n.Value}
		return nil
	}
	var many []string
	if err := n.Decode(&many); err != nil {
		return fmt.Errorf("line %d: image must be a file name or a list of file names", n.Line)
	}
	*f = many
	return nil
}

// Label is what a code of a reference mask means: a model class, a whole
// scoring group (for references coarser than the model, e.g. "cloud"), or
// nothing (ignored).
type Label struct {
	Class  int    // model class id, when Group is "" and Ignore is false
	Group  string // scoring group name
	Ignore bool
}

// LabelMap maps the codes of a reference mask to labels. Codes absent from
// the map are ignored. In a run file it is an object from codes to a class
// id (number), a group name (string) or null (ignored).
type LabelMap map[int]Label

// UnmarshalJSON decodes {"128": 0, "1": "cloud", "255": null}.
func (m *LabelMap) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return errors.New("label_map must be an object from codes to class ids, group names or null")
	}
	out := LabelMap{}
	for k, v := range raw {
		code, err := parseCode(k)
		if err != nil {
			return err
		}
		var l Label
		var s string
		switch {
		case string(bytes.TrimSpace(v)) == "null":
			l.Ignore = true
		case json.Unmarshal(v, &l.Class) == nil:
		case json.Unmarshal(v, &s) == nil:
			l.Group = s
		default:
			return fmt.Errorf("label_map[%s]: %s is not a class id, group name or null", k, v)
		}
		out[code] = l
	}
	*m = out
	return nil
}

// UnmarshalYAML decodes a mapping with the same meaning as in JSON.
func (m *LabelMap) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: label_map must be a mapping from codes to class ids, group names or null", n.Line)
	}
	out := LabelMap{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		code, err := parseCode(k.Value)
		if err != nil {
			return fmt.Errorf("line %d: %w", k.Line, err)
		}
		if _, dup := out[code]; dup {
			return fmt.Errorf("line %d: label_map code %d given twice", k.Line, code)
		}
		var l Label
		switch {
		case v.Kind != yaml.ScalarNode:
			return fmt.Errorf("line %d: label_map[%d] must be a class id, group name or null", v.Line, code)
		case v.Tag == "!!null":
			l.Ignore = true
		case v.Tag == "!!int":
			c, err := strconv.Atoi(v.Value)
			if err != nil {
				return fmt.Errorf("line %d: label_map[%d]: %q is not a class id", v.Line, code, v.Value)
			}
			l.Class = c
		case v.Tag == "!!str":
			l.Group = v.Value
		default:
			return fmt.Errorf("line %d: label_map[%d]: %q is not a class id, group name or null", v.Line, code, v.Value)
		}
		out[code] = l
	}
	*m = out
	return nil
}

func parseCode(s string) (int, error) {
	c, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || c < math.MinInt32 || c > math.MaxInt32 {
		return 0, fmt.Errorf("label_map code %q is not an integer", s)
	}
	return c, nil
}

// Group is a scoring group: the model classes scored as one.
type Group struct {
	Name    string `json:"name"`
	Classes []int  `json:"classes"`
}

// Groups are scoring groups in order. In a run file they are an object from
// group names to lists of model class ids, e.g. {"clear": [0], "cloud": [1, 2]};
// the object's order is kept.
type Groups []Group

// UnmarshalJSON decodes an object, keeping the order of its keys.
func (g *Groups) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	bad := errors.New("groups must be an object from group names to lists of class ids")
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return bad
	}
	var out Groups
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return bad
		}
		var classes []int
		if err := dec.Decode(&classes); err != nil {
			return fmt.Errorf("groups[%q]: must be a list of class ids", t)
		}
		out = append(out, Group{Name: t.(string), Classes: classes})
	}
	*g = out
	return nil
}

// UnmarshalYAML decodes a mapping, keeping the order of its keys.
func (g *Groups) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: groups must be a mapping from group names to lists of class ids", n.Line)
	}
	var out Groups
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		var classes []int
		if err := v.Decode(&classes); err != nil {
			return fmt.Errorf("line %d: groups[%q] must be a list of class ids", v.Line, k.Value)
		}
		out = append(out, Group{Name: k.Value, Classes: classes})
	}
	*g = out
	return nil
}

// LoadRunFile reads and validates a run file (JSON, or YAML for .yaml/.yml
// files and anything not starting with '{').
func LoadRunFile(path string) (*Run, error) {
	data, err := regfile.Read(path, 16<<20)
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	r, err := ParseRunFile(path, data)
	if err != nil {
		return nil, err
	}
	r.Path = path
	return r, nil
}

// ParseRunFile parses and validates a run description; name is used for the
// format (by extension) and in errors. Unknown fields are errors.
func ParseRunFile(name string, data []byte) (*Run, error) {
	var r Run
	if err := decode(name, data, &r); err != nil {
		return nil, fmt.Errorf("eval: %s: %w", name, err)
	}
	if r.Name == "" {
		base := filepath.Base(name)
		r.Name = strings.TrimSuffix(base, filepath.Ext(base))
	}
	if err := r.validate(); err != nil {
		return nil, fmt.Errorf("eval: %s: %w", name, err)
	}
	return &r, nil
}

func decode(name string, data []byte, r *Run) error {
	ext := strings.ToLower(filepath.Ext(name))
	isJSON := ext == ".json" || (ext != ".yaml" && ext != ".yml" && bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")))
	if isJSON {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(r); err != nil {
			return err
		}
		if _, err := dec.Token(); err != io.EOF {
			return errors.New("trailing data after the JSON object")
		}
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(r); err != nil {
		if err == io.EOF {
			return errors.New("empty run file")
		}
		return err
	}
	return nil
}

// validate checks the run and fills in the scenes' defaults.
func (r *Run) validate() error {
	if len(r.Groups) < 2 {
		return errors.New("groups: at least two scoring groups are needed, e.g. {\"clear\": [0], \"cloud\": [1, 2]}")
	}
	inGroup := map[int]string{}
	names := map[string]bool{}
	for _, g := range r.Groups {
		if g.Name == "" || names[g.Name] {
			return fmt.Errorf("groups: group names must be unique and non-empty (%q)", g.Name)
		}
		names[g.Name] = true
		if len(g.Classes) == 0 {
			return fmt.Errorf("groups: %q has no classes", g.Name)
		}
		for _, c := range g.Classes {
			if c < 0 || c > 254 {
				return fmt.Errorf("groups: %q: class %d outside 0..254", g.Name, c)
			}
			if o, ok := inGroup[c]; ok {
				return fmt.Errorf("groups: class %d is in both %q and %q", c, o, g.Name)
			}
			inGroup[c] = g.Name
		}
	}
	if len(r.Scenes) == 0 {
		return errors.New("no scenes")
	}
	if err := r.checkScalars(r.Resolution, r.LabelMap, inGroup, names, "run"); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i := range r.Scenes {
		s := &r.Scenes[i]
		s.Settings = s.Settings.or(r.Settings)
		switch s.Sensor {
		case "":
			s.Sensor = "unknown"
		case "all":
			return fmt.Errorf("scene %d: sensor name \"all\" is reserved for the overall scores", i+1)
		}
		if len(s.Image) == 0 || s.Mask == "" {
			return fmt.Errorf("scene %d: image and mask are required", i+1)
		}
		for _, f := range s.Image {
			if f == "" {
				return fmt.Errorf("scene %d: empty image file name", i+1)
			}
		}
		if s.Name == "" {
			s.Name = defaultName(s.Image)
		}
		if seen[s.Name] {
			return fmt.Errorf("scene %d: name %q used twice (set \"name\")", i+1, s.Name)
		}
		seen[s.Name] = true
		if len(s.LabelMap) == 0 {
			return fmt.Errorf("scene %q: no label_map", s.Name)
		}
		if err := r.checkScalars(s.Resolution, s.LabelMap, inGroup, names, "scene "+strconv.Quote(s.Name)); err != nil {
			return err
		}
	}
	return nil
}

func (r *Run) checkScalars(res float64, lm LabelMap, inGroup map[int]string, groups map[string]bool, where string) error {
	if res < 0 || math.IsNaN(res) || math.IsInf(res, 0) {
		return fmt.Errorf("%s: resolution_m %g must be a positive number of metres", where, res)
	}
	for code, l := range lm {
		switch {
		case l.Ignore:
		case l.Group != "":
			if !groups[l.Group] {
				return fmt.Errorf("%s: label_map[%d]: no group %q", where, code, l.Group)
			}
		default:
			if _, ok := inGroup[l.Class]; !ok {
				return fmt.Errorf("%s: label_map[%d]: class %d is in no group", where, code, l.Class)
			}
		}
	}
	return nil
}

// defaultName names a scene after its image file, or after the folder of
// per-band files.
func defaultName(files Files) string {
	if len(files) > 1 {
		return filepath.Base(filepath.Dir(files[0]))
	}
	b := filepath.Base(files[0])
	b = strings.TrimSuffix(b, filepath.Ext(b))
	return strings.TrimSuffix(b, "_image")
}

// Root returns the folder scene paths are resolved against: dataRoot when
// not empty (relative to the working directory), else the run's data_root
// relative to the run file's folder.
func (r *Run) Root(dataRoot string) string {
	if dataRoot != "" {
		return dataRoot
	}
	dir := filepath.Dir(r.Path)
	if r.Path == "" {
		dir = "."
	}
	if filepath.IsAbs(r.DataRoot) {
		return r.DataRoot
	}
	return filepath.Join(dir, r.DataRoot)
}

func resolve(root, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(root, p)
}

package models

import (
	"fmt"
	"strings"
)

// Derived-input operators: the functions of scene bands a manifest input may
// name instead of a band (see MANIFEST.md, "Derived inputs").
const (
	// NormDiff is the normalised difference nd(a,b) = (a - b) / (a + b),
	// e.g. NDWI nd(green,nir), MNDWI nd(green,swir1), NDVI nd(nir,red).
	NormDiff = "nd"
)

// Input is one channel of a model's input: a scene band (Op empty, Args[0]
// the band's name) or an index derived from named bands.
type Input struct {
	Name string   // as the manifest writes it
	Op   string   // "" for a band, NormDiff for a normalised difference
	Args []string // the bands: one for a band, the operands of a derived input
}

// Derived reports whether the input is computed from bands.
func (in Input) Derived() bool { return in.Op != "" }

// String returns the canonical form: the band name, or op(a,b).
func (in Input) String() string {
	if !in.Derived() {
		return in.Args[0]
	}
	return in.Op + "(" + strings.Join(in.Args, ",") + ")"
}

// ParseInput parses one manifest input: a band name, or op(a,b) with a known
// operator and two distinct band names. A name with a parenthesis is always
// read as a derived input, so a typo is an error rather than a band name.
func ParseInput(s string) (Input, error) {
	open := strings.IndexByte(s, '(')
	if open < 0 && !strings.ContainsAny(s, "),") {
		if strings.TrimSpace(s) == "" {
			return Input{}, fmt.Errorf("%w: empty input name", ErrManifest)
		}
		return Input{Name: s, Args: []string{s}}, nil
	}
	op := strings.ToLower(strings.TrimSpace(s[:max(open, 0)]))
	if open < 0 || !strings.HasSuffix(strings.TrimSpace(s), ")") {
		return Input{}, fmt.Errorf("%w: input %q: want a band name or op(band,band)", ErrManifest, s)
	}
	body := strings.TrimSuffix(strings.TrimSpace(s), ")")[open+1:]
	if op != NormDiff {
		return Input{}, fmt.Errorf("%w: input %q: unknown operator %q (known: %s)", ErrManifest, s, op, NormDiff)
	}
	args := strings.Split(body, ",")
	if len(args) != 2 {
		return Input{}, fmt.Errorf("%w: input %q: %s takes two bands", ErrManifest, s, op)
	}
	for i, a := range args {
		args[i] = strings.TrimSpace(a)
		if args[i] == "" || strings.ContainsAny(args[i], "()") {
			return Input{}, fmt.Errorf("%w: input %q: band %d is not a band name", ErrManifest, s, i+1)
		}
	}
	if strings.EqualFold(args[0], args[1]) {
		return Input{}, fmt.Errorf("%w: input %q: the two bands must differ", ErrManifest, s)
	}
	return Input{Name: s, Op: op, Args: args}, nil
}

// Inputs returns the model's input channels in order. The manifest must be
// valid (ParseManifest or Validate).
func (m *Manifest) Inputs() []Input {
	ins := make([]Input, len(m.Bands))
	for i, b := range m.Bands {
		in, err := ParseInput(b)
		if err != nil { // not validated: keep the name as a band
			in = Input{Name: b, Args: []string{b}}
		}
		ins[i] = in
	}
	return ins
}

// SourceBands returns the scene bands the model reads: each band input, and
// each band a derived input names, once (case-insensitively), in order of
// first mention. For a model without derived inputs it is Bands.
func (m *Manifest) SourceBands() []string {
	var out []string
	for _, in := range m.Inputs() {
		for _, a := range in.Args {
			if indexFold(out, a) < 0 {
				out = append(out, a)
			}
		}
	}
	return out
}

// HasDerived reports whether any input is derived from bands.
func (m *Manifest) HasDerived() bool {
	for _, in := range m.Inputs() {
		if in.Derived() {
			return true
		}
	}
	return false
}

// InputNormalization returns how input i is normalised: derived inputs
// (indices, already in [-1, 1] and invariant to a common gain) are fed as
// computed (None); band inputs follow the manifest's normalisation, with
// mean and std of input i for Fixed.
func (m *Manifest) InputNormalization(i int) (kind string, mean, std float64) {
	if in, err := ParseInput(m.Bands[i]); err == nil && in.Derived() {
		return None, 0, 1
	}
	if m.Normalization.Kind == Fixed {
		return Fixed, m.Normalization.Mean[i], m.Normalization.Std[i]
	}
	return m.Normalization.Kind, 0, 1
}

// validateInputs checks the inputs: each parses, and a fixed normalisation
// gives derived inputs mean 0 and std 1 (they are not normalised; any other
// value would be silently ignored).
func (m *Manifest) validateInputs() error {
	for i, b := range m.Bands {
		in, err := ParseInput(b)
		if err != nil {
			return err
		}
		if in.Derived() && m.Normalization.Kind == Fixed && len(m.Normalization.Mean) == len(m.Bands) &&
			(m.Normalization.Mean[i] != 0 || m.Normalization.Std[i] != 1) {
			return fmt.Errorf("%w: derived input %q is not normalised: its fixed mean and std must be 0 and 1", ErrManifest, b)
		}
	}
	return nil
}

func indexFold(list []string, s string) int {
	for i, v := range list {
		if strings.EqualFold(v, s) {
			return i
		}
	}
	return -1
}

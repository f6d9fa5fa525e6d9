package preprocess

import (
	"fmt"
	"strconv"
	"strings"
)

// BandRef names a source band: by 1-based Index, or by Name when Index is 0.
type BandRef struct {
	Index int
	Name  string
}

func (r BandRef) String() string {
	if r.Index > 0 {
		return strconv.Itoa(r.Index)
	}
	return strconv.Quote(r.Name)
}

// ParseBands parses a band specification for a model that wants the bands
// named in want, and returns one reference per wanted band, in want's order.
// Accepted forms:
//
//	""                       no spec: match by name (returns nil)
//	"3,2,4"                  indices in the model's band order
//	"B04,B03,B08"            band names (GDAL descriptions) in that order
//	"red=3,green=2,nir=B08"  mapping from the model's band names
func ParseBands(spec string, want []string) ([]BandRef, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, nil
	}
	parts := strings.Split(spec, ",")
	refs := make([]BandRef, len(want))
	if strings.Contains(spec, "=") {
		set := make([]bool, len(want))
		for _, p := range parts {
			k, v, ok := strings.Cut(p, "=")
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			if !ok || k == "" || v == "" {
				return nil, fmt.Errorf("preprocess: band spec %q: %q is not name=band", spec, p)
			}
			i := indexFold(want, k)
			if i < 0 {
				return nil, fmt.Errorf("preprocess: band spec %q: the model has no band %q (it wants %s)", spec, k, strings.Join(want, ", "))
			}
			if set[i] {
				return nil, fmt.Errorf("preprocess: band spec %q: %q given twice", spec, k)
			}
			set[i] = true
			r, err := parseRef(v)
			if err != nil {
				return nil, fmt.Errorf("preprocess: band spec %q: %w", spec, err)
			}
			refs[i] = r
		}
		for i, ok := range set {
			if !ok {
				return nil, fmt.Errorf("preprocess: band spec %q does not map model band %q", spec, want[i])
			}
		}
	} else {
		if len(parts) != len(want) {
			return nil, fmt.Errorf("preprocess: band spec %q gives %d bands, the model wants %d (%s)", spec, len(parts), len(want), strings.Join(want, ", "))
		}
		for i, p := range parts {
			r, err := parseRef(strings.TrimSpace(p))
			if err != nil {
				return nil, fmt.Errorf("preprocess: band spec %q: %w", spec, err)
			}
			refs[i] = r
		}
	}
	for i := range refs {
		for j := 0; j < i; j++ {
			if refs[i] == refs[j] || (refs[i].Index == 0 && refs[j].Index == 0 && strings.EqualFold(refs[i].Name, refs[j].Name)) {
				return nil, fmt.Errorf("preprocess: band spec %q uses band %s twice", spec, refs[i])
			}
		}
	}
	return refs, nil
}

func parseRef(v string) (BandRef, error) {
	if v == "" {
		return BandRef{}, fmt.Errorf("empty band")
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 1 {
			return BandRef{}, fmt.Errorf("band index %d < 1 (indices are 1-based)", n)
		}
		return BandRef{Index: n}, nil
	}
	if strings.ContainsAny(v, " \t\"") {
		return BandRef{}, fmt.Errorf("band name %q has spaces or quotes", v)
	}
	return BandRef{Name: v}, nil
}

func indexFold(list []string, s string) int {
	for i, v := range list {
		if strings.EqualFold(v, s) {
			return i
		}
	}
	return -1
}

// ResolveBands maps references onto the available band names (1-based
// positions in names), returning 0-based indices. With refs nil it matches
// the wanted names against the available names case-insensitively; when
// nothing matches and the counts agree it takes the bands in order and says
// so in the returned note.
func ResolveBands(refs []BandRef, want, names []string) (idx []int, note string, err error) {
	if refs == nil {
		idx = make([]int, len(want))
		missing := []string{}
		for i, w := range want {
			idx[i] = indexFold(names, w)
			if idx[i] < 0 {
				missing = append(missing, w)
			}
		}
		if len(missing) == 0 {
			return idx, "", nil
		}
		if len(missing) == len(want) && len(names) == len(want) {
			for i := range idx {
				idx[i] = i
			}
			return idx, fmt.Sprintf("bands have no matching names; using bands 1..%d as %s (use --bands to choose)", len(want), strings.Join(want, ", ")), nil
		}
		if len(names) < len(want) {
			return nil, "", fmt.Errorf("no band named %s among %d bands %s; the model wants %d bands, %s",
				strings.Join(missing, ", "), len(names), quoteList(names), len(want), strings.Join(want, ", "))
		}
		return nil, "", fmt.Errorf("no band named %s among %d bands %s; the model wants %s (choose them with a band spec, e.g. %s)",
			strings.Join(missing, ", "), len(names), quoteList(names), strings.Join(want, ", "), exampleSpec(want, idx, len(names)))
	}
	idx = make([]int, len(refs))
	for i, r := range refs {
		if r.Index > 0 {
			if r.Index > len(names) {
				return nil, "", fmt.Errorf("band %d requested for %s, but there are only %d bands", r.Index, want[i], len(names))
			}
			idx[i] = r.Index - 1
			continue
		}
		idx[i] = indexFold(names, r.Name)
		if idx[i] < 0 {
			return nil, "", fmt.Errorf("no band named %q (bands: %s)", r.Name, quoteList(names))
		}
	}
	for i := range idx {
		for j := 0; j < i; j++ {
			if idx[i] == idx[j] {
				return nil, "", fmt.Errorf("band %d is used for both %s and %s", idx[i]+1, want[j], want[i])
			}
		}
	}
	return idx, "", nil
}

// Limits of band lists in messages: a 20,000-band VRT once made a
// 309,074-character error line.
const (
	maxListed   = 12 // bands named in a list; the rest are counted
	maxNameRune = 40 // characters of one band name
)

// quoteList lists band names with their positions for a message: at most
// maxListed of them (the first ones and the last), each cut to maxNameRune
// characters, control characters escaped.
func quoteList(names []string) string {
	one := func(i int) string {
		n := names[i]
		if n == "" {
			n = "(unnamed)"
		}
		if r := []rune(n); len(r) > maxNameRune {
			n = string(r[:maxNameRune]) + "…"
		}
		if strings.IndexFunc(n, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
			n = strconv.Quote(n)
		}
		return strconv.Itoa(i+1) + ":" + n
	}
	var q []string
	if len(names) <= maxListed {
		for i := range names {
			q = append(q, one(i))
		}
	} else {
		for i := 0; i < maxListed-2; i++ {
			q = append(q, one(i))
		}
		q = append(q, fmt.Sprintf("… %d more …", len(names)-maxListed))
		q = append(q, one(len(names)-2), one(len(names)-1))
	}
	return "[" + strings.Join(q, " ") + "]"
}

// exampleSpec suggests a --bands mapping that only uses bands the scene
// has: the bands matched by name (found[i] >= 0) where they are, the others
// on the scene's unused bands in order. n >= len(want).
func exampleSpec(want []string, found []int, n int) string {
	used := make([]bool, n)
	for _, f := range found {
		if f >= 0 {
			used[f] = true
		}
	}
	parts := make([]string, len(want))
	next := 0
	for i, w := range want {
		b := found[i]
		if b < 0 {
			for used[next] {
				next++
			}
			b, used[next] = next, true
		}
		parts[i] = fmt.Sprintf("%s=%d", w, b+1)
	}
	return strings.Join(parts, ",")
}

// QuoteBands lists band names as messages show them: "[1:red 2:(unnamed)…]",
// escaped, at most 12 and a count of the rest.
func QuoteBands(names []string) string { return quoteList(names) }

// AnyNamed reports whether any band has a name: a scene whose bands have
// none can only be matched to a model's bands by position.
func AnyNamed(names []string) bool {
	for _, n := range names {
		if n != "" {
			return true
		}
	}
	return false
}

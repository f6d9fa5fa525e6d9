package preprocess

import (
	"reflect"
	"strings"
	"testing"
)

var rgn = []string{"red", "green", "nir"}

func idx(i int) BandRef     { return BandRef{Index: i} }
func name(s string) BandRef { return BandRef{Name: s} }

func TestParseBands(t *testing.T) {
	tests := []struct {
		spec string
		want []BandRef
	}{
		{"", nil},
		{"   ", nil},
		{"3,2,4", []BandRef{idx(3), idx(2), idx(4)}},
		{" 3 , 2 ,\t4 ", []BandRef{idx(3), idx(2), idx(4)}},
		{"03,2,10", []BandRef{idx(3), idx(2), idx(10)}},
		{"B04,B03,B08", []BandRef{name("B04"), name("B03"), name("B08")}},
		{"B04, B03 , B08", []BandRef{name("B04"), name("B03"), name("B08")}},
		{"B04,2,B08", []BandRef{name("B04"), idx(2), name("B08")}},
		{"red=3,green=2,nir=B08", []BandRef{idx(3), idx(2), name("B08")}},
		// Mapping order does not matter; the result is in the model's order.
		{"nir=B08,red=3,green=2", []BandRef{idx(3), idx(2), name("B08")}},
		{" nir = 4 , red= 3,green =2 ", []BandRef{idx(3), idx(2), idx(4)}},
		// Model band names match case-insensitively.
		{"RED=1,Green=2,NiR=3", []BandRef{idx(1), idx(2), idx(3)}},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := ParseBands(tt.spec, rgn)
			if err != nil {
				t.Fatalf("ParseBands(%q) error: %v", tt.spec, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseBands(%q) = %v, want %v", tt.spec, got, tt.want)
			}
		})
	}
}

func TestParseBandsErrors(t *testing.T) {
	tests := []struct {
		name, spec, msg string
	}{
		{"too few", "3,2", "gives 2 bands, the model wants 3 (red, green, nir)"},
		{"too many", "1,2,3,4", "gives 4 bands, the model wants 3"},
		{"trailing comma", "1,2,3,", "gives 4 bands"},
		{"single", "1", "gives 1 bands"},
		{"empty element", "1,,3", "empty band"},
		{"blank element", "1, ,3", "empty band"},
		{"index 0", "0,2,3", "band index 0 < 1 (indices are 1-based)"},
		{"negative index", "1,-2,3", "band index -2 < 1"},
		{"duplicate index", "3,2,3", "uses band 3 twice"},
		{"duplicate index spelled differently", "3,2,03", "uses band 3 twice"},
		{"duplicate name", "B04,B03,B04", `uses band "B04" twice`},
		{"duplicate name case-insensitive", "B04,B03,b04", `uses band "b04" twice`},
		{"name with space", "B04,B 03,B08", "has spaces or quotes"},
		{"name with quote", `B04,"B03",B08`, "has spaces or quotes"},
		{"unknown model band", "red=3,green=2,blue=1", `the model has no band "blue" (it wants red, green, nir)`},
		{"model band twice", "red=3,green=2,RED=1", `"RED" given twice`},
		{"missing mapping", "red=3,green=2", `does not map model band "nir"`},
		{"name=", "red=3,green=,nir=4", `"green=" is not name=band`},
		{"=band", "red=3,=2,nir=4", `"=2" is not name=band`},
		{"mixed forms", "red=3,2,nir=4", `"2" is not name=band`},
		{"empty mapping element", "red=3,,green=2,nir=4", `"" is not name=band`},
		{"mapped index 0", "red=0,green=2,nir=4", "band index 0 < 1"},
		{"mapped negative", "red=-1,green=2,nir=4", "band index -1 < 1"},
		{"mapped duplicate", "red=3,green=3,nir=4", "uses band 3 twice"},
		{"mapped duplicate name", "red=B04,green=b04,nir=B08", "twice"},
		{"mapped name with space", "red=B 04,green=2,nir=3", "has spaces or quotes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			refs, err := ParseBands(tt.spec, rgn)
			if err == nil {
				t.Fatalf("ParseBands(%q) = %v, want an error", tt.spec, refs)
			}
			if refs != nil {
				t.Errorf("ParseBands(%q) returned refs %v with its error", tt.spec, refs)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("ParseBands(%q) error %q does not contain %q", tt.spec, err, tt.msg)
			}
			if !strings.HasPrefix(err.Error(), "preprocess: band spec") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestBandRefString(t *testing.T) {
	if s := idx(4).String(); s != "4" {
		t.Errorf("BandRef{Index: 4} = %s", s)
	}
	if s := name("B04").String(); s != `"B04"` {
		t.Errorf(`BandRef{Name: "B04"} = %s`, s)
	}
}

func TestResolveBands(t *testing.T) {
	tests := []struct {
		name     string
		refs     []BandRef
		names    []string
		want     []int
		wantNote string
	}{
		{
			name:  "by name",
			names: []string{"red", "green", "nir"},
			want:  []int{0, 1, 2},
		},
		{
			name:  "by name, case-insensitive, reordered, extra bands",
			names: []string{"Blue", "NIR", "Red", "GREEN", "swir"},
			want:  []int{2, 3, 1},
		},
		{
			name:     "no names match, counts agree: bands in order with a note",
			names:    []string{"Band 1", "Band 2", "Band 3"},
			want:     []int{0, 1, 2},
			wantNote: "bands have no matching names; using bands 1..3 as red, green, nir (use --bands to choose)",
		},
		{
			name:     "unnamed bands",
			names:    []string{"", "", ""},
			want:     []int{0, 1, 2},
			wantNote: "using bands 1..3",
		},
		{
			name:  "indices",
			refs:  []BandRef{idx(3), idx(1), idx(4)},
			names: []string{"a", "b", "c", "d"},
			want:  []int{2, 0, 3},
		},
		{
			name:  "names, case-insensitive",
			refs:  []BandRef{name("b04"), name("B03"), name("b08")},
			names: []string{"B02", "B03", "B04", "B08"},
			want:  []int{2, 1, 3},
		},
		{
			name:  "mixed",
			refs:  []BandRef{idx(4), name("b03"), idx(1)},
			names: []string{"B02", "B03", "B04", "B08"},
			want:  []int{3, 1, 0},
		},
		{
			name:  "index past names that match by name",
			refs:  []BandRef{idx(1), idx(2), idx(3)},
			names: []string{"nir", "red", "green"},
			want:  []int{0, 1, 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, note, err := ResolveBands(tt.refs, rgn, tt.names)
			if err != nil {
				t.Fatalf("ResolveBands error: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ResolveBands = %v, want %v", got, tt.want)
			}
			if tt.wantNote == "" && note != "" || !strings.Contains(note, tt.wantNote) {
				t.Errorf("note = %q, want %q", note, tt.wantNote)
			}
		})
	}
}

func TestResolveBandsErrors(t *testing.T) {
	tests := []struct {
		name  string
		refs  []BandRef
		names []string
		msg   []string
	}{
		{
			name:  "no names match, counts differ",
			names: []string{"b1", "b2", "b3", "b4"},
			msg:   []string{"no band named red, green, nir among 4 bands [1:b1 2:b2 3:b3 4:b4]", "band spec, e.g. red=1,green=2,nir=3"},
		},
		{
			name:  "some names match",
			names: []string{"red", "x", "y"},
			msg:   []string{"no band named green, nir among 3 bands", "e.g. red=1,green=2,nir=3"},
		},
		{
			// The hint keeps the matched band where it is and uses only
			// bands the scene has (it suggested band 3, absent, before).
			name:  "hint only uses the scene's bands",
			names: []string{"x", "nir"},
			msg:   []string{"no band named red, green among 2 bands", "the model wants 3 bands, red, green, nir"},
		},
		{
			name:  "hint keeps matched bands in place",
			names: []string{"nir", "a", "red", "b"},
			msg:   []string{"no band named green among 4 bands", "e.g. red=3,green=2,nir=1)"},
		},
		{
			name:  "too few unnamed bands",
			names: []string{"", ""},
			msg:   []string{"among 2 bands [1:(unnamed) 2:(unnamed)]", "the model wants 3 bands"},
		},
		{
			name:  "index out of range",
			refs:  []BandRef{idx(1), idx(4), idx(2)},
			names: []string{"a", "b", "c"},
			msg:   []string{"band 4 requested for green, but there are only 3 bands"},
		},
		{
			name:  "unknown name",
			refs:  []BandRef{name("B04"), name("B03"), name("B8A")},
			names: []string{"B04", "B03", "B08"},
			msg:   []string{`no band named "B8A" (bands: [1:B04 2:B03 3:B08])`},
		},
		{
			name:  "index and name resolve to the same band",
			refs:  []BandRef{idx(1), name("b04"), idx(3)},
			names: []string{"B04", "B03", "B08"},
			msg:   []string{"band 1 is used for both red and green"},
		},
		{
			name:  "two names resolve to the same band",
			refs:  []BandRef{idx(2), name("dup"), name("DUP")},
			names: []string{"dup", "x", "Dup"},
			msg:   []string{"band 1 is used for both green and nir"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, note, err := ResolveBands(tt.refs, rgn, tt.names)
			if err == nil {
				t.Fatalf("ResolveBands = %v (note %q), want an error", got, note)
			}
			if got != nil || note != "" {
				t.Errorf("ResolveBands returned %v, %q with its error", got, note)
			}
			for _, m := range tt.msg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not contain %q", err, m)
				}
			}
		})
	}
}

// A spec parsed against the model's bands resolves against a file's bands.
func TestParseThenResolve(t *testing.T) {
	names := []string{"B02", "B03", "B04", "B08"}
	for _, tc := range []struct {
		spec string
		want []int
	}{
		{"3,2,4", []int{2, 1, 3}},
		{"B04,B03,B08", []int{2, 1, 3}},
		{"red=3,green=B03,nir=b08", []int{2, 1, 3}},
	} {
		refs, err := ParseBands(tc.spec, rgn)
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := ResolveBands(refs, rgn, names)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: ResolveBands = %v, %v; want %v", tc.spec, got, err, tc.want)
		}
	}
}

func FuzzParseBands(f *testing.F) {
	for _, s := range []string{
		"", " ", "3,2,4", " 3 , 2 , 4 ", "B04,B03,B08", "red=3,green=2,nir=B08",
		"nir=B08,red=3,green=2", "RED=1,Green=2,NIR=3", "3,2", "1,2,3,4", "1,,3",
		"0,2,3", "-1,2,3", "3,3,4", "B04,b04,B08", "red=3,green=2", "red=,green=2,nir=3",
		"=3,green=2,nir=4", "red=3,2,nir=4", "red=3,red=2,nir=4", "red=3,green=2,blue=4",
		"red=3=4,green=2,nir=1", `"B04",B03,B08`, "+3,2,4", "99999999999999999999,1,2",
		"red=B04,green=b04,nir=B08", "ſ,s,S", "\u212a,k,x",
	} {
		f.Add(s)
	}
	names := []string{"B02", "B03", "B04", "B08", "red", "green", "nir", ""}
	f.Fuzz(func(t *testing.T, spec string) {
		refs, err := ParseBands(spec, rgn)
		if err != nil {
			if refs != nil {
				t.Fatalf("ParseBands(%q) returned refs %v with error %v", spec, refs, err)
			}
			return
		}
		if strings.TrimSpace(spec) == "" {
			if refs != nil {
				t.Fatalf("ParseBands(%q) = %v, want nil for an empty spec", spec, refs)
			}
			return
		}
		if len(refs) != len(rgn) {
			t.Fatalf("ParseBands(%q) = %d refs, want %d", spec, len(refs), len(rgn))
		}
		for i, r := range refs {
			switch {
			case r.Index > 0 && r.Name != "":
				t.Fatalf("ParseBands(%q)[%d] = %+v has both index and name", spec, i, r)
			case r.Index < 0, r.Index == 0 && r.Name == "":
				t.Fatalf("ParseBands(%q)[%d] = %+v is not a band", spec, i, r)
			case r.Index == 0 && strings.ContainsAny(r.Name, " \t\","):
				t.Fatalf("ParseBands(%q)[%d] = %+v: bad name", spec, i, r)
			}
			for j := 0; j < i; j++ {
				if r == refs[j] || r.Index == 0 && refs[j].Index == 0 && strings.EqualFold(r.Name, refs[j].Name) {
					t.Fatalf("ParseBands(%q) = %v uses a band twice", spec, refs)
				}
			}
		}
		// Resolving must not panic, and what it resolves has no duplicates.
		idx, _, err := ResolveBands(refs, rgn, names)
		if err == nil {
			seen := map[int]bool{}
			for _, i := range idx {
				if i < 0 || i >= len(names) || seen[i] {
					t.Fatalf("ResolveBands(%v) = %v", refs, idx)
				}
				seen[i] = true
			}
		}
	})
}

func TestAnyNamed(t *testing.T) {
	for _, tc := range []struct {
		names []string
		want  bool
	}{
		{nil, false},
		{[]string{"", "", ""}, false},
		{[]string{"", "B04", ""}, true},
		{[]string{"red"}, true},
	} {
		if got := AnyNamed(tc.names); got != tc.want {
			t.Errorf("AnyNamed(%q) = %v, want %v", tc.names, got, tc.want)
		}
	}
}

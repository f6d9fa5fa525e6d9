package models

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestParseInput(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string // canonical form; "" = error
	}{
		{"red", "red"},
		{"B08", "B08"},
		{"nd(green,nir)", "nd(green,nir)"},
		{" ND( green , swir1 ) ", "nd(green,swir1)"},
		{"nd(green)", ""},
		{"nd(green,nir,red)", ""},
		{"nd(green,green)", ""},
		{"nd(green,GREEN)", ""},
		{"ratio(green,nir)", ""},
		{"nd(green,nir", ""},
		{"nd(,nir)", ""},
		{"green,nir", ""},
		{"nd((a),b)", ""},
		{"", ""},
	} {
		got, err := ParseInput(c.in)
		switch {
		case c.want == "" && err == nil:
			t.Errorf("ParseInput(%q) = %v, want an error", c.in, got)
		case c.want == "" && !errors.Is(err, ErrManifest):
			t.Errorf("ParseInput(%q): %v does not wrap ErrManifest", c.in, err)
		case c.want != "" && err != nil:
			t.Errorf("ParseInput(%q): %v", c.in, err)
		case c.want != "" && got.String() != c.want:
			t.Errorf("ParseInput(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

func derivedManifest(bands, norm string) string {
	return `{"name":"w","version":"1","bands":` + bands + `,"normalization":` + norm +
		`,"nodata_fill":0,"patch_size":64,"overlap":0,"output":"logits","classes":[{"id":0,"name":"land","color":[0,0,0]},{"id":1,"name":"water","color":[0,0,255]}]}`
}

func TestManifestDerivedInputs(t *testing.T) {
	m, err := ParseManifest([]byte(derivedManifest(`["red","nd(green,nir)","nd(green,swir1)","green"]`, `{"kind":"fixed","mean":[1,0,0,2],"std":[3,1,1,4]}`)))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.SourceBands(); !slices.Equal(got, []string{"red", "green", "nir", "swir1"}) {
		t.Errorf("SourceBands = %v", got)
	}
	if !m.HasDerived() {
		t.Error("HasDerived false")
	}
	for i, want := range []string{"fixed 1 3", "none 0 1", "none 0 1", "fixed 2 4"} {
		k, mean, std := m.InputNormalization(i)
		if got := strings.Join([]string{k, ftoa(mean), ftoa(std)}, " "); got != want {
			t.Errorf("input %d normalisation %s, want %s", i, got, want)
		}
	}
	plain, err := ParseManifest([]byte(derivedManifest(`["red","green","nir"]`, `{"kind":"zscore"}`)))
	if err != nil {
		t.Fatal(err)
	}
	if plain.HasDerived() || !slices.Equal(plain.SourceBands(), plain.Bands) {
		t.Errorf("plain manifest: derived %v, sources %v", plain.HasDerived(), plain.SourceBands())
	}
	for _, bad := range []string{
		derivedManifest(`["red","nd(green,nir)"]`, `{"kind":"fixed","mean":[1,0.5],"std":[3,1]}`),
		derivedManifest(`["red","nd(green,nir)"]`, `{"kind":"fixed","mean":[1,0],"std":[3,2]}`),
		derivedManifest(`["red","nd(green)"]`, `{"kind":"zscore"}`),
		derivedManifest(`["nd(green,nir)","ND(green,nir)"]`, `{"kind":"none"}`),
	} {
		if _, err := ParseManifest([]byte(bad)); !errors.Is(err, ErrManifest) {
			t.Errorf("%s: err %v, want ErrManifest", bad, err)
		}
	}
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

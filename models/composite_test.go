package models

import (
	"errors"
	"strings"
	"testing"
)

func TestBuiltinComposites(t *testing.T) {
	if got := strings.Join(Composites(), ","); got != "water" {
		t.Fatalf("Composites() = %s", got)
	}
	c, err := BuiltinComposite("water")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Members) != 2 || c.Members[0].Role != "cloud" || strings.Join(c.Members[1].Models, ",") != "water-cnn,mndwi-water,ndwi-water" {
		t.Errorf("members %+v", c.Members)
	}
	for _, name := range []string{"nope", "", "../composites/water", "water.json"} {
		if _, err := BuiltinComposite(name); !errors.Is(err, ErrComposite) {
			t.Errorf("BuiltinComposite(%q): %v", name, err)
		}
	}
}

func TestParseComposite(t *testing.T) {
	const cls = `"classes": [{"id": 0, "name": "land", "color": [0,0,0]}, {"id": 1, "name": "water", "color": [0,0,255]}]`
	ok := `{"name": "x", "models": [{"role": "w", "models": ["m"]}], ` + cls + `, "rules": [{"when": {"w": "water"}, "class": "water"}, {"class": "land"}]}`
	if _, err := ParseComposite([]byte(ok)); err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string]string{
		"no default rule":  strings.Replace(ok, `, {"class": "land"}`, ``, 1),
		"default not last": strings.Replace(ok, `[{"when": {"w": "water"}, "class": "water"}, {"class": "land"}]`, `[{"class": "land"}, {"when": {"w": "water"}, "class": "water"}, {"class": "land"}]`, 1),
		"unknown class":    strings.Replace(ok, `"class": "water"}`, `"class": "lake"}`, 1),
		"unknown role":     strings.Replace(ok, `{"w": "water"}`, `{"v": "water"}`, 1),
		"duplicate role":   strings.Replace(ok, `[{"role": "w", "models": ["m"]}]`, `[{"role": "w", "models": ["m"]}, {"role": "w", "models": ["n"]}]`, 1),
		"no model":         strings.Replace(ok, `"models": ["m"]`, `"models": []`, 1),
		"duplicate class":  strings.Replace(ok, `"id": 1, "name": "water"`, `"id": 0, "name": "water"`, 1),
		"unknown field":    strings.Replace(ok, `"name": "x",`, `"name": "x", "colour": 1,`, 1),
		"no name":          strings.Replace(ok, `"name": "x",`, ``, 1),
		"trailing data":    ok + `{}`,
	} {
		if _, err := ParseComposite([]byte(bad)); !errors.Is(err, ErrComposite) {
			t.Errorf("%s: err %v, want ErrComposite", name, err)
		}
	}
}

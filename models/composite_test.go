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
	if len(c.Members) != 3 || c.Members[0].Role != "cloud" || strings.Join(c.Members[1].Models, ",") != "water-cnn,mndwi-water,ndwi-water" ||
		c.Members[2].Role != "ndwi" || strings.Join(c.Members[2].Models, ",") != "ndwi-water" {
		t.Errorf("members %+v", c.Members)
	}
	// The shadow veto (WATER_PROTOCOL.md, run 3) comes after the cloud
	// classes and before the shadow rule, and is the only rule with a
	// probability: ndwi-water's p(water) >= 0.9427, i.e. NDWI >= 0.20.
	var veto []int
	for i, r := range c.Rules {
		if r.MinProb != nil {
			veto = append(veto, i)
		}
	}
	if len(veto) != 1 || veto[0] != 2 || c.Rules[2].Class != "water" || c.Rules[2].MinProb["ndwi"] != 0.9427 ||
		c.Rules[2].When["cloud"] != "cloud_shadow" || c.Rules[2].When["water"] != "water" || c.Rules[3].When["cloud"] != "cloud_shadow" {
		t.Errorf("rules %+v", c.Rules)
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
	withProb := strings.Replace(ok, `"class": "water"}`, `"min_prob": {"w": 0.75}, "class": "water"}`, 1)
	if c, err := ParseComposite([]byte(withProb)); err != nil || c.Rules[0].MinProb["w"] != 0.75 {
		t.Fatalf("min_prob: %v %+v", err, c)
	}
	for name, bad := range map[string]string{
		"no default rule":           strings.Replace(ok, `, {"class": "land"}`, ``, 1),
		"default not last":          strings.Replace(ok, `[{"when": {"w": "water"}, "class": "water"}, {"class": "land"}]`, `[{"class": "land"}, {"when": {"w": "water"}, "class": "water"}, {"class": "land"}]`, 1),
		"unknown class":             strings.Replace(ok, `"class": "water"}`, `"class": "lake"}`, 1),
		"unknown role":              strings.Replace(ok, `{"w": "water"}`, `{"v": "water"}`, 1),
		"duplicate role":            strings.Replace(ok, `[{"role": "w", "models": ["m"]}]`, `[{"role": "w", "models": ["m"]}, {"role": "w", "models": ["n"]}]`, 1),
		"no model":                  strings.Replace(ok, `"models": ["m"]`, `"models": []`, 1),
		"duplicate class":           strings.Replace(ok, `"id": 1, "name": "water"`, `"id": 0, "name": "water"`, 1),
		"unknown field":             strings.Replace(ok, `"name": "x",`, `"name": "x", "colour": 1,`, 1),
		"no name":                   strings.Replace(ok, `"name": "x",`, ``, 1),
		"trailing data":             ok + `{}`,
		"min_prob role not in when": strings.Replace(ok, `"class": "water"}`, `"min_prob": {"v": 0.5}, "class": "water"}`, 1),
		"min_prob 0":                strings.Replace(ok, `"class": "water"}`, `"min_prob": {"w": 0}, "class": "water"}`, 1),
		"min_prob 1":                strings.Replace(ok, `"class": "water"}`, `"min_prob": {"w": 1}, "class": "water"}`, 1),
		"min_prob negative":         strings.Replace(ok, `"class": "water"}`, `"min_prob": {"w": -0.5}, "class": "water"}`, 1),
		"min_prob above 1":          strings.Replace(ok, `"class": "water"}`, `"min_prob": {"w": 1.5}, "class": "water"}`, 1),
		"min_prob not a number":     strings.Replace(ok, `"class": "water"}`, `"min_prob": {"w": "high"}, "class": "water"}`, 1),
		"min_prob on default rule":  strings.Replace(ok, `{"class": "land"}`, `{"min_prob": {"w": 0.5}, "class": "land"}`, 1),
	} {
		if _, err := ParseComposite([]byte(bad)); !errors.Is(err, ErrComposite) {
			t.Errorf("%s: err %v, want ErrComposite", name, err)
		}
	}
}

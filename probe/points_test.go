package probe

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseCSVLabels(t *testing.T) {
	for _, tc := range []struct {
		name, in, field string
		want            []Point
		err             string // substring of the error ("" = none)
	}{
		{name: "no header", in: "1,2,forest\n3.5,-4e2,water\n",
			want: []Point{{X: 1, Y: 2, Label: "forest", Where: "p.csv:1"}, {X: 3.5, Y: -400, Label: "water", Where: "p.csv:2"}}},
		{name: "no header, crs column", in: "15,0,3,EPSG:4326\n500000,0,4,\n",
			want: []Point{{X: 15, Y: 0, Label: "3", CRS: "EPSG:4326", Where: "p.csv:1"}, {X: 500000, Y: 0, Label: "4", Where: "p.csv:2"}}},
		{name: "header in any order, extra columns, spaces", in: "id, label ,Y,X\n7, a b ,2,1\n",
			want: []Point{{X: 1, Y: 2, Label: "a b", Where: "p.csv:2"}}},
		{name: "header lon/lat and crs, BOM", in: "\uFEFFlon,lat,label,crs\n15,1,x,EPSG:4326\n",
			want: []Point{{X: 15, Y: 1, Label: "x", CRS: "EPSG:4326", Where: "p.csv:2"}}},
		{name: "label field", field: "biome", in: "x,y,label,biome\n1,2,ignored,Forest\n",
			want: []Point{{X: 1, Y: 2, Label: "Forest", Where: "p.csv:2"}}},
		{name: "quoted label with comma, CRLF, blank line", in: "x,y,label\r\n\r\n1,2,\"a,b\"\r\n",
			want: []Point{{X: 1, Y: 2, Label: "a,b", Where: "p.csv:3"}}},
		{name: "x not a number", in: "1,2,a\nabc,2,b\n", err: `p.csv:2: x "abc" is not a finite number`},
		{name: "y infinite", in: "1,Inf,a\n", err: `p.csv:1: y "Inf" is not a finite number`},
		{name: "NaN", in: "x,y,label\nNaN,1,a\n", err: `p.csv:2: x "NaN"`},
		{name: "too few fields", in: "1,2,a\n3,4\n", err: "p.csv:2: 2 fields, want at least 3"},
		{name: "empty label", in: "1,2, \n", err: "p.csv:1: empty label"},
		{name: "header without label", in: "x,y,class\n1,2,a\n", err: `p.csv:1: the header has no "label" column`},
		{name: "header without y", in: "x,z,label\n", err: "p.csv:1: the header has no y column"},
		{name: "header without x", in: "a,y,label\n", err: "p.csv:1: the header has no x column"},
		{name: "bad quoting", in: "1,2,a\n3,4,b\"c\n", err: "p.csv: parse error on line 2"},
		{name: "empty", in: "", err: "p.csv: no points"},
		{name: "header only", in: "x,y,label\n", err: "p.csv: no points"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCSVLabels("p.csv", strings.NewReader(tc.in), tc.field)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseGeoJSONLabels(t *testing.T) {
	fc := func(features ...string) string {
		return `{"type": "FeatureCollection", "features": [` + strings.Join(features, ",") + `]}`
	}
	pt := func(x, y, props string) string {
		return `{"type": "Feature", "geometry": {"type": "Point", "coordinates": [` + x + `, ` + y + `]}, "properties": {` + props + `}}`
	}
	for _, tc := range []struct {
		name, in, field string
		want            []Point
		err             string
	}{
		{name: "string and number labels", in: fc(pt("1", "2", `"label": "forest"`), pt("3.5", "-4e2", `"label": 3.0, "other": true`), pt("0", "0", `"label": 12`)),
			want: []Point{{X: 1, Y: 2, Label: "forest", Where: "p.geojson: features[0]"}, {X: 3.5, Y: -400, Label: "3", Where: "p.geojson: features[1]"},
				{X: 0, Y: 0, Label: "12", Where: "p.geojson: features[2]"}}},
		{name: "label field, z ignored", field: "biome", in: fc(`{"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2, 30]}, "properties": {"biome": " Urban "}}`),
			want: []Point{{X: 1, Y: 2, Label: "Urban", Where: "p.geojson: features[0]"}}},
		{name: "crs member", in: `{"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32633"}}, "features": [` + pt("500000", "0", `"label": 0.5`) + `]}`,
			want: []Point{{X: 500000, Y: 0, Label: "0.5", CRS: "urn:ogc:def:crs:EPSG::32633", Where: "p.geojson: features[0]"}}},
		{name: "not a Point", in: fc(pt("1", "2", `"label": 1`), `{"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[1, 2], [3, 4]]}, "properties": {"label": 1}}`),
			err: `p.geojson: features[1]: geometry "LineString", want Point`},
		{name: "null geometry", in: fc(`{"type": "Feature", "geometry": null, "properties": {"label": 1}}`), err: `p.geojson: features[0]: geometry "null", want Point`},
		{name: "no label", in: fc(pt("1", "2", `"class": 1`)), err: `p.geojson: features[0]: no property "label"`},
		{name: "null properties", in: fc(`{"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]}, "properties": null}`), err: `features[0]: no property "label"`},
		{name: "bool label", in: fc(pt("1", "2", `"label": true`)), err: `features[0]: property "label": true: want a string or a number`},
		{name: "empty label", in: fc(pt("1", "2", `"label": ""`)), err: `features[0]: property "label": empty label`},
		{name: "one coordinate", in: fc(`{"type": "Feature", "geometry": {"type": "Point", "coordinates": [1]}, "properties": {"label": 1}}`),
			err: "features[0]: coordinates [1]: want [x, y]"},
		{name: "string coordinates", in: fc(pt(`"1"`, "2", `"label": 1`)), err: "features[0]: coordinates"},
		{name: "huge coordinate", in: fc(pt("1e999", "2", `"label": 1`)), err: "features[0]: coordinates"},
		{name: "not a Feature", in: fc(`{"type": "Point", "coordinates": [1, 2]}`), err: `features[0]: type "Point", want Feature`},
		{name: "not a FeatureCollection", in: `{"type": "Feature"}`, err: `p.geojson: GeoJSON type "Feature", want FeatureCollection`},
		{name: "syntax error names the line", in: "{\"type\": \"FeatureCollection\",\n\"features\": [\n{,}]}", err: "p.geojson:3: not JSON"},
		{name: "unsupported crs", in: `{"type": "FeatureCollection", "crs": {"type": "link"}, "features": []}`, err: `crs member of type "link"`},
		{name: "no features", in: fc(), err: "p.geojson: no features"},
		{name: "features not an array", in: `{"type": "FeatureCollection", "features": 3}`, err: "p.geojson: not a GeoJSON FeatureCollection"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseGeoJSONLabels("p.geojson", []byte(tc.in), tc.field)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestReadPoints(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	csv := write("a.CSV", "1,2,a\n3,4,b,EPSG:32633\n")
	gj := write("b.json", `{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [5, 6]}, "properties": {"label": "c"}}]}`)
	for _, tc := range []struct {
		path, crs string
		crss      []string
		err       string
	}{
		{path: csv, crs: "EPSG:4326", crss: []string{"EPSG:4326", "EPSG:32633"}},
		{path: csv, crss: []string{"", "EPSG:32633"}},
		{path: gj, crs: "EPSG:4326", crss: []string{"EPSG:4326"}},
		{path: write("c.txt", "1,2,a\n"), err: "not a points file"},
		{path: filepath.Join(dir, "missing.csv"), err: "missing.csv"},
	} {
		pts, err := ReadPoints(tc.path, "", tc.crs)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.path, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var crss []string
		for _, p := range pts {
			crss = append(crss, p.CRS)
		}
		if !reflect.DeepEqual(crss, tc.crss) {
			t.Errorf("%s with default %q: CRSs %q, want %q", tc.path, tc.crs, crss, tc.crss)
		}
	}
	for _, tc := range []struct {
		path string
		want bool
	}{{"a.csv", true}, {"b.GeoJSON", true}, {"c.json", true}, {"d.tif", false}, {"e", false}} {
		if IsPointsFile(tc.path) != tc.want {
			t.Errorf("IsPointsFile(%q) = %v", tc.path, !tc.want)
		}
	}
}

// checkPoints is what every successful parse must give.
func checkPoints(t *testing.T, pts []Point) {
	if len(pts) == 0 {
		t.Fatal("no points and no error")
	}
	for _, p := range pts {
		if math.IsNaN(p.X) || math.IsInf(p.X, 0) || math.IsNaN(p.Y) || math.IsInf(p.Y, 0) || strings.TrimSpace(p.Label) == "" || p.Label != strings.TrimSpace(p.Label) {
			t.Fatalf("bad point %+v", p)
		}
	}
}

func FuzzParseCSVLabels(f *testing.F) {
	for _, s := range []string{"1,2,a\n", "x,y,label,crs\n1,2,a,EPSG:4326\n", "\uFEFFlon,lat,label\n1,2,3\n", "1,2,\"a\nb\"\n", "x,y\n", "1,,a", "\"", "1,2,a,b,c,d\r\n3,4,e"} {
		f.Add([]byte(s), "label")
	}
	f.Fuzz(func(t *testing.T, data []byte, field string) {
		pts, err := ParseCSVLabels("f.csv", bytes.NewReader(data), field)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.csv") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		checkPoints(t, pts)
	})
}

func FuzzParseGeoJSONLabels(f *testing.F) {
	for _, s := range []string{
		`{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]}, "properties": {"label": "a"}}]}`,
		`{"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "EPSG:4326"}}, "features": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2, 3]}, "properties": {"label": 1e3}}]}`,
		`{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": null, "properties": null}]}`,
		`{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": []}, "properties": {"label": [1]}}]}`,
		`[]`, `{`, `null`, `{"type": "FeatureCollection", "features": null}`,
	} {
		f.Add([]byte(s), "label")
	}
	f.Fuzz(func(t *testing.T, data []byte, field string) {
		pts, err := ParseGeoJSONLabels("f.geojson", data, field)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.geojson") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		checkPoints(t, pts)
	})
}

package probe

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Point is one labelled point of a points file.
type Point struct {
	X, Y  float64
	Label string
	// CRS is the CRS the coordinates are in (as given: "EPSG:4326", WKT,
	// a URN…); "" means the embeddings' CRS.
	CRS   string
	Where string // file and line or feature, for messages
}

// IsPointsFile reports whether path names a points file by its extension
// (.csv, .geojson, .json) rather than a label raster.
func IsPointsFile(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv", ".geojson", ".json":
		return true
	}
	return false
}

// ReadPoints reads a points file: CSV (.csv, see ParseCSVLabels) or a
// GeoJSON FeatureCollection (.geojson, .json, see ParseGeoJSONLabels).
// field names the label column or property ("" = "label"); crs, when not
// "", is the CRS of every point whose file does not name one.
func ReadPoints(path, field, crs string) ([]Point, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var pts []Point
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		pts, err = ParseCSVLabels(path, bytes.NewReader(data), field)
	case ".geojson", ".json":
		pts, err = ParseGeoJSONLabels(path, data, field)
	default:
		return nil, fmt.Errorf("%s: not a points file (want .csv, .geojson or .json)", path)
	}
	if err != nil {
		return nil, err
	}
	for i := range pts {
		if pts[i].CRS == "" {
			pts[i].CRS = crs
		}
	}
	return pts, nil
}

// column names a CSV header may use for x and y.
var (
	xNames = []string{"x", "lon", "longitude", "easting"}
	yNames = []string{"y", "lat", "latitude", "northing"}
)

// ParseCSVLabels parses labelled points from CSV: one point a line, columns
// x, y, label and optionally crs, in that order; or with a header line (a
// first line whose first field is not a number) naming the columns in any
// order: x (or lon, longitude, easting), y (or lat, latitude, northing), the
// label column field ("" = "label") and optionally crs, other columns
// ignored. An empty crs cell means the default CRS. Errors name the file
// and the line.
func ParseCSVLabels(name string, r io.Reader, field string) ([]Point, error) {
	if field == "" {
		field = "label"
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cx, cy, cl, cc := 0, 1, 2, 3 // column of x, y, label, crs (-1: none)
	var pts []Point
	for first := true; ; first = false {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		if first {
			rec[0] = strings.TrimPrefix(rec[0], "\uFEFF")
			if _, err := strconv.ParseFloat(strings.TrimSpace(rec[0]), 64); err != nil {
				find := func(names ...string) int {
					for i, f := range rec {
						for _, n := range names {
							if strings.EqualFold(strings.TrimSpace(f), n) {
								return i
							}
						}
					}
					return -1
				}
				cx, cy, cl, cc = find(xNames...), find(yNames...), find(field), find("crs")
				switch {
				case cx < 0:
					return nil, fmt.Errorf("%s:%d: the header has no x column (x, lon, longitude or easting)", name, line)
				case cy < 0:
					return nil, fmt.Errorf("%s:%d: the header has no y column (y, lat, latitude or northing)", name, line)
				case cl < 0:
					return nil, fmt.Errorf("%s:%d: the header has no %q column", name, line, field)
				}
				continue
			}
		}
		if n := max(cx, cy, cl) + 1; len(rec) < n {
			return nil, fmt.Errorf("%s:%d: %d fields, want at least %d (x, y, label)", name, line, len(rec), n)
		}
		p := Point{Label: strings.TrimSpace(rec[cl]), Where: fmt.Sprintf("%s:%d", name, line)}
		for _, c := range []struct {
			axis string
			col  int
			v    *float64
		}{{"x", cx, &p.X}, {"y", cy, &p.Y}} {
			s := strings.TrimSpace(rec[c.col])
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
				return nil, fmt.Errorf("%s: %s %.40q is not a finite number", p.Where, c.axis, s)
			}
			*c.v = v
		}
		if p.Label == "" {
			return nil, fmt.Errorf("%s: empty label", p.Where)
		}
		if cc >= 0 && cc < len(rec) {
			p.CRS = strings.TrimSpace(rec[cc])
		}
		pts = append(pts, p)
	}
	if len(pts) == 0 {
		return nil, fmt.Errorf("%s: no points", name)
	}
	return pts, nil
}

// ParseGeoJSONLabels parses labelled points from a GeoJSON
// FeatureCollection of Point features, the label in the property field
// ("" = "label": a string, or a number, written in its shortest form so
// that 3 and 3.0 are one class). A (pre-RFC 7946) "crs" member naming a
// CRS applies to every point; without one the coordinates are in the
// default CRS (RFC 7946 files, in longitude/latitude, need EPSG:4326 given
// as that default). Errors name the file and the feature (or the line of a
// syntax error).
func ParseGeoJSONLabels(name string, data []byte, field string) ([]Point, error) {
	if field == "" {
		field = "label"
	}
	var fc struct {
		Type string `json:"type"`
		CRS  *struct {
			Type       string `json:"type"`
			Properties struct {
				Name string `json:"name"`
			} `json:"properties"`
		} `json:"crs"`
		Features []json.RawMessage `json:"features"`
	}
	if err := json.Unmarshal(data, &fc); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("%s:%d: not JSON: %w", name, lineAt(data, se.Offset), err)
		}
		return nil, fmt.Errorf("%s: not a GeoJSON FeatureCollection: %w", name, err)
	}
	if fc.Type != "FeatureCollection" {
		return nil, fmt.Errorf("%s: GeoJSON type %.40q, want FeatureCollection", name, fc.Type)
	}
	var crs string
	if fc.CRS != nil {
		if fc.CRS.Type != "name" || strings.TrimSpace(fc.CRS.Properties.Name) == "" {
			return nil, fmt.Errorf("%s: crs member of type %.40q: want {\"type\": \"name\", \"properties\": {\"name\": CRS}}", name, fc.CRS.Type)
		}
		crs = strings.TrimSpace(fc.CRS.Properties.Name)
	}
	pts := make([]Point, 0, len(fc.Features))
	for i, raw := range fc.Features {
		where := fmt.Sprintf("%s: features[%d]", name, i)
		var f struct {
			Type     string `json:"type"`
			Geometry *struct {
				Type        string          `json:"type"`
				Coordinates json.RawMessage `json:"coordinates"`
			} `json:"geometry"`
			Properties map[string]json.RawMessage `json:"properties"`
		}
		if err := json.Unmarshal(raw, &f); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if f.Type != "Feature" {
			return nil, fmt.Errorf("%s: type %.40q, want Feature", where, f.Type)
		}
		if f.Geometry == nil || f.Geometry.Type != "Point" {
			t := "null"
			if f.Geometry != nil {
				t = f.Geometry.Type
			}
			return nil, fmt.Errorf("%s: geometry %.40q, want Point", where, t)
		}
		var c []float64
		if err := json.Unmarshal(f.Geometry.Coordinates, &c); err != nil || len(c) < 2 {
			return nil, fmt.Errorf("%s: coordinates %.60s: want [x, y]", where, f.Geometry.Coordinates)
		}
		p := Point{X: c[0], Y: c[1], CRS: crs, Where: where}
		v, ok := f.Properties[field]
		if !ok {
			return nil, fmt.Errorf("%s: no property %q", where, field)
		}
		label, err := jsonLabel(v)
		if err != nil {
			return nil, fmt.Errorf("%s: property %q: %w", where, field, err)
		}
		p.Label = label
		pts = append(pts, p)
	}
	if len(pts) == 0 {
		return nil, fmt.Errorf("%s: no features", name)
	}
	return pts, nil
}

// jsonLabel returns a label property's value: a non-empty string, or a
// number in its shortest form.
func jsonLabel(raw json.RawMessage) (string, error) {
	var v any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return "", err
	}
	switch v := v.(type) {
	case string:
		if s := strings.TrimSpace(v); s != "" {
			return s, nil
		}
		return "", errors.New("empty label")
	case json.Number:
		f, err := v.Float64()
		if err != nil || math.IsInf(f, 0) {
			return "", fmt.Errorf("number %.40s out of range", v)
		}
		return strconv.FormatFloat(f, 'g', -1, 64), nil
	}
	return "", fmt.Errorf("%.40s: want a string or a number", raw)
}

// lineAt returns the 1-based line of byte offset off in data.
func lineAt(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	return bytes.Count(data[:off], []byte{'\n'}) + 1
}

package gdalio

import (
	"encoding/json"
	"testing"
)

// TestPROJJSON exports CRSs given as EPSG codes and WKT as PROJJSON and
// checks their type and EPSG id; a string that is no CRS is an error.
func TestPROJJSON(t *testing.T) {
	wkt, err := NormalizeCRS("EPSG:32633")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		crs, typ string
		code     int
	}{
		{"EPSG:32633", "ProjectedCRS", 32633},
		{wkt, "ProjectedCRS", 32633},
		{"EPSG:4326", "GeographicCRS", 4326},
	} {
		js, err := PROJJSON(tc.crs)
		if err != nil {
			t.Fatalf("%.30s: %v", tc.crs, err)
		}
		var p struct {
			Type string `json:"type"`
			ID   struct {
				Authority string `json:"authority"`
				Code      int    `json:"code"`
			} `json:"id"`
		}
		if err := json.Unmarshal([]byte(js), &p); err != nil {
			t.Fatalf("%.30s: %v in %.200s", tc.crs, err, js)
		}
		if p.Type != tc.typ || p.ID.Authority != "EPSG" || p.ID.Code != tc.code {
			t.Errorf("%.30s: type %q id %+v, want %s EPSG:%d", tc.crs, p.Type, p.ID, tc.typ, tc.code)
		}
	}
	for _, bad := range []string{"", "not a crs"} {
		if js, err := PROJJSON(bad); err == nil {
			t.Errorf("%q: %.60s, want an error", bad, js)
		}
	}
}

package gdalio

import (
	"math"
	"testing"
)

func TestReproject(t *testing.T) {
	utm33 := "EPSG:32633"
	wkt, err := NormalizeCRS(utm33)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		from, to string
		x, y     []float64
		wantX    []float64
		wantY    []float64
		ok       []bool
		err      bool
	}{
		{name: "lon/lat to UTM 33N: central meridian on the equator", from: "EPSG:4326", to: utm33,
			x: []float64{15}, y: []float64{0}, wantX: []float64{500000}, wantY: []float64{0}, ok: []bool{true}},
		{name: "UTM back to lon/lat (x is longitude)", from: wkt, to: "EPSG:4326",
			x: []float64{500000}, y: []float64{0}, wantX: []float64{15}, wantY: []float64{0}, ok: []bool{true}},
		{name: "same CRS, other spelling: unchanged", from: utm33, to: wkt,
			x: []float64{123.25}, y: []float64{-7.5}, wantX: []float64{123.25}, wantY: []float64{-7.5}, ok: []bool{true}},
		{name: "latitude beyond the pole fails alone", from: "EPSG:4326", to: "EPSG:3857",
			x: []float64{0, 0}, y: []float64{0, 95}, wantX: []float64{0, math.NaN()}, wantY: []float64{0, math.NaN()}, ok: []bool{true, false}},
		{name: "no points", from: "EPSG:4326", to: utm33, ok: []bool{}},
		{name: "unknown CRS", from: "EPSG:999999", to: utm33, x: []float64{0}, y: []float64{0}, err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := Reproject(tc.from, tc.to, tc.x, tc.y)
			if (err != nil) != tc.err {
				t.Fatalf("error %v, want error %v", err, tc.err)
			}
			if tc.err {
				return
			}
			if len(ok) != len(tc.ok) {
				t.Fatalf("ok %v, want %v", ok, tc.ok)
			}
			for i := range ok {
				if ok[i] != tc.ok[i] {
					t.Fatalf("ok %v, want %v", ok, tc.ok)
				}
				if ok[i] && (math.Abs(tc.x[i]-tc.wantX[i]) > 1e-6 || math.Abs(tc.y[i]-tc.wantY[i]) > 1e-6) {
					t.Errorf("point %d: (%.9f, %.9f), want (%g, %g)", i, tc.x[i], tc.y[i], tc.wantX[i], tc.wantY[i])
				}
			}
		})
	}
	if _, err := Reproject("EPSG:4326", utm33, []float64{1}, nil); err == nil {
		t.Error("x and y of different lengths accepted")
	}
}

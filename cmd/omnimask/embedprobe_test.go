package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/airbusgeo/godal"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/internal/ort"
	"github.com/omnimask/omnimask/raster"
)

// halvesScenes writes two scenes, scenea.tif and sceneb.tif in dir: scene
// i at (500000 + 10000 i, 4000000) in UTM 33N, 10 m, 64x32 px (4x2 chips
// of 16 px, 160 m), whose left halves ("forest") and right halves
// ("water") differ by 400 in every band.
func halvesScenes(t *testing.T, dir string) []string {
	t.Helper()
	utm, err := gdalio.NormalizeCRS("EPSG:32633")
	if err != nil {
		t.Fatal(err)
	}
	var scenes []string
	for i := range 2 {
		geo := raster.Geo{Transform: raster.GeoTransform{500000 + 10000*float64(i), 10, 0, 4000000, 0, -10}, CRS: utm}
		scenes = append(scenes, tif{w: 64, h: 32, geo: &geo, pix: func(c, x, y int) float64 {
			return float64(100+400*(x/32)+10*c+i) + 0.123*float64((x*7+y*3)%11)
		}}.write(t, filepath.Join(dir, "scene"+string(rune('a'+i))+".tif")))
	}
	return scenes
}

// TestCLIEmbedProbePoints runs embed (float16) on two scenes whose left
// halves are "forest" and right halves "water", then probe fit, eval and
// predict with point labels from CSV and GeoJSON, the probabilities file,
// and the usage and file errors.
func TestCLIEmbedProbePoints(t *testing.T) {
	if _, err := ort.Setup(""); err != nil {
		t.Skipf("no ONNX Runtime: %v", err)
	}
	dir := t.TempDir()
	chipmean := testModel("chipmean.onnx")
	var embs []string
	for i, scene := range halvesScenes(t, dir) {
		emb := filepath.Join(dir, "emb"+string(rune('a'+i))+".tif")
		if _, _, err := cli(t, "embed", scene, "--model", chipmean, "--chip", "16", "--dtype", "float16", "-o", emb, "--threads", "1"); err != nil {
			t.Fatal(err)
		}
		var sc struct {
			DType     string `json:"dtype"`
			DTypeNote string `json:"dtype_note"`
		}
		raw, err := os.ReadFile(emb + ".json")
		if err == nil {
			err = json.Unmarshal(raw, &sc)
		}
		if err != nil || sc.DType != "float16" || !strings.Contains(sc.DTypeNote, "Float32") {
			t.Fatalf("sidecar %+v (%v)", sc, err)
		}
		embs = append(embs, emb)
	}
	// chip (c, r) of scene i is centred on (500080 + 10000 i + 160 c, 3999920 - 160 r)
	csv := writeFile(t, filepath.Join(dir, "pts.csv"), []byte("label,x,y\n"+
		"forest,500080,3999920\nforest,500240,3999760\nwater,500400,3999920\nwater,500560,3999760\n"+
		"forest,510080,3999920\nwater,510560,3999920\n"+
		"water,500090,3999910\n"+ // a second point in chip 0 of scene a: a tie, dropped
		"forest,400000,3999920\n")) // outside both scenes
	// the same chips' centres in longitude/latitude (RFC 7946 GeoJSON)
	lon, lat := []float64{500080, 500560}, []float64{3999920, 3999920}
	if ok, err := gdalio.Reproject("EPSG:32633", "EPSG:4326", lon, lat); err != nil || !ok[0] || !ok[1] {
		t.Fatal(ok, err)
	}
	lonlat := writeFile(t, filepath.Join(dir, "pts.geojson"), []byte(fmt.Sprintf(`{"type": "FeatureCollection", "features": [
		{"type": "Feature", "geometry": {"type": "Point", "coordinates": [%.9f, %.9f]}, "properties": {"class": "forest"}},
		{"type": "Feature", "geometry": {"type": "Point", "coordinates": [%.9f, %.9f]}, "properties": {"class": "water"}}]}`, lon[0], lat[0], lon[1], lat[1])))
	badCSV := writeFile(t, filepath.Join(dir, "bad.csv"), []byte("1,2,a\n3,x,b\n"))
	pfile, mapf, probs := filepath.Join(dir, "p.json"), filepath.Join(dir, "map.tif"), filepath.Join(dir, "probs.tif")
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr []string
	}{
		{name: "embed bad dtype", args: []string{"embed", embs[0], "--dtype", "float64", "-o", filepath.Join(dir, "x.tif")}, code: exitUsage,
			stderr: []string{`--dtype "float64": want float32 or float16`}},
		{name: "fit points", args: []string{"probe", "fit", embs[0], embs[1], "--labels", csv, "-o", pfile},
			stdout: []string{"8 points: 7 in chips with embeddings, labelling 5 chips (0 by majority)", "p.json: 2 classes from 5 chips of 2 scenes, 3-D (chipmean 0.0.1)"},
			stderr: []string{"warning: 1 points outside every chip grid, 0 on nodata chips only, 1 chips with tied labels left unlabelled"}},
		{name: "eval points", args: []string{"probe", "eval", embs[0], embs[1], "--labels", csv},
			stdout: []string{"5 chips, 2 folds by scene: accuracy 1.0000", "class forest F1 1.000  confusion [2 0]", "class water F1 1.000  confusion [0 3]"}},
		{name: "predict map and probabilities", args: []string{"probe", "predict", embs[0], "--probe", pfile, "-o", mapf, "--probabilities", probs},
			stdout: []string{"probs.tif: 4x2 chips, probabilities of 2 classes", "map.tif: 4x2 chips classified"}},
		{name: "predict needs an output", args: []string{"probe", "predict", embs[0], "--probe", pfile}, code: exitUsage,
			stderr: []string{"--probe and -o and/or --probabilities"}},
		{name: "geojson lon/lat with --labels-crs and --label-field", args: []string{"probe", "fit", embs[0], "--labels", lonlat, "--labels-crs", "EPSG:4326", "--label-field", "class", "-o", filepath.Join(dir, "q.json")},
			stdout: []string{"2 points: 2 in chips with embeddings, labelling 2 chips (0 by majority)", "q.json: 2 classes from 2 chips of 1 scenes"}},
		{name: "geojson lon/lat taken as the embeddings' CRS", args: []string{"probe", "fit", embs[0], "--labels", lonlat, "--label-field", "class", "-o", filepath.Join(dir, "q.json")},
			code: exitFailed, stdout: []string{"2 points: 0 in chips"}, stderr: []string{"2 points outside every chip grid", "no labelled chip with an embedding"}},
		{name: "geojson without its label field", args: []string{"probe", "fit", embs[0], "--labels", lonlat, "-o", filepath.Join(dir, "q.json")},
			code: exitFailed, stderr: []string{`pts.geojson: features[0]: no property "label"`}},
		{name: "csv error names the line", args: []string{"probe", "eval", embs[0], embs[1], "--labels", badCSV}, code: exitFailed,
			stderr: []string{`bad.csv:2: y "x" is not a finite number`}},
		{name: "rasters and points mixed", args: []string{"probe", "eval", embs[0], embs[1], "--labels", csv + "," + mapf}, code: exitUsage,
			stderr: []string{"label rasters and points files mixed"}},
		{name: "no labels", args: []string{"probe", "eval", embs[0], embs[1]}, code: exitUsage, stderr: []string{"no --labels"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, err := cli(t, tc.args...)
			if code := exitCode(err); code != tc.code {
				t.Fatalf("exit %d (%v), want %d", code, err, tc.code)
			}
			for _, s := range tc.stdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q", s)
				}
			}
			for _, s := range tc.stderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q", s)
				}
			}
		})
	}
	// the class map: class indices named by the category names; the probabilities sum to 1
	pix, w, h, _ := readMask(t, mapf)
	if w != 4 || h != 2 || string(pix) != "\x00\x00\x01\x01\x00\x00\x01\x01" {
		t.Errorf("class map %dx%d %v, want forest (0) left, water (1) right", w, h, pix)
	}
	if aux, err := os.ReadFile(mapf + ".aux.xml"); err != nil || !strings.Contains(string(aux), "<Category>forest</Category>") {
		t.Errorf("category names: %s (%v)", aux, err)
	}
	ds, err := godal.Open(probs)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	var sum [8]float64
	for k, b := range ds.Bands() {
		if d := b.Description(); d != []string{"forest", "water"}[k] {
			t.Errorf("band %d %q", k+1, d)
		}
		v := make([]float32, 8)
		if err := b.Read(0, 0, v, 4, 2); err != nil {
			t.Fatal(err)
		}
		for j := range v {
			sum[j] += float64(v[j])
		}
	}
	for j, s := range sum {
		if math.Abs(s-1) > 1e-6 {
			t.Errorf("chip %d: probabilities sum to %g", j, s)
		}
	}
}

func TestCompactLabels(t *testing.T) {
	for _, tc := range []struct {
		in      []string
		classes []string
		y       []int
	}{
		{[]string{"10", "3", "7", "3"}, []string{"3", "7", "10"}, []int{2, 0, 1, 0}}, // label raster values: by value
		{[]string{"b", "10", "a", "b"}, []string{"10", "a", "b"}, []int{2, 0, 1, 2}}, // names: as strings
		{[]string{"water"}, []string{"water"}, []int{0}},
	} {
		classes, y := compact(tc.in)
		if strings.Join(classes, ",") != strings.Join(tc.classes, ",") || fmt.Sprint(y) != fmt.Sprint(tc.y) {
			t.Errorf("compact(%q) = %q %v, want %q %v", tc.in, classes, y, tc.classes, tc.y)
		}
	}
}

// TestEmbedThreadsFlags checks embed's --threads and --streams: usage errors
// (exit 2) outside their ranges; runs with two calls at once (chips mode)
// and in dense mode (one call on the threads) succeed. That calls at once
// give the same vectors is TestChipsBatching's (package embed).
func TestEmbedThreadsFlags(t *testing.T) {
	if _, err := ort.Setup(""); err != nil {
		t.Skipf("no ONNX Runtime: %v", err)
	}
	dir := t.TempDir()
	scene := tif{w: 64, h: 32, pix: func(c, x, y int) float64 { return float64(100 + 10*c + (x*7+y*3)%11) }}.write(t, filepath.Join(dir, "s.tif"))
	chipmean := testModel("chipmean.onnx")
	limit := fmt.Sprint(4*runtime.NumCPU() + 1)
	for _, tc := range []struct {
		args []string
		want string // usage error; "" = success
	}{
		{[]string{"--threads", "0"}, "--threads 0: want 1.."},
		{[]string{"--threads", limit}, "--threads " + limit + ": want 1.."},
		{[]string{"--threads", "1", "--streams", "2"}, "--streams 2: want 1..1"},
		{[]string{"--streams", "0"}, "--streams 0: want 1.."},
		{[]string{"--threads", "2", "--streams", "2"}, ""},
		{[]string{"--threads", "2", "--streams", "2", "--mode", "dense", "--tile", "32", "--overlap", "0"}, ""},
	} {
		out := filepath.Join(dir, "e.tif")
		args := append([]string{"embed", scene, "--model", chipmean, "--chip", "16", "-o", out}, tc.args...)
		_, _, err := cli(t, args...)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: %v", tc.args, err)
		case tc.want != "" && (err == nil || exitCode(err) != exitUsage || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v: %v (exit %d), want usage error %q", tc.args, err, exitCode(err), tc.want)
		}
	}
}

// TestProbeNumericFlags: out-of-range --lambda and --folds are usage errors
// (exit 2, one line) before any embedding is read; in-range values run.
func TestProbeNumericFlags(t *testing.T) {
	if _, err := ort.Setup(""); err != nil {
		t.Skipf("no ONNX Runtime: %v", err)
	}
	dir := t.TempDir()
	scene := tif{w: 64, h: 32, pix: func(c, x, y int) float64 { return float64(100 + 400*(x/32) + 10*c + (x*7+y*3)%11) }}.write(t, filepath.Join(dir, "s.tif"))
	emb := filepath.Join(dir, "e.tif")
	if _, _, err := cli(t, "embed", scene, "--model", testModel("chipmean.onnx"), "--chip", "16", "-o", emb); err != nil {
		t.Fatal(err)
	}
	labels := tif{w: 64, h: 32, bands: 1, pix: func(c, x, y int) float64 { return float64(x / 32) }}.write(t, filepath.Join(dir, "l.tif"))
	for _, tc := range []struct {
		args []string
		want string // usage error; "" = success
	}{
		{[]string{"fit", "--lambda", "-1"}, "--lambda -1: want a finite number >= 0"},
		{[]string{"fit", "--lambda", "NaN"}, "--lambda NaN: want a finite number >= 0"},
		{[]string{"fit", "--lambda", "Inf"}, "--lambda +Inf: want a finite number >= 0"},
		{[]string{"fit", "--lambda", "0"}, ""},
		{[]string{"eval", "--folds", "-1"}, "--folds -1: want 0..1000"},
		{[]string{"eval", "--folds", "1001"}, "--folds 1001: want 0..1000"},
	} {
		out := filepath.Join(dir, "p.json")
		args := append(append([]string{"probe"}, tc.args...), emb, "--labels", labels, "-o", out)
		_, stderr, err := cli(t, args...)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: %v", tc.args, err)
		case tc.want != "" && (exitCode(err) != exitUsage || !strings.HasPrefix(stderr, "omnimask probe: "+tc.want) || strings.Count(stderr, "\n") != 1):
			t.Errorf("%v: exit %d, stderr %q; want usage error %q", tc.args, exitCode(err), stderr, tc.want)
		}
	}
}

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airbusgeo/godal"

	"github.com/omnimask/omnimask/embed"
	"github.com/omnimask/omnimask/internal/ort"
)

// reflectanceChipmean copies the chipmean test encoder with a sidecar
// manifest saying it takes reflectance, so that units matter.
func reflectanceChipmean(t *testing.T, dir string) string {
	t.Helper()
	data, err := os.ReadFile(testModel("chipmean.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	p := writeFile(t, filepath.Join(dir, "chipmean_refl.onnx"), data)
	writeFile(t, p+".json", []byte(`{"name": "chipmean", "version": "0.0.1", "bands": ["red", "green", "nir"], "resolution_m": 10,
"normalization": {"kind": "none"}, "nodata_fill": 0, "patch_size": 64, "overlap": 0, "size_multiple": 8, "output": "embedding",
"task": "embedding", "embedding_dim": 3, "output_stride": 8, "input_units": "reflectance"}`))
	return p
}

// readVectors reads every band of an embeddings GeoTIFF.
func readVectors(t *testing.T, path string) []float32 {
	t.Helper()
	ds, err := godal.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	st := ds.Structure()
	buf := make([]float32, st.NBands*st.SizeX*st.SizeY)
	if err := ds.Read(0, 0, buf, st.SizeX, st.SizeY); err != nil {
		t.Fatal(err)
	}
	return buf
}

func readSidecar(t *testing.T, path string) embed.Sidecar {
	t.Helper()
	raw, err := os.ReadFile(path + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var sc embed.Sidecar
	if err := json.Unmarshal(raw, &sc); err != nil {
		t.Fatal(err)
	}
	return sc
}

// TestEmbedProductFolder: a Landsat Level-2 folder with an MTL, embedded
// with a reflectance encoder, gives exactly the vectors of the same bands
// stacked in one GeoTIFF with the MTL's scale and offset given by hand, in
// both modes; the sidecars say where the units came from.
func TestEmbedProductFolder(t *testing.T) {
	if _, err := ort.Setup(""); err != nil {
		t.Skipf("no ONNX Runtime: %v", err)
	}
	dir := t.TempDir()
	enc := reflectanceChipmean(t, dir)
	const id = "LC08_L2SP_193027_20200101_20200113_02_T1"
	folder := filepath.Join(dir, id)
	if err := os.Mkdir(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	pix := func(c, x, y int) float64 { return float64(12000 + 1000*c + (x*13+y*7+c*5)%997) }
	// Band files: B3 green, B4 red, B5 nir (and B2, not used).
	for i, b := range []string{"B2", "B3", "B4", "B5"} {
		role := map[int]int{1: 1, 2: 0, 3: 2}[i] // B3 -> green (1), B4 -> red (0), B5 -> nir (2)
		if i == 0 {
			role = 3
		}
		tif{w: 64, h: 48, bands: 1, dtype: godal.UInt16, pix: func(_, x, y int) float64 { return pix(role, x, y) }}.write(t, filepath.Join(folder, id+"_SR_"+b+".TIF"))
	}
	mtl := "GROUP = LANDSAT_METADATA_FILE\n  SPACECRAFT_ID = \"LANDSAT_8\"\n  PROCESSING_LEVEL = \"L2SP\"\n"
	for _, n := range []string{"2", "3", "4", "5"} {
		mtl += "  REFLECTANCE_MULT_BAND_" + n + " = 2.75E-05\n  REFLECTANCE_ADD_BAND_" + n + " = -0.2\n"
	}
	writeFile(t, filepath.Join(folder, id+"_MTL.txt"), []byte(mtl+"END_GROUP = LANDSAT_METADATA_FILE\nEND\n"))
	stacked := tif{w: 64, h: 48, dtype: godal.UInt16, pix: pix}.write(t, filepath.Join(dir, "stacked.tif"))

	for _, mode := range []string{"chips", "dense"} {
		t.Run(mode, func(t *testing.T) {
			a, b := filepath.Join(dir, mode+"_product.tif"), filepath.Join(dir, mode+"_stacked.tif")
			common := []string{"--model", enc, "--chip", "16", "--mode", mode, "--threads", "1", "--quiet"}
			if _, _, err := cli(t, append([]string{"embed", folder, "-o", a}, common...)...); err != nil {
				t.Fatal(err)
			}
			if _, _, err := cli(t, append([]string{"embed", stacked, "-o", b, "--scale", "2.75e-05", "--offset", "-0.2"}, common...)...); err != nil {
				t.Fatal(err)
			}
			va, vb := readVectors(t, a), readVectors(t, b)
			if len(va) != len(vb) || len(va) == 0 {
				t.Fatalf("%d vs %d values", len(va), len(vb))
			}
			for i := range va {
				if va[i] != vb[i] {
					t.Fatalf("value %d: product %g, stacked %g", i, va[i], vb[i])
				}
			}
			if va[0] < 0 || va[0] > 1 { // reflectance, not DN
				t.Errorf("first value %g: not reflectance", va[0])
			}
			sa, sb := readSidecar(t, a), readSidecar(t, b)
			if !strings.HasPrefix(sa.UnitsFrom, id+"_MTL.txt") || len(sa.Units) != 3 || sa.Units[0].Scale != 2.75e-05 || sa.Units[0].Offset != -0.2 {
				t.Errorf("product sidecar units %v from %q", sa.Units, sa.UnitsFrom)
			}
			if sb.UnitsFrom != "--scale/--offset" || len(sb.Units) != 3 {
				t.Errorf("stacked sidecar units %v from %q", sb.Units, sb.UnitsFrom)
			}
		})
	}
	// An explicit --scale wins over the MTL's.
	c := filepath.Join(dir, "scaled.tif")
	if _, _, err := cli(t, "embed", folder, "-o", c, "--model", enc, "--chip", "16", "--threads", "1", "--scale", "1e-4", "--quiet"); err != nil {
		t.Fatal(err)
	}
	if sc := readSidecar(t, c); sc.UnitsFrom != "--scale/--offset" || sc.Units[0].Scale != 1e-4 {
		t.Errorf("--scale: sidecar units %v from %q", sc.Units, sc.UnitsFrom)
	}
}

// TestEmbedOutputs: outputs are named as predict names masks (beside the
// scene, or in --output-dir, with _embed instead of _omnimask), one per
// scene; -o with several scenes, an output replacing an input and an
// --output-dir that is a file are usage errors (exit 2); a failing scene
// is named.
func TestEmbedOutputs(t *testing.T) {
	if _, err := ort.Setup(""); err != nil {
		t.Skipf("no ONNX Runtime: %v", err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	a := tif{w: 32, h: 32}.write(t, filepath.Join(dir, "a.tif"))
	b := tif{w: 32, h: 32, seed: 1}.write(t, filepath.Join(dir, "b.tif"))
	folder := landsatFolder(t, dir)
	chipmean := testModel("chipmean.onnx")
	for _, tc := range []struct {
		name  string
		args  []string
		want  []string // outputs written
		usage string   // usage error (exit 2); "" = none
		err   string   // other error
	}{
		{"default name beside the scene", []string{a}, []string{filepath.Join(dir, "a_embed.tif")}, "", ""},
		{"product folder", []string{folder}, []string{folder + "_embed.tif"}, "", ""},
		{"output dir, two scenes", []string{a, b, "--output-dir", out}, []string{filepath.Join(out, "a_embed.tif"), filepath.Join(out, "b_embed.tif")}, "", ""},
		{"stack: one output", []string{a, b, "--stack", "--bands", "1,2,4", "--output-dir", out}, []string{filepath.Join(out, "a_embed.tif")}, "", ""},
		{"-o with two scenes", []string{a, b, "-o", filepath.Join(dir, "x.tif")}, nil, "-o names one file but 2 scenes were given", ""},
		{"output is the input", []string{a, "-o", a}, nil, "a.tif", ""},
		{"output dir is a file", []string{a, "--output-dir", a}, nil, "not a folder", ""},
		{"unknown sensor", []string{a, "--sensor", "landsat99"}, nil, "--sensor landsat99", ""},
		{"a missing scene is named", []string{a, filepath.Join(dir, "missing.tif"), "--output-dir", out}, []string{filepath.Join(out, "a_embed.tif")}, "", "1 of 2 scenes failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, w := range tc.want {
				os.Remove(w)
			}
			_, stderr, err := cli(t, append([]string{"embed", "--model", chipmean, "--chip", "16", "--threads", "1"}, tc.args...)...)
			switch {
			case tc.usage != "":
				if err == nil || exitCode(err) != exitUsage || !strings.Contains(err.Error(), tc.usage) {
					t.Fatalf("%v (exit %d), want usage error %q", err, exitCode(err), tc.usage)
				}
			case tc.err != "":
				if err == nil || exitCode(err) == exitUsage || !strings.Contains(err.Error(), tc.err) || !strings.Contains(stderr, "missing.tif") {
					t.Fatalf("%v (exit %d, stderr %q), want %q naming missing.tif", err, exitCode(err), stderr, tc.err)
				}
			case err != nil:
				t.Fatal(err)
			}
			for _, w := range tc.want {
				wantRaster(t, w, 3, godal.Float32)
				if _, err := os.Stat(w + ".json"); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// TestEmbedDenseProcessingResolution: embed --mode dense
// --processing-resolution maps the scene resampled to that pixel size:
// cells of 8 px at 20 m for a 10 m scene, the sidecar says 20 m.
func TestEmbedDenseProcessingResolution(t *testing.T) {
	if _, err := ort.Setup(""); err != nil {
		t.Skipf("no ONNX Runtime: %v", err)
	}
	dir := t.TempDir()
	scene := tif{w: 64, h: 48}.write(t, filepath.Join(dir, "scene.tif"))
	for _, tc := range []struct {
		args       []string
		cols, rows int
		res        float64
	}{
		{nil, 8, 6, 0},
		{[]string{"--processing-resolution", "20", "--resolution", "10"}, 4, 3, 20},
		{[]string{"--processing-resolution", "10", "--resolution", "10"}, 8, 6, 0},
	} {
		out := filepath.Join(dir, "out.tif")
		args := append([]string{"embed", scene, "-o", out, "--model", testModel("chipmean.onnx"), "--mode", "dense", "--tile", "16", "--threads", "1", "--quiet"}, tc.args...)
		if _, _, err := cli(t, args...); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		ds, err := godal.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		st := ds.Structure()
		ds.Close()
		if sc := readSidecar(t, out); st.SizeX != tc.cols || st.SizeY != tc.rows || sc.Mode != "dense" || sc.ProcessingResolution != tc.res {
			t.Errorf("%v: %dx%d cells, sidecar mode %q at %g m; want %dx%d at %g m", tc.args, st.SizeX, st.SizeY, sc.Mode, sc.ProcessingResolution, tc.cols, tc.rows, tc.res)
		}
	}
}

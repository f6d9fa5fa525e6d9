package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omnimask/omnimask/embed"
	"github.com/omnimask/omnimask/internal/ort"
)

// TestEmbedGeoParquetCLI: embed writes GeoParquet for --format geoparquet
// or an -o named .parquet (named SCENE_embed.parquet by default, no
// sidecar file), refuses a format its -o name contradicts and GeoParquet
// in dense mode (exit 2); probe fit, eval and predict read the GeoParquet
// files as they read the GeoTIFFs: the same probe, report and class map.
func TestEmbedGeoParquetCLI(t *testing.T) {
	if _, err := ort.Setup(""); err != nil {
		t.Skipf("no ONNX Runtime: %v", err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	chipmean := testModel("chipmean.onnx")
	scenes := halvesScenes(t, dir)
	common := []string{"--model", chipmean, "--chip", "16", "--threads", "1", "--quiet"}
	for _, tc := range []struct {
		name  string
		args  []string
		want  []string // GeoParquet outputs written
		usage string   // usage error (exit 2); "" = none
	}{
		{"-o .parquet", []string{scenes[0], "-o", filepath.Join(out, "x.parquet")}, []string{filepath.Join(out, "x.parquet")}, ""},
		{"-o .geoparquet", []string{scenes[0], "-o", filepath.Join(out, "x.GeoParquet")}, []string{filepath.Join(out, "x.GeoParquet")}, ""},
		{"--format, any -o name", []string{scenes[0], "--format", "geoparquet", "-o", filepath.Join(out, "x.emb")}, []string{filepath.Join(out, "x.emb")}, ""},
		{"default name beside the scene", []string{scenes[0], "--format", "geoparquet"}, []string{filepath.Join(dir, "scenea_embed.parquet")}, ""},
		{"output dir, two scenes", []string{scenes[0], scenes[1], "--format", "geoparquet", "--output-dir", out},
			[]string{filepath.Join(out, "scenea_embed.parquet"), filepath.Join(out, "sceneb_embed.parquet")}, ""},
		{"unknown format", []string{scenes[0], "--format", "parquet"}, nil, `--format "parquet": want gtiff or geoparquet`},
		{"gtiff named .parquet", []string{scenes[0], "--format", "gtiff", "-o", filepath.Join(out, "y.parquet")}, nil, "--format gtiff with -o"},
		{"geoparquet named .tif", []string{scenes[0], "--format", "geoparquet", "-o", filepath.Join(out, "y.tif")}, nil, "--format geoparquet with -o"},
		{"dense", []string{scenes[0], "--mode", "dense", "-o", filepath.Join(out, "y.parquet")}, nil, "GeoParquet output is for chips mode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := cli(t, append(append([]string{"embed"}, common...), tc.args...)...)
			switch {
			case tc.usage != "":
				if err == nil || exitCode(err) != exitUsage || !strings.Contains(err.Error(), tc.usage) {
					t.Fatalf("%v (exit %d), want usage error %q", err, exitCode(err), tc.usage)
				}
			case err != nil:
				t.Fatal(err)
			}
			for _, w := range tc.want {
				r, err := embed.OpenGeoParquet(w)
				if err != nil {
					t.Fatal(err)
				}
				r.Close()
				if r.Meta.Encoder != "chipmean" || r.Meta.Grid.Cols != 4 || r.Meta.Grid.Rows != 2 {
					t.Errorf("%s: metadata %+v", w, r.Meta)
				}
				if _, err := os.Stat(w + ".json"); err == nil {
					t.Errorf("%s.json written", w)
				}
			}
		})
	}
	if _, err := os.Stat(filepath.Join(out, "y.parquet")); err == nil {
		t.Error("a refused run wrote y.parquet")
	}

	// probe: the GeoTIFF and the GeoParquet embeddings of both scenes
	var tifs, pqs []string
	for i, s := range scenes {
		tifs = append(tifs, filepath.Join(dir, "emb"+string(rune('a'+i))+".tif"))
		pqs = append(pqs, filepath.Join(dir, "emb"+string(rune('a'+i))+".parquet"))
		for _, o := range []string{tifs[i], pqs[i]} {
			if _, _, err := cli(t, append([]string{"embed", s, "-o", o}, common...)...); err != nil {
				t.Fatal(err)
			}
		}
	}
	csv := writeFile(t, filepath.Join(dir, "pts.csv"), []byte("label,x,y\n"+
		"forest,500080,3999920\nforest,500240,3999760\nwater,500400,3999920\nwater,500560,3999760\n"+
		"forest,510080,3999920\nwater,510560,3999920\n"))
	run := func(files []string, name string) (fit, eval []byte, mapPix []uint8, mapGT [6]float64) {
		t.Helper()
		pfile, mapf := filepath.Join(dir, name+".json"), filepath.Join(dir, name+"_map.tif")
		if _, _, err := cli(t, "probe", "fit", files[0], files[1], "--labels", csv, "-o", pfile); err != nil {
			t.Fatal(err)
		}
		stdout, _, err := cli(t, "probe", "eval", files[0], files[1], "--labels", csv)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := cli(t, "probe", "predict", files[0], "--probe", pfile, "-o", mapf); err != nil {
			t.Fatal(err)
		}
		fit, err = os.ReadFile(pfile)
		if err != nil {
			t.Fatal(err)
		}
		pix, w, h, gt := readMask(t, mapf)
		if w != 4 || h != 2 {
			t.Fatalf("%s: %dx%d", mapf, w, h)
		}
		return fit, []byte(stdout), pix, gt
	}
	fitT, evalT, mapT, gtT := run(tifs, "tif")
	fitP, evalP, mapP, gtP := run(pqs, "parquet")
	if !bytes.Equal(fitT, fitP) {
		t.Errorf("probe from GeoParquet:\n%s\nfrom GeoTIFF:\n%s", fitP, fitT)
	}
	if !bytes.Equal(evalT, evalP) || !bytes.Contains(evalP, []byte("accuracy 1.0000")) {
		t.Errorf("eval on GeoParquet:\n%s\non GeoTIFF:\n%s", evalP, evalT)
	}
	if string(mapP) != "\x00\x00\x01\x01\x00\x00\x01\x01" || !bytes.Equal(mapT, mapP) || gtT != gtP {
		t.Errorf("class map from GeoParquet %v %v, from GeoTIFF %v %v", mapP, gtP, mapT, gtT)
	}
}

package engine

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/omnimask/omnimask/internal/synth"
)

// TestProductRedirect: each of the methods that take a Request runs
// Request.Product on the product's engine (and without one, on the engine
// itself), and refuses an unknown product with the same model error.
// Sources shows which engine resolved the scene on a product folder: the
// plain engine's model reads red, green and nir (B04, B03, B08), the water
// product's preferred models also blue and the SWIR bands (B02, B11, B12).
func TestProductRedirect(t *testing.T) {
	e := newEngine(t, Options{Models: []string{testModel("pointwise.onnx")}, Threads: 1})
	path := filepath.Join(t.TempDir(), "scene.tif")
	if err := synth.New(synth.Options{Width: 96, Height: 80, Seed: 5}).WriteGeoTIFF(path, synth.FileOptions{}); err != nil {
		t.Fatal(err)
	}
	folder := t.TempDir()
	for file, band := range map[string]string{"B02": "blue", "B03": "green", "B04": "red", "B08": "nir", "B11": "swir1", "B12": "swir2"} {
		g := synth.New(synth.Options{Width: 96, Height: 80, Seed: 5, Bands: []string{band}})
		if err := g.WriteGeoTIFF(filepath.Join(folder, file+".tif"), synth.FileOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	sc := synthScene(96, 80, 5)
	calls := map[string]func(Request) (string, error){
		"Sources": func(r Request) (string, error) {
			files, err := e.Sources([]string{folder}, r)
			if err != nil {
				return "", err
			}
			band := func(f string) bool { return slices.Contains(files, filepath.Join(folder, f+".tif")) }
			switch {
			case !band("B04") || !band("B03") || !band("B08"):
				return "", fmt.Errorf("files %q: want B04, B03 and B08 among them", files)
			case band("B02") && band("B11") && band("B12"):
				return "water", nil
			case band("B02") || band("B11") || band("B12"):
				return "", fmt.Errorf("files %q: want all or none of B02, B11 and B12", files)
			}
			return "", nil
		},
		"Inspect": func(r Request) (string, error) {
			p, err := e.Inspect(ctx, []string{path}, r)
			if err != nil {
				return "", err
			}
			return p.Product, nil
		},
		"PlanScene": func(r Request) (string, error) {
			p, err := e.PlanScene(sc, r)
			if err != nil {
				return "", err
			}
			return p.Product, nil
		},
		"Predict": func(r Request) (string, error) {
			res, err := e.Predict(ctx, sc, r)
			if err != nil {
				return "", err
			}
			return res.Plan.Product, nil
		},
		"PredictFile": func(r Request) (string, error) {
			res, err := e.PredictFile(ctx, []string{path}, r)
			if err != nil {
				return "", err
			}
			return res.Plan.Product, nil
		},
	}
	for name, call := range calls {
		if got, err := call(Request{Product: "water", NoResample: true}); err != nil || got != "water" {
			t.Errorf("%s with product water: %q, %v", name, got, err)
		}
		if got, err := call(Request{NoResample: true}); err != nil || got != "" {
			t.Errorf("%s without a product: %q, %v", name, got, err)
		}
		_, err := call(Request{Product: "nope"})
		if !errors.Is(err, ErrModel) || !strings.Contains(err.Error(), `no built-in product "nope"`) {
			t.Errorf("%s with an unknown product: %v, want ErrModel naming it", name, err)
		}
	}
}

// A product's Sources are the files of every model combination the scene
// can run: on a folder without SWIR bands, whose prediction runs the
// water product with NDWI, they include the red, green and nir files and
// every file the prediction reads; on a folder with no band the product
// can use, the preferred combination's error.
func TestProductSourcesAnyVariant(t *testing.T) {
	e := newEngine(t, Options{Models: []string{testModel("pointwise.onnx")}, Threads: 1})
	folder, empty := t.TempDir(), t.TempDir()
	for file, band := range map[string]string{"B02": "blue", "B03": "green", "B04": "red", "B08": "nir"} {
		g := synth.New(synth.Options{Width: 64, Height: 64, Seed: 5, Bands: []string{band}})
		if err := g.WriteGeoTIFF(filepath.Join(folder, file+".tif"), synth.FileOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	g := synth.New(synth.Options{Width: 64, Height: 64, Seed: 5, Bands: []string{"blue"}})
	if err := g.WriteGeoTIFF(filepath.Join(empty, "B02.tif"), synth.FileOptions{}); err != nil {
		t.Fatal(err)
	}
	req := Request{Product: "water", NoResample: true}
	files, err := e.Sources([]string{folder}, req)
	if err != nil {
		t.Fatalf("Sources: %v", err)
	}
	for _, b := range []string{"B03", "B04", "B08"} {
		if !slices.Contains(files, filepath.Join(folder, b+".tif")) {
			t.Errorf("Sources %q: %s.tif missing", files, b)
		}
	}
	res, err := e.PredictFile(context.Background(), []string{folder}, req)
	if err != nil {
		t.Fatalf("PredictFile: %v", err)
	}
	for _, f := range res.Plan.Files {
		if !slices.Contains(files, f) {
			t.Errorf("the prediction read %s, not among Sources %q", f, files)
		}
	}
	if _, err := e.Sources([]string{empty}, req); err == nil {
		t.Error("Sources of a folder with only a blue band: no error")
	}
}

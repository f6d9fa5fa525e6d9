package engine

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/omnimask/omnimask/internal/synth"
)

// TestProductRedirect: each of the methods that take a Request runs
// Request.Product on the product's engine, and refuses an unknown product
// with the same model error.
func TestProductRedirect(t *testing.T) {
	e := newEngine(t, Options{Models: []string{testModel("pointwise.onnx")}, Threads: 1})
	path := filepath.Join(t.TempDir(), "scene.tif")
	if err := synth.New(synth.Options{Width: 96, Height: 80, Seed: 5}).WriteGeoTIFF(path, synth.FileOptions{}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sc := synthScene(96, 80, 5)
	calls := map[string]func(Request) (string, error){
		"Sources": func(r Request) (string, error) {
			files, err := e.Sources([]string{path}, r)
			if err == nil && !slices.Contains(files, path) {
				t.Errorf("Sources: %v, want the scene among them", files)
			}
			return "water", err // the same files whatever the product
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
		_, err := call(Request{Product: "nope"})
		if !errors.Is(err, ErrModel) || !strings.Contains(err.Error(), `no built-in product "nope"`) {
			t.Errorf("%s with an unknown product: %v, want ErrModel naming it", name, err)
		}
	}
}

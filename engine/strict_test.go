package engine

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omnimask/omnimask/internal/synth"
)

// Band names that do not match the model's are refused unless positional
// use is asked for; unnamed bands are taken in order either way.
func TestStrictBandNames(t *testing.T) {
	e := fakeEngine(t, Options{Models: []string{testModel("pointwise.onnx")}, Threads: 1})
	dir := t.TempDir()
	odd := writeSynth(t, filepath.Join(dir, "odd.tif"), synth.Options{Width: 64, Height: 64, Seed: 1, Bands: []string{"blue", "swir", "tir"}})
	unnamed := synthScene(64, 64, 1)
	unnamed.Names = nil
	named := synthScene(64, 64, 1)
	named.Names = []string{"blue", "swir", "tir"}
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(req Request) (*Result, error)
		req  Request
		fail bool
	}{
		{"file, strict", func(r Request) (*Result, error) { return e.PredictFile(ctx, []string{odd}, r) }, Request{}, true},
		{"file, by position", func(r Request) (*Result, error) { return e.PredictFile(ctx, []string{odd}, r) }, Request{BandsByPosition: true}, false},
		{"file, band spec", func(r Request) (*Result, error) { return e.PredictFile(ctx, []string{odd}, r) }, Request{Bands: "3,2,1"}, false},
		{"in-memory, strict", func(r Request) (*Result, error) { return e.Predict(ctx, named, r) }, Request{}, true},
		{"in-memory, by position", func(r Request) (*Result, error) { return e.Predict(ctx, named, r) }, Request{BandsByPosition: true}, false},
		{"in-memory, unnamed", func(r Request) (*Result, error) { return e.Predict(ctx, unnamed, r) }, Request{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := tt.run(tt.req)
			if tt.fail {
				var ie *InputError
				if !errors.As(err, &ie) || ie.Field != "Bands" || !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), "blue") {
					t.Fatalf("err = %v, want an InputError for Bands naming the scene's bands", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			positional := tt.req.Bands == ""
			if got := strings.Contains(strings.Join(res.Warnings, "|"), "no matching names"); got != positional {
				t.Errorf("warnings %q: positional warning %v, want %v", res.Warnings, got, positional)
			}
		})
	}
}

package engine

import (
	"context"
	"errors"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omnimask/omnimask/internal/synth"
	"github.com/omnimask/omnimask/raster"
)

// Every failure of a prediction is of exactly one kind a server can branch
// on with errors.Is, and the message names no flag of the command.
func TestFailureKinds(t *testing.T) {
	e := fakeEngine(t, Options{Models: []string{testModel("pointwise.onnx")}})
	dir := t.TempDir()
	scene := func(name string, o synth.Options) string {
		if o.Width == 0 {
			o = synth.Options{Width: 96, Height: 96, Seed: 3, Bands: []string{"red", "green", "nir"}}
		}
		return writeSynth(t, filepath.Join(dir, name), o)
	}
	good := scene("good.tif", synth.Options{})
	empty := filepath.Join(dir, "empty.tif")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	text := filepath.Join(dir, "text.tif")
	if err := os.WriteFile(text, []byte("not a raster at all, just some text\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cut := scene("cut.tif", synth.Options{})
	if st, err := os.Stat(cut); err != nil {
		t.Fatal(err)
	} else if err := os.Truncate(cut, st.Size()/2); err != nil {
		t.Fatal(err)
	}
	wrong := scene("wrong.tif", synth.Options{Width: 96, Height: 96, Seed: 3, Bands: []string{"blue", "swir", "red"}})
	tiny := scene("tiny.tif", synth.Options{Width: 16, Height: 16, Seed: 3, Bands: []string{"red", "green", "nir"}})
	small := fakeEngine(t, Options{Models: []string{testModel("pointwise.onnx")}, MaxMemory: 1 << 10})
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	kinds := []error{ErrInvalidInput, ErrUnsupported, ErrTooLarge, ErrModel, ErrBusy, ErrClosed, ErrInternal, context.Canceled}
	tests := []struct {
		name  string
		e     *Engine
		ctx   context.Context
		paths []string
		req   Request
		kind  error
		also  error // another errors.Is target, if any
		field string
	}{
		{name: "missing file", paths: []string{filepath.Join(dir, "gone.tif")}, kind: ErrInvalidInput, also: os.ErrNotExist},
		{name: "missing band file", paths: []string{good, filepath.Join(dir, "gone_b2.tif")}, kind: ErrInvalidInput, also: os.ErrNotExist},
		{name: "empty file", paths: []string{empty}, kind: ErrInvalidInput},
		{name: "not a raster", paths: []string{text}, kind: ErrInvalidInput},
		{name: "truncated", paths: []string{cut}, req: Request{Output: filepath.Join(dir, "cut_mask.tif")}, kind: ErrInvalidInput},
		{name: "bad band spec", paths: []string{good}, req: Request{Bands: "red=x y"}, kind: ErrInvalidInput, field: "Bands"},
		{name: "band out of range", paths: []string{good}, req: Request{Bands: "1,2,9"}, kind: ErrInvalidInput, field: "Bands"},
		{name: "unmatched band names", paths: []string{wrong}, kind: ErrInvalidInput, field: "Bands"},
		{name: "unknown sensor", paths: []string{good}, req: Request{Sensor: "hubble"}, kind: ErrInvalidInput},
		{name: "too small", paths: []string{tiny}, kind: ErrInvalidInput},
		{name: "bad resolution", paths: []string{good}, req: Request{Resolution: -1}, kind: ErrInvalidInput, field: "Resolution"},
		{name: "output is input", paths: []string{good}, req: Request{Output: good}, kind: ErrInvalidInput, also: ErrOutputIsInput},
		{name: "output folder missing", paths: []string{good}, req: Request{Output: filepath.Join(dir, "no", "mask.tif")}, kind: ErrInvalidInput},
		{name: "refused name", paths: []string{"MEM:::DATAPOINTER=0x1,PIXELS=1,LINES=1"}, kind: ErrUnsupported},
		{name: "over MaxMemory", e: small, paths: []string{good}, kind: ErrTooLarge},
		{name: "cancelled", ctx: cancelled, paths: []string{good}, kind: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			en, ctx := e, context.Background()
			if tt.e != nil {
				en = tt.e
			}
			if tt.ctx != nil {
				ctx = tt.ctx
			}
			_, err := en.PredictFile(ctx, tt.paths, tt.req)
			if err == nil {
				t.Fatal("no error")
			}
			for _, k := range kinds {
				if got, want := errors.Is(err, k), k == tt.kind; got != want {
					t.Errorf("errors.Is(%v, %v) = %v, want %v", err, k, got, want)
				}
			}
			if tt.also != nil && !errors.Is(err, tt.also) {
				t.Errorf("err = %v, not %v", err, tt.also)
			}
			var ie *InputError
			if got := errors.As(err, &ie); got != (tt.field != "") || (got && ie.Field != tt.field) {
				t.Errorf("InputError %+v, want field %q", ie, tt.field)
			}
			if strings.Contains(err.Error(), "--") {
				t.Errorf("message %q advises a command-line flag", err)
			}
		})
	}

	t.Run("in-memory", func(t *testing.T) {
		sc := &Scene{Bands: raster.NewFloat32(3, image.Rect(0, 0, 8, 8))}
		if _, err := e.Predict(context.Background(), sc, Request{Resolution: 10}); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("too small in-memory scene: err = %v, want ErrInvalidInput", err)
		}
		if _, err := e.Predict(context.Background(), nil, Request{}); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("nil scene: err = %v, want ErrInvalidInput", err)
		}
	})
	t.Run("inspect", func(t *testing.T) {
		if _, err := e.Inspect(context.Background(), []string{filepath.Join(dir, "gone.tif")}, Request{}); !errors.Is(err, ErrInvalidInput) || !errors.Is(err, os.ErrNotExist) {
			t.Errorf("err = %v, want ErrInvalidInput and os.ErrNotExist", err)
		}
	})
	t.Run("closed", func(t *testing.T) {
		c := fakeEngine(t, Options{Models: []string{testModel("pointwise.onnx")}})
		c.Close()
		if _, err := c.PredictFile(context.Background(), []string{good}, Request{}); !errors.Is(err, ErrClosed) || errors.Is(err, ErrInternal) {
			t.Errorf("err = %v, want ErrClosed only", err)
		}
	})
}

// New's failures: a model that cannot be used is an ErrModel, whether the
// file is corrupt, missing or an unknown built-in name.
func TestNewFailureKinds(t *testing.T) {
	requireORT(t)
	tests := []struct {
		name string
		opts Options
		kind error
	}{
		{"corrupt model", Options{Models: []string{testModel("corrupt.onnx")}}, ErrModel},
		{"no manifest", Options{Models: []string{testModel("no_manifest.onnx")}}, ErrModel},
		{"missing model file", Options{Models: []string{filepath.Join(t.TempDir(), "gone.onnx")}}, ErrModel},
		{"unknown built-in", Options{Models: []string{"no-such-model"}}, ErrModel},
		{"batch too large", Options{Models: []string{testModel("pointwise.onnx")}, BatchSize: MaxBatchSize + 1}, ErrInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := New(tt.opts)
			if err == nil {
				e.Close()
				t.Fatal("no error")
			}
			for _, k := range []error{ErrInvalidInput, ErrUnsupported, ErrModel, ErrInternal} {
				if got, want := errors.Is(err, k), k == tt.kind; got != want {
					t.Errorf("errors.Is(%v, %v) = %v, want %v", err, k, got, want)
				}
			}
		})
	}
}

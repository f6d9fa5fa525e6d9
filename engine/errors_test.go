package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/internal/ort"
	"github.com/omnimask/omnimask/internal/synth"
)

// GDAL failures reach the caller as *Error (operation, file, GDAL's error),
// on one line starting with the file, which PredictFile does not repeat;
// errors.Is finds the sentinels.
func TestLibraryErrorsAreTyped(t *testing.T) {
	e := fakeEngine(t, Options{Models: []string{testModel("pointwise.onnx")}})
	dir := t.TempDir()
	scene := func(name string) string {
		return writeSynth(t, filepath.Join(dir, name), synth.Options{Width: 300, Height: 300, Seed: 2, Bands: []string{"red", "green", "nir"}})
	}
	cut := scene("cut.tif")
	st, err := os.Stat(cut)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(cut, st.Size()/2); err != nil {
		t.Fatal(err)
	}
	header := scene("header.tif")
	if err := os.Truncate(header, 16); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, op string
		is             error
	}{
		{"truncated pixels", cut, "reading band", nil},
		{"truncated header", header, "", gdalio.ErrNotRaster},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.PredictFile(context.Background(), []string{tt.path}, Request{Output: filepath.Join(dir, "mask.tif")})
			var le *Error
			if !errors.As(err, &le) {
				t.Fatalf("err = %v (%T), want an *engine.Error", err, err)
			}
			if le.Path != tt.path || !strings.HasPrefix(le.Op, tt.op) || le.Err == nil {
				t.Errorf("Error{Op: %q, Path: %q, Err: %v}, want Op %q…, Path %q", le.Op, le.Path, le.Err, tt.op, tt.path)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("err = %v, not %v", err, tt.is)
			}
			// GDAL's own reason may name the file again.
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.HasPrefix(msg, tt.path+": ") || strings.HasPrefix(msg, tt.path+": "+tt.path) {
				t.Errorf("message %q: want one line starting with the file, once", msg)
			}
		})
	}
}

// ONNX Runtime failures are typed too: a corrupt model.
func TestORTErrorsAreTyped(t *testing.T) {
	requireORT(t)
	_, err := New(Options{Models: []string{testModel("corrupt.onnx")}})
	var le *Error
	if !errors.As(err, &le) || !errors.Is(err, ort.ErrModel) || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "corrupt.onnx") {
		t.Fatalf("err = %v, want a one-line *engine.Error wrapping ort.ErrModel and naming the file", err)
	}
}

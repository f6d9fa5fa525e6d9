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

// Inspect describes the files of a scene it cannot predict, with the error,
// so that a client (omnimask info) need not open them again.
func TestInspectDescribesWhatItCannotPredict(t *testing.T) {
	e := fakeEngine(t, Options{Models: []string{testModel("pointwise.onnx")}})
	path := writeSynth(t, filepath.Join(t.TempDir(), "three.tif"), synth.Options{Width: 64, Height: 48, Seed: 1, Bands: []string{"blue", "green", "swir"}})
	p, err := e.Inspect(context.Background(), []string{path}, Request{})
	if err == nil || !strings.Contains(err.Error(), "no band named") {
		t.Fatalf("err = %v, want the band mismatch", err)
	}
	if p == nil || p.Driver != "GTiff" || len(p.Source) != 3 || p.Source[1].Name != "green" || p.Source[0].Type != "UInt16" ||
		p.Size.X != 64 || p.Size.Y != 48 || !p.Geo.Georeferenced() || len(p.Files) != 1 {
		t.Fatalf("partial plan %+v", p)
	}
	ok, err := e.Inspect(context.Background(), []string{path}, Request{Bands: "1,2,3"})
	if err != nil {
		t.Fatal(err)
	}
	if ok.Driver != "GTiff" || len(ok.Source) != 3 || ok.Patches == 0 {
		t.Fatalf("plan %+v", ok)
	}
}

// A container whose sub-datasets cannot be chosen gives a SubDatasetError
// that lists them.
func TestInspectContainerListsSubDatasets(t *testing.T) {
	hdf, _ := filepath.Glob(filepath.Join("..", "..", "shared", "data", "scenes", "modis", "*.hdf"))
	if len(hdf) == 0 {
		t.Skip("no MODIS scene in ../shared/data")
	}
	if _, err := os.Stat(hdf[0]); err != nil {
		t.Skip(err)
	}
	e := fakeEngine(t, Options{Models: []string{testModel("pointwise.onnx")}})
	_, err := e.Inspect(context.Background(), hdf[:1], Request{Sensor: "sentinel2"})
	var sd *SubDatasetError
	if !errors.As(err, &sd) || sd.Path != hdf[0] || len(sd.SubDatasets) < 2 || !strings.HasPrefix(sd.SubDatasets[0], "HDF4_EOS:") {
		t.Fatalf("err = %v (%#v), want a SubDatasetError listing the sub-datasets", err, sd)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("multi-line error %q", err)
	}
}

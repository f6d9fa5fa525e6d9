package engine

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omnimask/omnimask/internal/synth"
)

// Inspect describes the files of a scene it cannot predict, with the error,
// so that a client (omnimask info) need not open them again.
func TestInspectDescribesWhatItCannotPredict(t *testing.T) {
	e := fakeEngine(t, Options{Models: []string{testModel("pointwise.onnx")}})
	path := writeSynth(t, filepath.Join(t.TempDir(), "three.tif"), synth.Options{Width: 64, Height: 48, Seed: 1, Bands: []string{"blue", "green", "swir"}})
	p, err := e.Inspect([]string{path}, Request{})
	if err == nil || !strings.Contains(err.Error(), "no band named") {
		t.Fatalf("err = %v, want the band mismatch", err)
	}
	if p == nil || p.Driver != "GTiff" || len(p.Source) != 3 || p.Source[1].Name != "green" || p.Source[0].Type != "UInt16" ||
		p.Size.X != 64 || p.Size.Y != 48 || !p.Geo.Georeferenced() || len(p.Files) != 1 {
		t.Fatalf("partial plan %+v", p)
	}
	ok, err := e.Inspect([]string{path}, Request{Bands: "1,2,3"})
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
	_, err := e.Inspect(hdf[:1], Request{Sensor: "sentinel2"})
	var sd *SubDatasetError
	if !errors.As(err, &sd) || sd.Path != hdf[0] || len(sd.SubDatasets) < 2 || !strings.HasPrefix(sd.SubDatasets[0], "HDF4_EOS:") {
		t.Fatalf("err = %v (%#v), want a SubDatasetError listing the sub-datasets", err, sd)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("multi-line error %q", err)
	}
}

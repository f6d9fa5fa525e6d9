package engine

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/internal/synth"
)

// A scene given as bytes, a mask returned as bytes or written to /vsimem/:
// the same GeoTIFF, byte for byte, as predicting the file to a file.
func TestBytesInBytesOut(t *testing.T) {
	e := fakeEngine(t, Options{Models: []string{testModel("pointwise.onnx")}, Threads: 1})
	dir := t.TempDir()
	scene := writeSynth(t, filepath.Join(dir, "scene.tif"), synth.Options{Width: 700, Height: 300, Seed: 7, Bands: []string{"red", "green", "nir"}})
	want := filepath.Join(dir, "mask.tif")
	ctx := context.Background()
	fileRes, err := e.PredictFile(ctx, []string{scene}, Request{Output: want})
	if err != nil {
		t.Fatal(err)
	}
	wantBytes, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	var copied bytes.Buffer
	if n, err := fileRes.WriteTo(&copied); err != nil || n != int64(len(wantBytes)) || !bytes.Equal(copied.Bytes(), wantBytes) {
		t.Errorf("WriteTo of a result written to a file: %d bytes, %v", n, err)
	}
	data, err := os.ReadFile(scene)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("bytes in, WriteTo out", func(t *testing.T) {
		res, err := e.PredictBytes(ctx, data, Request{})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if _, err := res.WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b.Bytes(), wantBytes) {
			t.Errorf("WriteTo gave %d bytes, the file output %d, not the same", b.Len(), len(wantBytes))
		}
		if _, err := gdalio.ReadMem(res.Plan.Files[0]); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the in-memory scene %s is still there (%v)", res.Plan.Files[0], err)
		}
	})
	t.Run("reader in, /vsimem/ out", func(t *testing.T) {
		out := gdalio.MemDir() + "/mask.tif"
		defer gdalio.RemoveMem(out)
		defer gdalio.RemoveMem(out + ".aux.xml")
		res, err := e.PredictReader(ctx, bytes.NewReader(data), Request{Output: out})
		if err != nil {
			t.Fatal(err)
		}
		got, err := gdalio.ReadMem(out)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, wantBytes) || res.Output != out {
			t.Errorf("/vsimem/ output: %d bytes, want the file output's %d", len(got), len(wantBytes))
		}
		viaResult, err := res.GeoTIFF()
		if err != nil || !bytes.Equal(viaResult, wantBytes) {
			t.Errorf("GeoTIFF() of a /vsimem/ output: %d bytes, %v", len(viaResult), err)
		}
	})
	t.Run("ReadScene then Predict", func(t *testing.T) {
		sc, err := ReadScene(scene)
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.Predict(ctx, sc, Request{})
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "from_scene.tif")
		if err := res.WriteGeoTIFF(path); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, wantBytes) {
			t.Errorf("ReadScene + Predict + WriteGeoTIFF: %d bytes, not the file output's %d", len(got), len(wantBytes))
		}
	})
	t.Run("refused bytes", func(t *testing.T) {
		vrt := []byte(`<VRTDataset rasterXSize="1" rasterYSize="1"><VRTRasterBand band="1"><SimpleSource><SourceFilename>` + scene + `</SourceFilename></SimpleSource></VRTRasterBand></VRTDataset>`)
		tests := []struct {
			name string
			data []byte
			kind error
		}{
			{"VRT", vrt, ErrUnsupported},
			{"empty", nil, ErrUnsupported},
			{"truncated TIFF", data[:len(data)/3], ErrInvalidInput},
			{"TIFF header only", data[:16], ErrInvalidInput},
		}
		for _, tt := range tests {
			_, err := e.PredictBytes(ctx, tt.data, Request{})
			if !errors.Is(err, tt.kind) {
				t.Errorf("%s: err = %v, want %v", tt.name, err, tt.kind)
			}
		}
	})
}

package engine

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/airbusgeo/godal"

	"github.com/omnimask/omnimask/internal/synth"
)

// The dynamic z-score makes the mask independent of the data's scale and
// type: the same scene stored as uint8 (NAIP-like), uint16 DN, int16 x10000
// with -9999 nodata and float32 reflectance gives the same mask.
func TestScaleAndTypeInvariance(t *testing.T) {
	dir := t.TempDir()
	g := synth.New(synth.Options{Width: 160, Height: 140, Seed: 17, NoDataCorners: true})
	e := fakeEngine(t, Options{Models: []string{testModel("pointwise_zscore.onnx")}})
	tests := []struct {
		name string
		fo   synth.FileOptions
		min  float64 // minimum agreement with float32 reflectance
	}{
		{"float32 reflectance", synth.FileOptions{Type: godal.Float32, Scale: 1, NoData: -1}, 1},
		{"uint16 DN x10000", synth.FileOptions{Type: godal.UInt16, Scale: 10000, NoData: 0}, 0.999},
		{"int16 x10000 nodata -9999", synth.FileOptions{Type: godal.Int16, Scale: 10000, NoData: -9999}, 0.999},
		{"float64 DN x3.7", synth.FileOptions{Type: godal.Float64, Scale: 3.7, NoData: -5}, 0.999},
		{"uint8 x255", synth.FileOptions{Type: godal.Byte, Scale: 255, NoData: 0}, 0.97},
	}
	var ref []uint8
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name+".tif")
			if err := g.WriteGeoTIFF(path, tt.fo); err != nil {
				t.Fatal(err)
			}
			res, err := e.PredictFile(context.Background(), []string{path}, Request{PatchSize: 64, Overlap: 16})
			if err != nil {
				t.Fatal(err)
			}
			if ref == nil {
				ref = res.Mask.Pix
				return
			}
			same, nodataSame := 0, true
			for i, v := range res.Mask.Pix {
				if v == ref[i] {
					same++
				}
				if (v == 255) != (ref[i] == 255) {
					nodataSame = false
				}
			}
			if f := float64(same) / float64(len(ref)); f < tt.min {
				t.Errorf("%.4f of pixels agree with float32 reflectance, want >= %.3f", f, tt.min)
			}
			if !nodataSame {
				t.Error("nodata pixels differ")
			}
		})
	}
}

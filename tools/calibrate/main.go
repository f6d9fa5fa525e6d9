// Command calibrate measures activation ranges for static int8 quantisation.
// It runs an "augmented" ONNX model (every tensor to quantise exposed as a
// graph output, made by models/train/quantize.py augment) with ONNX Runtime
// on real patches, normalised exactly as the engine does, and writes the
// range of each output as JSON for quantize.py apply.
//
//	go run ./tools/calibrate -model aug.onnx -data ../shared/data -out ranges.json
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"sort"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/internal/ort"
	"github.com/omnimask/omnimask/preprocess"
	"github.com/omnimask/omnimask/raster"
)

func main() {
	model := flag.String("model", "", "augmented ONNX model")
	data := flag.String("data", "../shared/data", "shared data folder")
	out := flag.String("out", "ranges.json", "output JSON")
	patch := flag.Int("patch", 256, "patch size")
	pct := flag.Float64("percentile", 99.99, "clip ranges at this percentile of |values| (100 = min/max)")
	flag.Parse()
	if err := run(*model, *data, *out, *patch, *pct); err != nil {
		fmt.Fprintln(os.Stderr, "calibrate:", err)
		os.Exit(1)
	}
}

type source struct {
	files []string
	bands []int // 0-based
	scale float64
}

func sources(data string) []source {
	var s []source
	l8, _ := filepath.Glob(filepath.Join(data, "cloud/l8biome/train/*_image.tif"))
	for _, f := range l8 {
		s = append(s, source{files: []string{f}, bands: []int{2, 1, 3}, scale: 1})
	}
	for _, c := range []string{"chip_1", "chip_2", "chip_3"} {
		d := filepath.Join(data, "cloud/oncloudn-s2", c)
		s = append(s, source{files: []string{filepath.Join(d, "B04.tif"), filepath.Join(d, "B03.tif"), filepath.Join(d, "B08.tif")}, bands: []int{0, 1, 2}, scale: 1})
	}
	return s
}

func run(model, data, out string, patch int, pct float64) error {
	if _, err := ort.Setup(""); err != nil {
		return err
	}
	onnxData, err := os.ReadFile(model)
	if err != nil {
		return err
	}
	vals := map[string][]float32{}
	n := 0
	for _, src := range sources(data) {
		s, err := gdalio.Open(src.files...)
		if err != nil {
			return err
		}
		if err := s.Select(src.bands); err != nil {
			s.Close()
			return err
		}
		for y := 0; y+patch <= s.Size.Y; y += patch {
			for x := 0; x+patch <= s.Size.X; x += patch {
				m := raster.NewFloat32(3, image.Rect(x, y, x+patch, y+patch))
				if err := s.Read(m); err != nil {
					s.Close()
					return err
				}
				valid := raster.NewMask(m.Rect)
				if preprocess.Valid(valid, m, raster.NoDataValue(0)) == 0 {
					continue
				}
				preprocess.ZScore(m, valid, 0)
				res, _, err := ort.Probe(onnxData, m.Pix, [4]int64{1, 3, int64(patch), int64(patch)}, ort.Options{})
				if err != nil {
					s.Close()
					return err
				}
				for k, v := range res {
					// keep a strided sample to bound memory
					for i := 0; i < len(v); i += 7 {
						vals[k] = append(vals[k], v[i])
					}
				}
				n++
			}
		}
		s.Close()
	}
	if n == 0 {
		return fmt.Errorf("no calibration patches under %s", data)
	}
	ranges := map[string][2]float64{}
	for k, v := range vals {
		lo, hi := percentiles(v, pct)
		ranges[k] = [2]float64{lo, hi}
	}
	b, err := json.MarshalIndent(map[string]any{"patches": n, "percentile": pct, "ranges": ranges}, "", " ")
	if err != nil {
		return err
	}
	fmt.Printf("calibrate: %d patches, %d tensors\n", n, len(ranges))
	return os.WriteFile(out, b, 0o644)
}

func percentiles(v []float32, pct float64) (lo, hi float64) {
	f := make([]float64, len(v))
	for i, x := range v {
		f[i] = float64(x)
	}
	sort.Float64s(f)
	q := func(p float64) float64 {
		i := int(math.Round(p / 100 * float64(len(f)-1)))
		return f[max(0, min(len(f)-1, i))]
	}
	return q(100 - pct), q(pct)
}

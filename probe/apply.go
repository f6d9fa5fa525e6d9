package probe

import (
	"fmt"
	"image"
	"math"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/raster"
)

// Apply classifies every chip of e: class[j] is the most probable class of
// chip j (-1 for a nodata chip) and prob[j] its len(p.Classes)
// probabilities (nil for a nodata chip). It refuses embeddings whose width
// is not the probe's.
func (p *Probe) Apply(e *Embeddings) (class []int, prob [][]float64, err error) {
	if e.Sidecar.Dim != len(p.Mean) {
		return nil, nil, fmt.Errorf("%s: %d-D embeddings, the probe takes %d-D", e.Path, e.Sidecar.Dim, len(p.Mean))
	}
	class, prob = make([]int, len(e.Vectors)), make([][]float64, len(e.Vectors))
	for j, v := range e.Vectors {
		class[j] = -1
		if v == nil {
			continue
		}
		prob[j] = p.Predict(v)
		best := -1.0
		for k, q := range prob[j] {
			if q > best {
				best, class[j] = q, k
			}
		}
	}
	return class, prob, nil
}

// WriteProbabilities writes the class probabilities prob (as returned by
// Apply) of the chips of e as a float32 GeoTIFF on e's chip grid (e's
// geotransform and CRS): one band per class, described by the class name,
// NaN (the nodata value) for nodata chips.
func WriteProbabilities(path string, e *Embeddings, classes []string, prob [][]float64) error {
	if len(prob) != e.Cols*e.Rows {
		return fmt.Errorf("%s: %d chips of probabilities for a %dx%d chip grid", path, len(prob), e.Cols, e.Rows)
	}
	K := len(classes)
	w, err := gdalio.Create(path, image.Pt(e.Cols, e.Rows), e.Geo, gdalio.WriteOptions{
		Bands: K, Float32: true, NoData: raster.NoDataValue(math.NaN()), Names: classes,
		Metadata: map[string]string{"OMNIMASK_ENCODER": e.Encoder()}})
	if err != nil {
		return err
	}
	defer w.Close()
	band := make([]float32, len(prob))
	r := image.Rect(0, 0, e.Cols, e.Rows)
	for k := range K {
		for j, q := range prob {
			switch {
			case q == nil:
				band[j] = float32(math.NaN())
			case len(q) != K:
				return fmt.Errorf("%s: chip %d has %d probabilities for %d classes", path, j, len(q), K)
			default:
				band[j] = float32(q[k])
			}
		}
		if err := w.WriteFloat32(k, r, band); err != nil {
			return err
		}
	}
	return w.Commit()
}

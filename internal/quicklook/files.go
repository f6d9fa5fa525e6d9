package quicklook

import (
	"fmt"
	"image"
	"math"
	"strings"

	"github.com/airbusgeo/godal"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/models"
	"github.com/omnimask/omnimask/raster"
)

// WriteFiles renders the preview of a scene (one file or stacked per-band
// files) and its mask file into a PNG. display are 0-based band indices in
// the scene for red, green and blue.
func WriteFiles(pngPath string, scene []string, display [3]int, maskPath string, classes []models.Class) error {
	s, err := gdalio.Open(scene...)
	if err != nil {
		return err
	}
	defer s.Close()
	size := Size(s.Size)
	if err := s.Select(display[:]); err != nil {
		return err
	}
	rgb := raster.NewFloat32(3, image.Rectangle{Max: size})
	if err := s.ReadResampled(rgb, image.Rectangle{Max: s.Size}, godal.Average); err != nil {
		return err
	}
	for c, b := range s.Selected() {
		if !b.NoData.Set {
			continue
		}
		for i, v := range rgb.Pix[c*rgb.PlaneStride : (c+1)*rgb.PlaneStride] {
			if float64(v) == b.NoData.Value {
				rgb.Pix[c*rgb.PlaneStride+i] = float32(math.NaN())
			}
		}
	}
	ms, err := gdalio.Open(maskPath)
	if err != nil {
		return err
	}
	defer ms.Close()
	if err := ms.Select([]int{0}); err != nil {
		return err
	}
	mf := raster.NewFloat32(1, image.Rectangle{Max: size})
	if err := ms.ReadResampled(mf, image.Rectangle{Max: ms.Size}, godal.Nearest); err != nil {
		return err
	}
	mask := image.NewGray(mf.Rect)
	for i, v := range mf.Pix {
		mask.Pix[i] = uint8(v)
	}
	if err := WritePNG(pngPath, Render(rgb, mask, classes)); err != nil {
		return err
	}
	return nil
}

// DisplayBands picks true-colour bands from a scene's band names: red, green
// and blue when named so; the model's red and green inputs otherwise (blue
// then repeats green).
func DisplayBands(names []string, red, green int) ([3]int, string) {
	find := func(n string) int {
		for i, v := range names {
			if strings.EqualFold(v, n) {
				return i
			}
		}
		return -1
	}
	if r, g, b := find("red"), find("green"), find("blue"); r >= 0 && g >= 0 && b >= 0 {
		return [3]int{r, g, b}, "true colour"
	}
	return [3]int{red, green, green}, fmt.Sprintf("bands %d,%d,%d", red+1, green+1, green+1)
}

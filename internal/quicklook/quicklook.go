// Package quicklook renders PNG previews: a contrast-stretched colour image
// of a scene with a class mask overlaid and a legend.
package quicklook

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/models"
	"github.com/omnimask/omnimask/raster"
)

// MaxSide is the longest side of a preview in pixels.
const MaxSide = 768

// Alpha is the opacity of the mask colours over the image.
const Alpha = 0.6

// Render draws two panels side by side: rgb (3 channels, any scale; NaN =
// nodata) contrast-stretched, and the same image with the class mask (same
// size, 255 = nodata) overlaid in the classes' colours, clear (id 0) left
// transparent. A legend strip is added below.
func Render(rgb *raster.Float32, mask *image.Gray, classes []models.Class) *image.RGBA {
	r := rgb.Rect
	const legendH, gap = 22, 6
	out := image.NewRGBA(image.Rect(0, 0, 2*r.Dx()+gap, r.Dy()+legendH))
	draw.Draw(out, out.Bounds(), image.NewUniform(color.RGBA{24, 24, 24, 255}), image.Point{}, draw.Src)
	lo, hi := make([]float64, 3), make([]float64, 3)
	for c := 0; c < 3; c++ {
		lo[c], hi[c] = stretch(rgb, c)
	}
	colors := map[uint8]color.RGBA{}
	for _, c := range classes {
		colors[uint8(c.ID)] = color.RGBA{c.Color[0], c.Color[1], c.Color[2], 255}
	}
	for y := 0; y < r.Dy(); y++ {
		for x := 0; x < r.Dx(); x++ {
			var px [3]float64
			nan := false
			for c := 0; c < 3; c++ {
				v := float64(rgb.At(c, r.Min.X+x, r.Min.Y+y))
				if math.IsNaN(v) {
					nan = true
				}
				px[c] = 255 * math.Max(0, math.Min(1, (v-lo[c])/(hi[c]-lo[c])))
			}
			if nan {
				continue
			}
			out.SetRGBA(x, y, color.RGBA{uint8(px[0]), uint8(px[1]), uint8(px[2]), 255})
			cl := mask.GrayAt(mask.Rect.Min.X+x, mask.Rect.Min.Y+y).Y
			if cl == 255 {
				continue
			}
			if col, ok := colors[cl]; ok && cl != 0 {
				px[0] = (1-Alpha)*px[0] + Alpha*float64(col.R)
				px[1] = (1-Alpha)*px[1] + Alpha*float64(col.G)
				px[2] = (1-Alpha)*px[2] + Alpha*float64(col.B)
			}
			out.SetRGBA(r.Dx()+gap+x, y, color.RGBA{uint8(px[0]), uint8(px[1]), uint8(px[2]), 255})
		}
	}
	legend(out, r.Dy(), classes)
	return out
}

// stretch returns the 2nd and 98th percentiles of channel c.
func stretch(m *raster.Float32, c int) (lo, hi float64) {
	var v []float64
	for y := m.Rect.Min.Y; y < m.Rect.Max.Y; y++ {
		for _, f := range m.Row(c, y) {
			if !math.IsNaN(float64(f)) {
				v = append(v, float64(f))
			}
		}
	}
	if len(v) == 0 {
		return 0, 1
	}
	slices.Sort(v)
	lo, hi = v[len(v)*2/100], v[min(len(v)-1, len(v)*98/100)]
	if hi <= lo {
		hi = lo + 1
	}
	return lo, hi
}

func legend(img *image.RGBA, top int, classes []models.Class) {
	d := &font.Drawer{Dst: img, Src: image.NewUniform(color.White), Face: basicfont.Face7x13}
	x := 6
	for _, c := range classes {
		box := image.Rect(x, top+5, x+12, top+17)
		draw.Draw(img, box, image.NewUniform(color.RGBA{c.Color[0], c.Color[1], c.Color[2], 255}), image.Point{}, draw.Src)
		d.Dot = fixed.P(x+16, top+16)
		d.DrawString(c.Name)
		x += 16 + d.MeasureString(c.Name).Round() + 14
	}
}

// Size returns the preview size for a scene of the given size.
func Size(scene image.Point) image.Point {
	s := float64(MaxSide) / float64(max(scene.X, scene.Y))
	if s >= 1 {
		return scene
	}
	return image.Pt(max(1, int(float64(scene.X)*s)), max(1, int(float64(scene.Y)*s)))
}

// WritePNG encodes img into path atomically.
func WritePNG(path string, img image.Image) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), gdalio.TempPattern(path))
	if err != nil {
		return fmt.Errorf("quicklook: %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := png.Encode(tmp, img); err != nil {
		tmp.Close()
		return fmt.Errorf("quicklook: %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("quicklook: %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("quicklook: %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("quicklook: %s: %w", path, err)
	}
	return nil
}

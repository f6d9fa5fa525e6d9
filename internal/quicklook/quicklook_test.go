package quicklook

import (
	"image"
	"image/color"
	"math"
	"path/filepath"
	"testing"

	"github.com/omnimask/omnimask/models"
	"github.com/omnimask/omnimask/raster"
)

func TestRender(t *testing.T) {
	rgb := raster.NewFloat32(3, image.Rect(0, 0, 40, 30))
	for i := range rgb.Pix {
		rgb.Pix[i] = float32(i % 40)
	}
	rgb.Set(0, 1, 1, float32(math.NaN()))
	mask := image.NewGray(rgb.Rect)
	mask.SetGray(5, 5, color.Gray{Y: 1})
	mask.SetGray(6, 6, color.Gray{Y: 255})
	classes := []models.Class{{ID: 0, Name: "clear", Color: [3]uint8{0, 255, 0}}, {ID: 1, Name: "cloud", Color: [3]uint8{255, 0, 255}}}
	img := Render(rgb, mask, classes)
	if got := img.Bounds().Size(); got.X != 2*40+6 || got.Y != 30+22 {
		t.Fatalf("size %v", got)
	}
	left, right := img.RGBAAt(5, 5), img.RGBAAt(40+6+5, 5)
	if left == right || right.R < left.R || right.G > left.G+1 {
		t.Errorf("cloud pixel not tinted: left %v right %v", left, right)
	}
	if a, b := img.RGBAAt(7, 7), img.RGBAAt(40+6+7, 7); a != b {
		t.Errorf("clear pixel tinted: %v vs %v", a, b)
	}
	if p := img.RGBAAt(1, 1); p != (color.RGBA{24, 24, 24, 255}) {
		t.Errorf("NaN pixel drawn as %v", p)
	}
	if err := WritePNG(filepath.Join(t.TempDir(), "q.png"), img); err != nil {
		t.Fatal(err)
	}
}

func TestSizeAndDisplayBands(t *testing.T) {
	if got := Size(image.Pt(1536, 768)); got != image.Pt(768, 384) {
		t.Errorf("Size = %v", got)
	}
	if got := Size(image.Pt(100, 50)); got != image.Pt(100, 50) {
		t.Errorf("Size = %v", got)
	}
	if d, _ := DisplayBands([]string{"Blue", "green", "red", "nir"}, 2, 1); d != [3]int{2, 1, 0} {
		t.Errorf("DisplayBands = %v", d)
	}
	if d, _ := DisplayBands([]string{"B04", "B03", "B08"}, 0, 1); d != [3]int{0, 1, 1} {
		t.Errorf("DisplayBands = %v", d)
	}
}

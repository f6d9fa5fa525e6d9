package raster_test

import (
	"fmt"
	"image"

	"github.com/omnimask/omnimask/raster"
)

// A SubImage is a view: writes through it land in the parent raster.
func ExampleFloat32_SubImage() {
	m := raster.NewFloat32(2, image.Rect(0, 0, 4, 3))
	patch := m.SubImage(image.Rect(1, 1, 3, 3))
	patch.Set(1, 2, 2, 7)
	fmt.Println(m.At(1, 2, 2), patch.Contiguous(), patch.Clone().Contiguous())
	// Output: 7 false true
}

func ExampleGeoTransform_Apply() {
	// A north-up 10 m grid whose top-left corner is at (500000, 4000000).
	gt := raster.GeoTransform{500000, 10, 0, 4000000, 0, -10}
	x, y := gt.Apply(0.5, 0.5) // centre of the top-left pixel
	fmt.Println(x, y)
	dx, dy := gt.Scale(3, 3).PixelSize()
	fmt.Println(dx, dy)
	// Output:
	// 500005 3.999995e+06
	// 30 30
}

func ExampleMask_Count() {
	m := raster.NewMask(image.Rect(0, 0, 3, 2))
	m.Row(1)[2] = true
	fmt.Println(m.Count(), m.Valid(2, 1), m.SubImage(image.Rect(0, 0, 2, 2)).Count())
	// Output: 1 true 0
}

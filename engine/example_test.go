package engine_test

import (
	"context"
	"fmt"
	"image"
	"log"

	"github.com/omnimask/omnimask/engine"
	"github.com/omnimask/omnimask/raster"
)

// Build an engine once, then predict in-memory rasters (or files, with
// PredictFile) from any number of goroutines.
func Example() {
	e, err := engine.New(engine.Options{Models: []string{"../testdata/models/pointwise.onnx"}})
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()

	// A 3-band (red, green, nir) 128x96 scene at 10 m, brighter to the right.
	bands := raster.NewFloat32(3, image.Rect(0, 0, 128, 96))
	for c := 0; c < 3; c++ {
		for y := 0; y < 96; y++ {
			for x := 0; x < 128; x++ {
				bands.Set(c, x, y, float32(x)/128*float32(c+1))
			}
		}
	}
	scene := &engine.Scene{
		Bands: bands,
		Names: []string{"red", "green", "nir"},
		Geo:   raster.Geo{Transform: raster.GeoTransform{500000, 10, 0, 4000000, 0, -10}, CRS: "EPSG:32633"},
	}
	res, err := e.Predict(context.Background(), scene, engine.Request{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("mask", res.Mask.Rect.Size(), "patches", res.Plan.Patches)
	fmt.Println("left:", res.Mask.GrayAt(0, 50).Y, "right:", res.Mask.GrayAt(127, 50).Y)
	// Output:
	// mask (128,96) patches 6
	// left: 3 right: 2
}

package preprocess_test

import (
	"fmt"
	"image"

	"github.com/omnimask/omnimask/preprocess"
	"github.com/omnimask/omnimask/raster"
)

func ExampleParseBands() {
	want := []string{"red", "green", "nir"}
	refs, _ := preprocess.ParseBands("nir=B08, red=3, green=2", want)
	fmt.Println(refs)
	idx, _, _ := preprocess.ResolveBands(refs, want, []string{"B02", "B03", "B04", "B08"})
	fmt.Println(idx)
	_, err := preprocess.ParseBands("4,3", want)
	fmt.Println(err)
	// Output:
	// [3 2 "B08"]
	// [2 1 3]
	// preprocess: band spec "4,3" gives 2 bands, the model wants 3 (red, green, nir)
}

func ExampleResolveBands() {
	want := []string{"red", "green", "nir"}
	// No --bands: match by name, or fall back to file order with a note.
	idx, note, _ := preprocess.ResolveBands(nil, want, []string{"Band 1", "Band 2", "Band 3"})
	fmt.Println(idx)
	fmt.Println(note)
	// Output:
	// [0 1 2]
	// bands have no matching names; using bands 1..3 as red, green, nir (use --bands to choose)
}

// A pixel is nodata only when every band holds the nodata value; the
// z-score uses the valid pixels only and fills the others.
func ExampleZScore() {
	r := image.Rect(0, 0, 4, 1)
	m := raster.NewFloat32(2, r)
	copy(m.Pix, []float32{
		0, 2, 4, 0, // band 1
		0, 1, 1, 5, // band 2
	})
	valid := raster.NewMask(r)
	n := preprocess.Valid(valid, m, raster.NoDataValue(0))
	preprocess.ZScore(m, valid, -1)
	fmt.Println(n, m.Row(0, 0), m.Row(1, 0))
	// Output: 3 [-1 0 1.2247449 -1.2247449] [-1 -0.70710677 -0.70710677 1.4142135]
}

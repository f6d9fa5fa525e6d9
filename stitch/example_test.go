package stitch_test

import (
	"fmt"
	"image"

	"github.com/omnimask/omnimask/stitch"
)

func ExampleAccumulator() {
	// Two one-class patches over a 3-pixel-wide, 1-row scene, overlapping
	// in the middle pixel with weights 1 and 3.
	a := stitch.NewAccumulator(1, 3)
	_ = a.Add(image.Rect(0, 0, 2, 1), []float32{0, 0}, []float32{1, 1})
	_ = a.Add(image.Rect(1, 0, 3, 1), []float32{1, 1}, []float32{3, 3})
	_ = a.Flush(2, func(row int, scores [][]float32) error {
		fmt.Println(row, scores[0])
		return nil
	})
	// Output:
	// 0 [0 0.75 1]
	// 1 [NaN NaN NaN]
}

func ExampleBilinearRow() {
	x := stitch.NewAxis(2, 4) // 2x upsampling, pixel centres aligned
	dst := make([]float32, 4)
	row := []float32{0, 1}
	stitch.BilinearRow(dst, row, row, 0, x)
	fmt.Println(dst)
	// Output: [0 0.25 0.75 1]
}

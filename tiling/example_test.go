package tiling_test

import (
	"fmt"
	"image"

	"github.com/omnimask/omnimask/tiling"
)

// OmniCloudMask's defaults (1000 px patches, 300 px overlap) on a scene
// 2000 x 1001: patches every 700 px, the last one clamped to the edge.
func ExampleNewGrid() {
	g, err := tiling.NewGrid(image.Pt(2000, 1001), 1000, 300)
	if err != nil {
		panic(err)
	}
	fmt.Println(g.Xs, g.Ys, g.Len(), g.Rect(2, 1))
	// Output: [0 700 1000] [0 1] 6 (1000,1)-(2000,1001)
}

func ExampleFit() {
	// A 600-row scene cannot hold a 1000 px patch: the patch shrinks to a
	// multiple of 16 that fits and the overlap shrinks with it.
	p, o, _ := tiling.Fit(image.Pt(2000, 600), 1000, 300, 16)
	fmt.Println(p, o)
	_, _, err := tiling.Fit(image.Pt(31, 31), 1000, 300, 16)
	fmt.Println(err)
	// Output:
	// 592 177
	// tiling: scene smaller than the minimum patch: 31x31 pixels, need at least 32 on each side
}

func ExampleWindow_Profile() {
	fmt.Println(tiling.Ramp.Profile(8, 2))
	fmt.Println(tiling.Boxcar.Profile(4, 2))
	// Output:
	// [0.5 1 1 1 1 1 1 0.5]
	// [1 1 1 1]
}

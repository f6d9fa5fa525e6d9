// Command synthscene writes a synthetic georeferenced scene (and optionally
// its truth mask) for demos and benchmarks.
//
//	go run ./tools/synthscene -size 2048 -o scene.tif [-truth truth.tif]
package main

import (
	"flag"
	"fmt"
	"image"
	"os"
	"strings"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/internal/synth"
	"github.com/omnimask/omnimask/raster"
)

func main() {
	size := flag.Int("size", 1024, "width and height in pixels")
	height := flag.Int("height", 0, "height in pixels (default: size)")
	out := flag.String("o", "scene.tif", "output GeoTIFF")
	truth := flag.String("truth", "", "also write the truth mask here")
	seed := flag.Uint64("seed", 1, "random seed")
	bands := flag.String("bands", "blue,green,red,nir", "band names")
	res := flag.Float64("resolution", 10, "pixel size in metres")
	corners := flag.Bool("nodata-corners", true, "cut nodata triangles at two corners")
	flag.Parse()
	h := *height
	if h == 0 {
		h = *size
	}
	g := synth.New(synth.Options{Width: *size, Height: h, Seed: *seed, Bands: strings.Split(*bands, ","),
		NoDataCorners: *corners, ResolutionM: *res})
	if err := g.WriteGeoTIFF(*out, synth.FileOptions{}); err != nil {
		fmt.Fprintln(os.Stderr, "synthscene:", err)
		os.Exit(1)
	}
	if *truth != "" {
		if err := writeTruth(g, *truth); err != nil {
			fmt.Fprintln(os.Stderr, "synthscene:", err)
			os.Exit(1)
		}
	}
}

func writeTruth(g *synth.Generator, path string) error {
	o := g.Opts
	w, err := gdalio.Create(path, image.Pt(o.Width, o.Height), g.Geo(), gdalio.WriteOptions{NoData: raster.NoDataValue(synth.NoData)})
	if err != nil {
		return err
	}
	defer w.Close()
	row := make([]uint8, o.Width)
	for y := 0; y < o.Height; y++ {
		for x := range row {
			row[x] = g.Truth(x, y)
		}
		if err := w.WriteUint8(0, image.Rect(0, y, o.Width, y+1), row); err != nil {
			return err
		}
	}
	return w.Commit()
}

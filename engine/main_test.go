package engine_test

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/omnimask/omnimask/internal/ort"
)

// TestMain skips the runnable examples, which load real models, when no
// ONNX Runtime library can be found; tests decide for themselves (see
// requireORT).
func TestMain(m *testing.M) {
	flag.Parse()
	// GDAL's block cache is the program's to size; the memory bounds
	// these tests check are those of the omnimask command, which sets it.
	if os.Getenv("GDAL_CACHEMAX") == "" {
		os.Setenv("GDAL_CACHEMAX", "64")
	}
	if _, err := ort.Find(""); err != nil {
		fmt.Fprintf(os.Stderr, "engine: skipping Example (needs the ONNX Runtime library): %v\n", err)
		skip := "^Example"
		if s := flag.Lookup("test.skip").Value.String(); s != "" {
			skip = s + "|" + skip
		}
		flag.Set("test.skip", skip)
	}
	os.Exit(m.Run())
}

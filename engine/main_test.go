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

package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/airbusgeo/godal"

	"github.com/omnimask/omnimask/internal/ort"
)

// TestEmbedReaders runs embed on a scene of several read windows (16 px
// chips, stride 8: 86 chip rows in windows of 31) with --readers 1, 2 and
// 3, and 0 (the default): the outputs and sidecars are the same byte for
// byte. Its range is checked with the other numeric flags (limits_test).
func TestEmbedReaders(t *testing.T) {
	if _, err := ort.Setup(""); err != nil {
		t.Skipf("no ONNX Runtime: %v", err)
	}
	dir := t.TempDir()
	scene := tif{w: 48, h: 700, dtype: godal.UInt16, pix: func(c, x, y int) float64 { return float64(100 + 10*c + (x*7+y*3)%211) }}.write(t, filepath.Join(dir, "s.tif"))
	var ref, refSide []byte
	for _, readers := range []string{"1", "2", "3", "0"} {
		out := filepath.Join(dir, fmt.Sprintf("e%s.tif", readers))
		if _, _, err := cli(t, "embed", scene, "--model", testModel("chipmean.onnx"), "--chip", "16", "--stride", "8", "--readers", readers, "--quiet", "-o", out); err != nil {
			t.Fatalf("--readers %s: %v", readers, err)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		side, err := os.ReadFile(out + ".json")
		if err != nil {
			t.Fatal(err)
		}
		if ref == nil {
			ref, refSide = b, side
		} else if !bytes.Equal(b, ref) || !bytes.Equal(side, refSide) {
			t.Errorf("--readers %s: output or sidecar differs from --readers 1's", readers)
		}
	}
}

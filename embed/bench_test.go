package embed

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/omnimask/omnimask/internal/ort"
)

// TestChipsSpeed (OMNIMASK_EMBED_BENCH=scene.tif, uint16 DN scaled by
// 0.0001) times Chips against raw ONNX Runtime running the same number of
// chips in the same batches with nothing else, alternating three times.
func TestChipsSpeed(t *testing.T) {
	scene := os.Getenv("OMNIMASK_EMBED_BENCH")
	if scene == "" {
		t.Skip("OMNIMASK_EMBED_BENCH not set")
	}
	setup(t)
	e, err := Load("mobilenetv2-imagenet", ort.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	out := filepath.Join(t.TempDir(), "e.tif")
	for range 3 {
		res, err := Chips(context.Background(), e, []string{scene}, out, Options{Scale: 0.0001})
		if err != nil {
			t.Fatal(err)
		}
		in := make([]float32, 64*3*32*32)
		t0 := time.Now()
		for n := res.Chips; n > 0; n -= 64 {
			k := min(n, 64)
			if _, _, err := e.Run(in[:k*3*32*32], [4]int64{int64(k), 3, 32, 32}); err != nil {
				t.Fatal(err)
			}
		}
		raw := time.Since(t0)
		t.Logf("%dx%d chips, %d embedded: embed %.2fs (%.0f chips/s, inside ORT %.2fs), raw ORT same batches %.2fs, ratio %.3f",
			res.Cols, res.Rows, res.Chips, res.Total.Seconds(), float64(res.Chips)/res.Total.Seconds(), res.Infer.Seconds(), raw.Seconds(), res.Total.Seconds()/raw.Seconds())
	}
}

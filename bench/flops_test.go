package bench

import (
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/omnimask/omnimask/internal/ort"
)

// BenchmarkAttainable measures the FLOP/s ONNX Runtime reaches on this
// machine with a conv-only network (8 layers of 3x3 convolutions, 64 -> 64
// channels) on 1 x 64 x 256 x 256 inputs: the practical ceiling for any
// convolutional model.
func BenchmarkAttainable(b *testing.B) {
	if _, err := ort.Setup(""); err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile("../testdata/models/convbench.onnx")
	if err != nil {
		b.Fatal(err)
	}
	s, err := ort.Open(data, ort.Options{Threads: runtime.NumCPU()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const ch, h, w, layers = 64, 256, 256, 8
	in := make([]float32, ch*h*w)
	out := make([]float32, ch*h*w)
	for i := range in {
		in[i] = float32(i%17) / 17
	}
	shape := [4]int64{1, ch, h, w}
	if err := s.Run(in, shape, out, shape); err != nil { // warm up
		b.Fatal(err)
	}
	var total time.Duration
	for b.Loop() {
		t0 := time.Now()
		if err := s.Run(in, shape, out, shape); err != nil {
			b.Fatal(err)
		}
		total += time.Since(t0)
	}
	flop := float64(layers) * 2 * ch * ch * 9 * h * w
	b.ReportMetric(flop*float64(b.N)/total.Seconds()/1e9, "GFLOP/s")
}

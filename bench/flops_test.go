package bench

import (
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/omnimask/omnimask/internal/ort"
)

// BenchmarkAttainable measures the FLOP/s ONNX Runtime reaches on this
// machine with a conv-only network (8 layers of 3x3 convolutions, 64 -> 64
// channels) on 1 x 64 x 256 x 256 inputs: the practical ceiling for any
// convolutional model. Both ways the engine can run it: one call on every
// core, and one single-thread call per core at once (its default streams);
// the higher is the ceiling.
func BenchmarkAttainable(b *testing.B) {
	if _, err := ort.Setup(""); err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile("../testdata/models/convbench.onnx")
	if err != nil {
		b.Fatal(err)
	}
	cores := runtime.NumCPU()
	for _, c := range []struct {
		name             string
		threads, streams int
	}{
		{"one-call", cores, 1},
		{"streams", 1, cores},
	} {
		b.Run(c.name, func(b *testing.B) {
			s, err := ort.Open(data, nil, ort.Options{Threads: c.threads})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			const ch, h, w, layers = 64, 256, 256, 8
			in := make([]float32, ch*h*w)
			for i := range in {
				in[i] = float32(i%17) / 17
			}
			shape := [4]int64{1, ch, h, w}
			run := func() {
				var wg sync.WaitGroup
				for range c.streams {
					wg.Go(func() {
						out := make([]float32, ch*h*w)
						if err := s.Run(in, shape, out, shape); err != nil {
							b.Error(err)
						}
					})
				}
				wg.Wait()
			}
			run() // warm up
			var total time.Duration
			for b.Loop() {
				t0 := time.Now()
				run()
				total += time.Since(t0)
			}
			flop := float64(c.streams) * float64(layers) * 2 * ch * ch * 9 * h * w
			b.ReportMetric(flop*float64(b.N)/total.Seconds()/1e9, "GFLOP/s")
		})
	}
}

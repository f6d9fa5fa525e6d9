package bench

import (
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/omnimask/omnimask/internal/ort"
	"github.com/omnimask/omnimask/models"
)

// BenchmarkSession measures the default model alone in ONNX Runtime on
// 512 x 512 patches, for the session settings worth choosing between:
// threads, batch size, memory arena, memory pattern and spinning. Reported per megapixel of
// patch so batch sizes compare.
func BenchmarkSession(b *testing.B) {
	if _, err := ort.Setup(""); err != nil {
		b.Fatal(err)
	}
	data, err := models.Builtin(models.Default)
	if err != nil {
		b.Fatal(err)
	}
	int8, err := models.Builtin("omnicloud_int8")
	if err != nil {
		b.Fatal(err)
	}
	const p = 512
	cases := []struct {
		name    string
		opts    ort.Options
		batch   int
		int8    bool
		streams int // concurrent Run calls on the session
	}{
		{"default", ort.Options{}, 1, false, 1},
		{"int8", ort.Options{}, 1, true, 1},
		{"batch2", ort.Options{}, 2, false, 1},
		{"batch4", ort.Options{}, 4, false, 1},
		{"no-arena", ort.Options{NoMemArena: true}, 1, false, 1},
		{"no-spin", ort.Options{NoSpinning: true}, 1, false, 1},
		{"mem-pattern", ort.Options{MemPattern: true}, 1, false, 1},
		{"threads1", ort.Options{Threads: 1}, 1, false, 1},
		// The engine's default on 2 cores: two 1-thread calls at once.
		{"2-streams-x-1-thread", ort.Options{Threads: 1}, 1, false, 2},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			if c.opts.Threads == 0 {
				c.opts.Threads = runtime.NumCPU()
			}
			d := data
			if c.int8 {
				d = int8
			}
			s, err := ort.Open(d, nil, c.opts)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			in := make([]float32, c.batch*3*p*p)
			for i := range in {
				in[i] = float32(i%101)/50 - 1
			}
			out := make([]float32, c.batch*4*p*p)
			inS, outS := [4]int64{int64(c.batch), 3, p, p}, [4]int64{int64(c.batch), 4, p, p}
			if err := s.Run(in, inS, out, outS); err != nil {
				b.Fatal(err)
			}
			var total time.Duration
			for b.Loop() {
				t0 := time.Now()
				var wg sync.WaitGroup
				for range c.streams {
					wg.Go(func() {
						out := make([]float32, len(out))
						if err := s.Run(in, inS, out, outS); err != nil {
							b.Error(err)
						}
					})
				}
				wg.Wait()
				total += time.Since(t0)
			}
			mpx := float64(c.streams*c.batch*p*p) / 1e6 * float64(b.N)
			b.ReportMetric(total.Seconds()/mpx*1e3, "ms/Mpx")
		})
	}
}

package bench

import (
	"context"
	"testing"
	"time"

	"github.com/omnimask/omnimask/engine"
)

// BenchmarkInt8 predicts the same scene with the fp32 default model and its
// int8 (QDQ) variant and reports the speed-up and the fraction of mask
// pixels that agree.
func BenchmarkInt8(b *testing.B) {
	n := 2048
	if s := sizes(); len(s) > 0 {
		n = s[0]
	}
	path := scene(b, n)
	fp := newEngine(b, engine.Options{BatchSize: batchSize()})
	q := newEngine(b, engine.Options{Models: []string{"omnicloud_int8"}, BatchSize: batchSize()})
	ctx := context.Background()
	var tf, tq time.Duration
	var agree, total float64
	for b.Loop() {
		a, err := fp.PredictFile(ctx, []string{path}, engine.Request{})
		if err != nil {
			b.Fatal(err)
		}
		c, err := q.PredictFile(ctx, []string{path}, engine.Request{})
		if err != nil {
			b.Fatal(err)
		}
		tf += a.Elapsed
		tq += c.Elapsed
		for i, v := range a.Mask.Pix {
			if v == c.Mask.Pix[i] {
				agree++
			}
		}
		total += float64(len(a.Mask.Pix))
	}
	b.ReportMetric(tf.Seconds()/tq.Seconds(), "speedup")
	b.ReportMetric(100*agree/total, "%agree")
	b.ReportMetric(tf.Seconds()/float64(b.N), "fp32-s/op")
	b.ReportMetric(tq.Seconds()/float64(b.N), "int8-s/op")
}

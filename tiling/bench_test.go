package tiling

import "testing"

func BenchmarkWeights(b *testing.B) {
	for b.Loop() {
		Ramp.Weights(512, 512, 128)
	}
}

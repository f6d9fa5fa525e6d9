package engine

import "math"

// softmax turns n x k x plane logits into probabilities over k, in place.
func softmax(v []float32, n, k, plane int) {
	for i := 0; i < n; i++ {
		base := v[i*k*plane : (i+1)*k*plane]
		for j := 0; j < plane; j++ {
			mx := base[j]
			for c := 1; c < k; c++ {
				mx = max(mx, base[c*plane+j])
			}
			var sum float32
			for c := 0; c < k; c++ {
				e := float32(math.Exp(float64(base[c*plane+j] - mx)))
				base[c*plane+j] = e
				sum += e
			}
			inv := 1 / sum
			for c := 0; c < k; c++ {
				base[c*plane+j] *= inv
			}
		}
	}
}


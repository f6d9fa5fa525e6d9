package engine

import "math"

// softmax turns n x k x plane logits into probabilities over k, in place,
// and returns the number of pixels whose logits hold a NaN (left NaN: the
// pixel ends up nodata). Infinite logits are handled without NaN: the
// classes at +Inf share the probability, and a pixel whose logits are all
// -Inf gets a uniform distribution.
func softmax(v []float32, n, k, plane int) (nan int) {
	for i := 0; i < n; i++ {
		base := v[i*k*plane : (i+1)*k*plane]
		for j := 0; j < plane; j++ {
			mx := base[j]
			bad := mx != mx
			for c := 1; c < k; c++ {
				x := base[c*plane+j]
				bad = bad || x != x
				mx = max(mx, x)
			}
			if bad {
				for c := 0; c < k; c++ {
					base[c*plane+j] = float32(math.NaN())
				}
				nan++
				continue
			}
			if math.IsInf(float64(mx), 0) {
				infSoftmax(base, j, k, plane, mx)
				continue
			}
			var sum float32
			for c := 0; c < k; c++ {
				e := exp32(base[c*plane+j] - mx)
				base[c*plane+j] = e
				sum += e
			}
			inv := 1 / sum
			for c := 0; c < k; c++ {
				base[c*plane+j] *= inv
			}
		}
	}
	return nan
}

// infSoftmax is the limit of softmax when the largest logit is infinite.
func infSoftmax(base []float32, j, k, plane int, mx float32) {
	top := 0
	for c := 0; c < k; c++ {
		if base[c*plane+j] == mx {
			top++
		}
	}
	for c := 0; c < k; c++ {
		switch {
		case mx < 0: // all -Inf
			base[c*plane+j] = 1 / float32(k)
		case base[c*plane+j] == mx:
			base[c*plane+j] = 1 / float32(top)
		default:
			base[c*plane+j] = 0
		}
	}
}

// exp32 is e^x for x <= 0 in float32 arithmetic, relative error below 5e-6:
// 2^(x·log2 e) split into a power of two and a degree-6 polynomial of the
// fraction in (-0.5, 0.5]. Twice as fast as math.Exp, and the softmax runs
// it on every class of every patch pixel.
func exp32(x float32) float32 {
	if x < -87 {
		return 0
	}
	t := x * math.Log2E
	i := int32(t - 0.5) // rounds to nearest for t <= 0
	f := t - float32(i)
	p := 1 + f*(0.6931472+f*(0.2402265+f*(0.05550411+f*(0.009618129+f*(0.001333355+f*0.0001540353)))))
	return p * math.Float32frombits(uint32(i+127)<<23)
}

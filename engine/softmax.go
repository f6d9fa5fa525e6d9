package engine

import "math"

// Tiles are blended as logits, the way OmniCloudMask does: the window-
// weighted mean of overlapping patches' logits is taken per pixel, the class
// is its argmax, and probabilities (softmax) are computed only for the
// confidence output, once per output pixel. Averaging logits instead of
// probabilities spares a softmax over every class of every patch pixel,
// which was the largest cost of the engine outside ONNX Runtime.

// logitLimit bounds the logits that enter the blend: ±Inf from a model
// becomes ±logitLimit, so window-weighted sums stay finite. Classes tied at
// +Inf then share the probability and a pixel whose logits are all -Inf gets
// a uniform distribution, the limits of the softmax.
const logitLimit = 1e30

// sanitize prepares n x k x plane model scores for blending, in place: it
// clamps infinite logits to ±logitLimit, turns probabilities (probs) into
// log-probabilities, which are logits of the same distribution, and sets
// every class of a pixel to NaN when any holds a NaN (the pixel ends up
// nodata unless another patch covers it). It returns the number of such
// pixels.
func sanitize(v []float32, n, k, plane int, probs bool) (nan int) {
	v = v[:n*k*plane]
	if !probs && finiteWithin(v) {
		return 0 // the common case: one linear pass
	}
	for i := 0; i < n; i++ {
		base := v[i*k*plane : (i+1)*k*plane]
		for j := 0; j < plane; j++ {
			bad := false
			for c := 0; c < k; c++ {
				x := base[c*plane+j]
				if probs {
					x = float32(math.Log(float64(x)))
				}
				switch {
				case x != x:
					bad = true
				case x > logitLimit:
					x = logitLimit
				case x < -logitLimit:
					x = -logitLimit
				}
				base[c*plane+j] = x
			}
			if bad {
				for c := 0; c < k; c++ {
					base[c*plane+j] = float32(math.NaN())
				}
				nan++
			}
		}
	}
	return nan
}

// finiteWithin reports whether every value of v is within ±logitLimit (so
// neither NaN nor infinite).
func finiteWithin(v []float32) bool {
	for _, x := range v {
		if !(x <= logitLimit && x >= -logitLimit) {
			return false
		}
	}
	return true
}

// softmaxRows writes the softmax over classes of logits (k rows) into dst
// (k rows of the same length). Pixels with a NaN logit get NaN.
func softmaxRows(dst, logits [][]float32) {
	k := len(logits)
	for x := range logits[0] {
		mx := logits[0][x]
		bad := mx != mx
		for c := 1; c < k; c++ {
			v := logits[c][x]
			bad = bad || v != v
			mx = max(mx, v)
		}
		if bad {
			for c := 0; c < k; c++ {
				dst[c][x] = float32(math.NaN())
			}
			continue
		}
		var sum float32
		for c := 0; c < k; c++ {
			e := exp32(logits[c][x] - mx)
			dst[c][x] = e
			sum += e
		}
		inv := 1 / sum
		for c := 0; c < k; c++ {
			dst[c][x] *= inv
		}
	}
}

// argmaxRow writes the index of the largest of k logit rows per pixel into
// dst, or -1 where a logit is NaN (no patch covered the pixel).
func argmaxRow(dst []int16, logits [][]float32) {
	k := len(logits)
	for x := range dst {
		best, bv := int16(0), logits[0][x]
		if bv != bv {
			dst[x] = -1
			continue
		}
		for c := 1; c < k; c++ {
			v := logits[c][x]
			if v != v {
				best = -1
				break
			}
			if v > bv {
				best, bv = int16(c), v
			}
		}
		dst[x] = best
	}
}

// exp32 is e^x for x <= 0 in float32 arithmetic, relative error below 5e-6:
// 2^(x·log2 e) split into a power of two and a degree-6 polynomial of the
// fraction in (-0.5, 0.5]. Twice as fast as math.Exp.
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

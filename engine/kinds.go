package engine

import (
	"math"

	"github.com/omnimask/omnimask/models"
)

// The engine blends K class scores per pixel whatever a model outputs: each
// output kind is turned into scores here, after the model ran on a batch.
//
//   - logits: as they are (sanitize clamps them);
//   - probabilities: their logarithm (sanitize);
//   - sigmoid (one channel p, two classes): 0 and logit(p) - logit(t), t the
//     manifest's threshold, so that blending stays in logit space and the
//     argmax is p > t; the softmax of the pair is p itself when t = 0.5;
//   - class index (one integer channel): a one-hot vote, blended with
//     stitch.VoteWeights so that the mask is the per-pixel majority over the
//     overlapping patches (ties: the larger window weight).

// hardVote reports whether a manifest's patches are combined by vote.
func hardVote(m *models.Manifest) bool { return m.Output == models.ClassIndex }

// sigmoidScores writes the two class scores of n planes of sigmoid
// probabilities p into dst (n x 2 x plane) and returns the number of NaN
// pixels (both scores NaN).
func sigmoidScores(dst, p []float32, n, plane int, threshold float64) (nan int) {
	lt := math.Log(threshold / (1 - threshold))
	for i := 0; i < n; i++ {
		src := p[i*plane : (i+1)*plane]
		neg := dst[2*i*plane : (2*i+1)*plane]
		pos := dst[(2*i+1)*plane : (2*i+2)*plane]
		for j, v := range src {
			var s float32
			switch {
			case v != v:
				neg[j], pos[j] = float32(math.NaN()), float32(math.NaN())
				nan++
				continue
			case v <= 0:
				s = -logitLimit
			case v >= 1:
				s = logitLimit
			default:
				x := float64(v)
				s = float32(max(-logitLimit, min(logitLimit, math.Log(x/(1-x))-lt)))
			}
			neg[j], pos[j] = 0, s
		}
	}
	return nan
}

// voteScores writes n planes of class indices idx (positions in the
// manifest's class list, as float32) as one-hot votes over k classes into
// dst (n x k x plane). An index that is no class votes for nothing: the
// pixel's scores are NaN, counted in the return value.
func voteScores(dst, idx []float32, n, k, plane int) (bad int) {
	for i := 0; i < n; i++ {
		src := idx[i*plane : (i+1)*plane]
		base := dst[i*k*plane : (i+1)*k*plane]
		for c := 0; c < k; c++ {
			clear(base[c*plane : (c+1)*plane])
		}
		for j, v := range src {
			c := int(v)
			if v != v || v < 0 || c >= k || float32(c) != v {
				for cc := 0; cc < k; cc++ {
					base[cc*plane+j] = float32(math.NaN())
				}
				bad++
				continue
			}
			base[c*plane+j] = 1
		}
	}
	return bad
}

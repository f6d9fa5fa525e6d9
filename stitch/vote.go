package stitch

// voteEpsilon scales window weights under whole votes: a pixel is covered by
// at most a few patches (overlap below half a patch: 9 with the edge
// clamping), so the weights' share, 9 x 2^-10 at most, never outweighs one
// vote, even split between ensemble members, and float32 keeps both apart.
const voteEpsilon = 1.0 / 1024

// VoteWeights turns blend window weights into hard-vote weights, 1 + w/1024
// per pixel. Blending one-hot class votes (1 for the patch's class at a
// pixel, 0 for the others) with them, the Accumulator's weighted mean ranks
// classes by their number of votes and, among classes with as many votes,
// by the sum of their window weights: the argmax is the per-pixel majority
// over the overlapping patches, ties going to the larger window weight.
func VoteWeights(w []float32) []float32 {
	v := make([]float32, len(w))
	for i, x := range w {
		v[i] = 1 + voteEpsilon*x
	}
	return v
}

package engine

import (
	"fmt"
	"strings"

	"github.com/omnimask/omnimask/internal/ort"
	"github.com/omnimask/omnimask/models"
)

// shaper is what the load-time probe needs of a session: one run on zeros
// of a given input shape, returning the output's real shape.
type shaper interface {
	OutputShape(inShape [4]int64) ([]int64, error)
}

// probeSides returns the first probe size for a size multiple: an odd
// multiple of it, at least 32, so that a network needing twice the declared
// multiple (or more) fails on it.
func probeSide(mult int) int {
	k := max(1, (32+mult-1)/mult)
	if k%2 == 0 {
		k++
	}
	return k * mult
}

// probe runs a freshly loaded model once on a small input and checks what a
// graph's declared shapes cannot tell: that it runs at sizes the manifest's
// size_multiple allows, and that its output has the channels and the
// spatial size the manifest implies. A model that fails at a multiple of
// its declared size_multiple but runs at a larger power-of-two multiple is
// reported with the size_multiple its manifest should give.
func probe(m *models.Manifest, input []int64, s shaper) error {
	in := [4]int64{1, int64(len(m.Bands)), 0, 0}
	if input[0] > 0 {
		in[0] = input[0]
	}
	fixed := input[2] > 0 || input[3] > 0
	side := int64(probeSide(m.Multiple()))
	if side > int64(m.PatchSize) {
		side = int64(m.PatchSize)
	}
	in[2], in[3] = side, side
	if fixed {
		in[2], in[3] = int64(m.PatchSize), int64(m.PatchSize)
	}
	out, err := s.OutputShape(in)
	if err != nil {
		if fixed {
			return fmt.Errorf("%w: a run on %v failed: %w", models.ErrManifest, in, err)
		}
		for mult := 2 * m.Multiple(); mult <= m.PatchSize; mult *= 2 {
			try := in
			try[2] = int64(min(probeSide(mult), m.PatchSize/mult*mult))
			try[3] = try[2]
			if _, err2 := s.OutputShape(try); err2 == nil {
				return fmt.Errorf("%w: size_multiple %d is wrong: the graph fails on %dx%d patches (%s) and runs on %dx%d; the manifest should say \"size_multiple\": %d",
					models.ErrManifest, m.Multiple(), side, side, firstLine(err), try[2], try[3], mult)
			}
		}
		return fmt.Errorf("%w: a run on %v failed: %w", models.ErrManifest, in, err)
	}
	if len(out) == 3 && m.Output == models.ClassIndex {
		out = []int64{out[0], 1, out[1], out[2]}
	}
	if len(out) != 4 {
		return fmt.Errorf("%w: a run on %v gave an output of shape %v, want N x K x H x W", models.ErrManifest, in, out)
	}
	if out[1] != int64(m.OutputChannels()) {
		return m.ChannelError(out[1])
	}
	if out[0] != in[0] || out[2] != in[2] || out[3] != in[3] {
		return fmt.Errorf("%w: a run on %v gave an output of shape %v: the output must have the input's batch, height and width", models.ErrManifest, in, out)
	}
	return nil
}

// firstLine returns the first line of an error's message, shortened.
func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

var _ shaper = (*ort.Session)(nil)

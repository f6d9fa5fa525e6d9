package models

import (
	"fmt"
	"math"
)

// Tasks a manifest can declare.
const (
	TaskSegmentation = "segmentation" // a mask model (the default)
	TaskEmbedding    = "embedding"    // an encoder: output "embedding"
)

// IsEmbedding reports whether the manifest describes an embedding encoder.
func (m *Manifest) IsEmbedding() bool { return m.Output == Embedding }

// validateEmbedding checks the fields of an encoder's manifest (the common
// ones are checked by Validate before it).
func (m *Manifest) validateEmbedding() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrManifest}, a...)...)
	}
	switch {
	case m.Output != Embedding || m.Task != TaskEmbedding:
		return bad(`an encoder needs "task": "embedding" and "output": "embedding" (got task %q, output %q)`, m.Task, m.Output)
	case len(m.Classes) != 0:
		return bad("an embedding encoder has no classes")
	case m.Threshold != 0:
		return bad("threshold is for output sigmoid only")
	case m.EmbeddingDim < 1 || m.EmbeddingDim > 1<<16:
		return bad("embedding_dim %d outside 1..65536", m.EmbeddingDim)
	case m.OutputStride < 1 || m.OutputStride > m.PatchSize:
		return bad("output_stride %d outside 1..patch_size", m.OutputStride)
	case m.Multiple()%m.OutputStride != 0:
		return bad("size_multiple %d must be a multiple of output_stride %d", m.Multiple(), m.OutputStride)
	}
	return nil
}

// SoftCon is the normalisation of the SoftCon / SSL4EO encoders: with the
// manifest's per-band mean and std, (x - (mean - 2 std)) / (4 std) * 255
// clipped to [0, 255] and truncated to an integer (uint8), then divided by
// 255 when the normalisation says "unit". Embedding encoders only.
const SoftCon = "softcon"

func (m *Manifest) validateSoftCon() error {
	n := &m.Normalization
	switch {
	case !m.IsEmbedding():
		return fmt.Errorf("%w: normalization softcon is for embedding encoders only", ErrManifest)
	case len(n.Mean) != len(m.Bands) || len(n.Std) != len(m.Bands):
		return fmt.Errorf("%w: softcon normalisation needs %d means and stds", ErrManifest, len(m.Bands))
	}
	for _, s := range n.Std {
		if !(s > 0) || math.IsInf(s, 0) {
			return fmt.Errorf("%w: softcon normalisation std %g must be > 0", ErrManifest, s)
		}
	}
	return nil
}

func (m *Manifest) validateBandScale() error {
	n := &m.Normalization
	if n.Unit && n.Kind != SoftCon {
		return fmt.Errorf("%w: normalization unit is for softcon only", ErrManifest)
	}
	if n.Scale == nil && n.Offset == nil {
		return nil
	}
	if !m.IsEmbedding() {
		return fmt.Errorf("%w: normalization scale and offset are for embedding encoders only", ErrManifest)
	}
	if len(n.Scale) != len(m.Bands) || len(n.Offset) != len(m.Bands) {
		return fmt.Errorf("%w: normalization scale and offset need %d values each", ErrManifest, len(m.Bands))
	}
	for i := range n.Scale {
		if math.IsNaN(n.Scale[i]) || math.IsInf(n.Scale[i], 0) || n.Scale[i] == 0 || math.IsNaN(n.Offset[i]) || math.IsInf(n.Offset[i], 0) {
			return fmt.Errorf("%w: normalization scale must be finite and non-zero, offset finite", ErrManifest)
		}
	}
	return nil
}

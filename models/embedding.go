package models

import "fmt"

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

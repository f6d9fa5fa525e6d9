// Package embed runs embedding encoders (manifest output "embedding") over
// scenes: one D-vector per chip of a chip grid, written as a D-band float32
// GeoTIFF whose pixels are the chips.
package embed

import (
	"errors"
	"fmt"
	"os"

	"github.com/omnimask/omnimask/internal/ort"
	"github.com/omnimask/omnimask/internal/regfile"
	"github.com/omnimask/omnimask/models"
)

// Encoder is a loaded embedding model. Run may be called from one goroutine
// at a time per chip batch buffer; the session itself is safe for concurrent use.
type Encoder struct {
	Ref      string // built-in name or file path
	Manifest *models.Manifest
	s        *ort.Session
}

const maxModelBytes = 2 << 30

// Load opens the encoder ref: a built-in model name or an ONNX file (its
// manifest embedded, or in the sidecar ref.json). ONNX Runtime must have
// been set up (ort.Setup).
func Load(ref string, opts ort.Options) (*Encoder, error) {
	data, err := models.Builtin(ref)
	builtin := err == nil
	if !builtin {
		if data, err = regfile.Read(ref, maxModelBytes); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("%s: no such built-in model or file", ref)
			}
			return nil, fmt.Errorf("%s: %w", ref, err)
		}
	}
	g, err := ort.Inspect(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	raw, ok := g.Meta[models.MetadataKey]
	if !builtin {
		if side, err := regfile.Read(ref+".json", regfile.MetadataLimit); err == nil {
			raw, ok = string(side), true
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s.json: %w", ref, err)
		}
	}
	if !ok {
		return nil, fmt.Errorf("%s: %w: no manifest", ref, models.ErrManifest)
	}
	m, err := models.ParseManifest([]byte(raw))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	if !m.IsEmbedding() {
		return nil, fmt.Errorf("%s: %w: output %q is a mask model, not an embedding encoder (output embedding)", ref, models.ErrManifest, m.Output)
	}
	if len(g.In) != 1 || len(g.Out) != 1 {
		return nil, fmt.Errorf("%s: %w: graph has %d inputs and %d outputs, want 1 and 1", ref, models.ErrManifest, len(g.In), len(g.Out))
	}
	if err := m.CheckGraph(g.In[0].Shape, g.Out[0].Shape); err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	s, err := ort.Open(data, g, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	return &Encoder{Ref: ref, Manifest: m, s: s}, nil
}

// Dim returns the embedding width D.
func (e *Encoder) Dim() int { return e.Manifest.EmbeddingDim }

// Run runs the encoder on in (N x C x H x W, C = len(bands)) and returns its
// feature map (N x D x H/s x W/s) and that shape.
func (e *Encoder) Run(in []float32, shape [4]int64) ([]float32, [4]int64, error) {
	st := int64(e.Manifest.OutputStride)
	buf := make([]float32, shape[0]*int64(e.Dim())*(shape[2]/st)*(shape[3]/st))
	out, err := e.runInto(in, shape, buf)
	if err != nil {
		return nil, out, err
	}
	return buf, out, nil
}

// runInto is Run writing the feature map into buf, which must be large
// enough.
func (e *Encoder) runInto(in []float32, shape [4]int64, buf []float32) ([4]int64, error) {
	st := int64(e.Manifest.OutputStride)
	out := [4]int64{shape[0], int64(e.Dim()), shape[2] / st, shape[3] / st}
	if shape[1] != int64(len(e.Manifest.Bands)) || shape[2]%st != 0 || shape[3]%st != 0 {
		return out, fmt.Errorf("%s: input %v: want %d channels and a size multiple of %d", e.Ref, shape, len(e.Manifest.Bands), st)
	}
	if err := e.s.Run(in, shape, buf[:out[0]*out[1]*out[2]*out[3]], out); err != nil {
		return out, fmt.Errorf("%s: %w", e.Ref, err)
	}
	return out, nil
}

// Pool averages a feature map (N x D x h x w) over h and w: one D-vector per
// input, in float64 then rounded.
func Pool(fm []float32, shape [4]int64) []float32 {
	n, d := int(shape[0]), int(shape[1])
	out := make([]float32, n*d)
	for k := range n {
		poolInto(out[k*d:(k+1)*d], fm, shape, k)
	}
	return out
}

// Close releases the session.
func (e *Encoder) Close() error { return e.s.Close() }

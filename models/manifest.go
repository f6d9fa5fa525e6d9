// Package models describes the networks omnimask runs: the manifest every
// model carries (bands, resolution, normalisation, tiling, classes), its
// validation, and the built-in models embedded in the binary.
package models

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/omnimask/omnimask/tiling"
	"github.com/omnimask/omnimask/tta"
)

// MetadataKey is the ONNX metadata_props key holding the manifest JSON.
const MetadataKey = "omnimask.manifest"

// ErrManifest is wrapped by every manifest validation error.
var ErrManifest = errors.New("models: invalid manifest")

// Normalization kinds.
const (
	ZScore = "zscore" // dynamic per patch and channel over valid pixels
	Fixed  = "fixed"  // (x - mean) / std with the manifest's statistics
	None   = "none"   // values are fed as read
)

// Output kinds: what the graph's output holds.
const (
	Logits        = "logits"        // N x K x H x W float32 class scores
	Probabilities = "probabilities" // N x K x H x W float32, summing to 1 over K
	// Sigmoid is a binary model's single channel (N x 1 x H x W float32),
	// the probability of the second of its two classes; a pixel is that
	// class above the manifest's threshold.
	Sigmoid = "sigmoid"
	// ClassIndex is a graph ending in an argmax: N x 1 x H x W or N x H x W
	// integers (int64, int32 or uint8), the position of the class in the
	// manifest's list. Overlapping patches are combined by hard vote.
	ClassIndex = "class_index"
	// Embedding is an encoder's feature map: N x D x H/s x W/s float32,
	// D = embedding_dim, s = output_stride (see MANIFEST.md, "Embedding
	// encoders"). Such models are run by the embed package, not by predict.
	Embedding = "embedding"
)

// Input units a manifest can ask for.
const (
	AnyUnits    = "any"         // values are fed as read (z-score models)
	Reflectance = "reflectance" // top-of-atmosphere or surface reflectance, 0..1
)

// DefaultThreshold is a sigmoid model's threshold when its manifest gives none.
const DefaultThreshold = 0.5

// Normalization says how patches are normalised before inference.
type Normalization struct {
	Kind string    `json:"kind"`
	Mean []float64 `json:"mean,omitempty"`
	Std  []float64 `json:"std,omitempty"`
	// Scale and Offset (one per band, embedding encoders only) are applied
	// first: x*scale + offset, e.g. Sentinel-2 DN offsets.
	Scale  []float64 `json:"scale,omitempty"`
	Offset []float64 `json:"offset,omitempty"`
	// Unit divides a softcon result by 255 (softcon only).
	Unit bool `json:"unit,omitempty"`
}

// Class is one output channel of a model.
type Class struct {
	ID    int      `json:"id"`
	Name  string   `json:"name"`
	Color [3]uint8 `json:"color"`
}

// Manifest is the contract between a model and the engine (see MANIFEST.md).
type Manifest struct {
	Name          string        `json:"name"`
	Version       string        `json:"version"`
	Description   string        `json:"description,omitempty"`
	Bands         []string      `json:"bands"`
	InputUnits    string        `json:"input_units,omitempty"` // "any" (default) or "reflectance"
	ResolutionM   float64       `json:"resolution_m,omitempty"`
	MinResolution float64       `json:"min_resolution_m,omitempty"`
	MaxResolution float64       `json:"max_resolution_m,omitempty"`
	Normalization Normalization `json:"normalization"`
	NoDataFill    float32       `json:"nodata_fill"`
	PatchSize     int           `json:"patch_size"`
	Overlap       int           `json:"overlap"`
	SizeMultiple  int           `json:"size_multiple,omitempty"`
	Output        string        `json:"output"`
	Threshold     float64       `json:"threshold,omitempty"` // sigmoid only; 0 = DefaultThreshold
	Classes       []Class       `json:"classes,omitempty"`
	// TTA is the test-time augmentation the model runs under unless the
	// user says otherwise: "" or "none", "flips" or "d4" (see package tta).
	TTA string `json:"tta,omitempty"`
	// Task is "embedding" for encoders (output "embedding"); empty or
	// "segmentation" for mask models.
	Task         string `json:"task,omitempty"`
	EmbeddingDim int    `json:"embedding_dim,omitempty"` // D, output "embedding" only
	OutputStride int    `json:"output_stride,omitempty"` // feature map stride, output "embedding" only
}

// ParseManifest decodes and validates a manifest. Unknown fields are errors,
// so a typo does not silently fall back to a default.
func ParseManifest(data []byte) (*Manifest, error) {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrManifest, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: trailing data after the JSON object", ErrManifest)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// Validate checks the manifest on its own (not against a graph).
func (m *Manifest) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrManifest}, a...)...)
	}
	if m.Name == "" {
		return bad("name is empty")
	}
	if len(m.Bands) == 0 {
		return bad("no input bands")
	}
	for i, b := range m.Bands {
		if b == "" || slices.ContainsFunc(m.Bands[:i], func(p string) bool { return strings.EqualFold(p, b) }) {
			return bad("band names must be unique and non-empty, got %q", m.Bands)
		}
	}
	if m.InputUnits != "" && m.InputUnits != AnyUnits && m.InputUnits != Reflectance {
		return bad("input_units %q (want any or reflectance)", m.InputUnits)
	}
	if err := m.validateInputs(); err != nil {
		return err
	}
	for _, v := range []float64{m.ResolutionM, m.MinResolution, m.MaxResolution} {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return bad("resolutions must be finite and >= 0")
		}
	}
	if m.MaxResolution > 0 && m.MinResolution > m.MaxResolution {
		return bad("min_resolution_m %g > max_resolution_m %g", m.MinResolution, m.MaxResolution)
	}
	if m.ResolutionM > 0 && !m.Supports(m.ResolutionM) {
		return bad("resolution_m %g is outside the supported %s (min_resolution_m, max_resolution_m)", m.ResolutionM, m.ResolutionRange())
	}
	switch m.Normalization.Kind {
	case ZScore, None:
	case Fixed:
		if len(m.Normalization.Mean) != len(m.Bands) || len(m.Normalization.Std) != len(m.Bands) {
			return bad("fixed normalisation needs %d means and stds", len(m.Bands))
		}
		for _, s := range m.Normalization.Std {
			if !(s > 0) || math.IsInf(s, 0) {
				return bad("fixed normalisation std %g must be > 0", s)
			}
		}
	case SoftCon:
		if err := m.validateSoftCon(); err != nil {
			return err
		}
	default:
		return bad("normalization kind %q (want zscore, fixed, softcon or none)", m.Normalization.Kind)
	}
	if err := m.validateBandScale(); err != nil {
		return err
	}
	if math.IsNaN(float64(m.NoDataFill)) || math.IsInf(float64(m.NoDataFill), 0) {
		return bad("nodata_fill must be finite")
	}
	if m.PatchSize <= 0 || m.PatchSize > 1<<14 {
		return bad("patch_size %d outside 1..16384", m.PatchSize)
	}
	if tiling.Check(m.PatchSize, m.Overlap) != nil {
		return bad("overlap %d must be in 0..patch_size-1", m.Overlap)
	}
	if m.SizeMultiple < 0 || m.SizeMultiple > m.PatchSize {
		return bad("size_multiple %d outside 0..patch_size", m.SizeMultiple)
	}
	if mode, err := tta.Parse(m.TTA); err != nil {
		return bad("tta %q (want none, flips or d4)", m.TTA)
	} else if mode != tta.Default && (m.Output == Embedding || m.Task == TaskEmbedding) {
		return bad("tta is for mask models, not embedding encoders")
	}
	if m.Output == Embedding || m.Task == TaskEmbedding {
		return m.validateEmbedding()
	}
	if m.Task != "" && m.Task != TaskSegmentation {
		return bad("task %q (want segmentation or embedding)", m.Task)
	}
	if m.EmbeddingDim != 0 || m.OutputStride != 0 {
		return bad("embedding_dim and output_stride are for output embedding only")
	}
	if len(m.Classes) < 1 || len(m.Classes) > 254 {
		return bad("%d classes (want 1..254)", len(m.Classes))
	}
	ids := map[int]bool{}
	for _, c := range m.Classes {
		if c.ID < 0 || c.ID > 254 || ids[c.ID] {
			return bad("class ids must be unique and in 0..254, got %d", c.ID)
		}
		ids[c.ID] = true
	}
	switch m.Output {
	case Logits, Probabilities, ClassIndex:
		if len(m.Classes) == 1 {
			return bad("output %s with 1 class would label every pixel with it (a one-channel sigmoid output is \"output\": \"sigmoid\" with 2 classes, negative first)", m.Output)
		}
	case Sigmoid:
		if len(m.Classes) != 2 {
			return bad("output sigmoid needs 2 classes (negative, then positive), got %d", len(m.Classes))
		}
	default:
		return bad("output %q (want logits, probabilities, sigmoid or class_index)", m.Output)
	}
	if m.Threshold != 0 && m.Output != Sigmoid {
		return bad("threshold is for output sigmoid only")
	}
	if t := m.Threshold; t < 0 || t >= 1 || math.IsNaN(t) {
		return bad("threshold %g outside 0 < t < 1", t)
	}
	return nil
}

// WantsReflectance reports whether the model's input must be reflectance 0..1.
func (m *Manifest) WantsReflectance() bool { return m.InputUnits == Reflectance }

// SigmoidThreshold returns the threshold of a sigmoid output.
func (m *Manifest) SigmoidThreshold() float64 {
	if m.Threshold == 0 {
		return DefaultThreshold
	}
	return m.Threshold
}

// OutputChannels returns the channel count the graph's output must have:
// one per class for logits and probabilities, one for sigmoid and class
// index outputs, embedding_dim for embeddings.
func (m *Manifest) OutputChannels() int {
	if m.Output == Embedding {
		return m.EmbeddingDim
	}
	if m.Output == Sigmoid || m.Output == ClassIndex {
		return 1
	}
	return len(m.Classes)
}

// Multiple returns the size multiple, 1 when unset.
func (m *Manifest) Multiple() int { return max(1, m.SizeMultiple) }

// ProcessingResolution returns the resolution at which a scene with native
// resolution res (metres) is processed: res clamped to the supported range.
// A scene coarser than the range is processed at its native resolution
// (upsampling it would add no information), and outside reports that the
// scene is out of range.
func (m *Manifest) ProcessingResolution(res float64) (proc float64, outside bool) {
	switch {
	case m.MinResolution > 0 && res < m.MinResolution:
		return m.MinResolution, false
	case m.MaxResolution > 0 && res > m.MaxResolution:
		return res, true
	}
	return res, false
}

// Supports reports whether res (metres) lies in the supported range
// [min_resolution_m, max_resolution_m]; a bound of 0 is open. A composite
// product's role runs the first of its models that supports the pixel size
// the models see (MANIFEST.md, "Composite products").
func (m *Manifest) Supports(res float64) bool {
	return !(m.MinResolution > 0 && res < m.MinResolution) && !(m.MaxResolution > 0 && res > m.MaxResolution)
}

// Ranged reports whether the manifest bounds its supported resolutions.
func (m *Manifest) Ranged() bool { return m.MinResolution > 0 || m.MaxResolution > 0 }

// ResolutionRange describes the supported range: "10-60 m", ">= 10 m",
// "<= 60 m" or "any".
func (m *Manifest) ResolutionRange() string {
	switch {
	case m.MinResolution > 0 && m.MaxResolution > 0:
		return fmt.Sprintf("%g-%g m", m.MinResolution, m.MaxResolution)
	case m.MinResolution > 0:
		return fmt.Sprintf(">= %g m", m.MinResolution)
	case m.MaxResolution > 0:
		return fmt.Sprintf("<= %g m", m.MaxResolution)
	}
	return "any"
}

// DefaultTTA returns the test-time augmentation the manifest asks for
// (tta.None when it says nothing).
func (m *Manifest) DefaultTTA() tta.Mode {
	mode, err := tta.Parse(m.TTA)
	if err != nil { // Validate refuses it
		return tta.None
	}
	return mode.Or(tta.None)
}

// Dim is one dimension of a tensor shape; negative means dynamic.
type Dim = int64

// CheckGraph validates the manifest against the graph's declared input and
// output shapes (NCHW; dynamic dimensions are negative).
func (m *Manifest) CheckGraph(in, out []Dim) error {
	if len(in) != 4 {
		return fmt.Errorf("%w: graph input has rank %d, want 4 (N x C x H x W)", ErrManifest, len(in))
	}
	if len(out) == 3 && m.Output == ClassIndex {
		out = []Dim{out[0], 1, out[1], out[2]} // N x H x W: argmax without keepdims
	}
	if len(out) != 4 {
		return fmt.Errorf("%w: graph output has rank %d, want 4 (N x K x H x W)", ErrManifest, len(out))
	}
	if in[1] >= 0 && in[1] != int64(len(m.Bands)) {
		return fmt.Errorf("%w: graph takes %d channels, manifest lists %d bands %v", ErrManifest, in[1], len(m.Bands), m.Bands)
	}
	if out[1] >= 0 && out[1] != int64(m.OutputChannels()) {
		return m.ChannelError(out[1])
	}
	for i, d := range in[2:] {
		if d >= 0 && d != int64(m.PatchSize) {
			return fmt.Errorf("%w: graph input %s is fixed at %d, manifest patch_size is %d", ErrManifest, []string{"height", "width"}[i], d, m.PatchSize)
		}
	}
	return nil
}

// ChannelError is the error for a graph output of k channels that disagrees
// with the manifest.
func (m *Manifest) ChannelError(k int64) error {
	want := fmt.Sprintf("%d (one per class)", len(m.Classes))
	if m.OutputChannels() == 1 {
		want = "1 (output " + m.Output + ")"
	}
	hint := ""
	switch {
	case k == 1 && m.Output != Sigmoid && m.Output != ClassIndex:
		hint = `; a one-channel probability is "output": "sigmoid" with 2 classes`
	case k == int64(len(m.Classes)) && m.OutputChannels() == 1:
		hint = `; K channels of class scores are "output": "logits" or "probabilities"`
	}
	return fmt.Errorf("%w: graph outputs %d channels, manifest (output %s, %d classes) needs %s%s", ErrManifest, k, m.Output, len(m.Classes), want, hint)
}

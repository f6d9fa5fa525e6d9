package engine

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/omnimask/omnimask/internal/ort"
	"github.com/omnimask/omnimask/internal/regfile"
	"github.com/omnimask/omnimask/models"
)

// runner runs a network on one batch: in holds inShape (N x C x H x W)
// float32 values, and the N x K x H x W output is written into out. It is
// all the pipeline needs of an inference session (*ort.Session is one; tests
// use a fake). Run may be called from several goroutines at once; Close
// waits for the runs in flight.
type runner interface {
	Run(in []float32, inShape [4]int64, out []float32, outShape [4]int64) error
	Close() error
}

// model is a loaded network: where it came from, its manifest, the input
// shape its graph declares and its runner.
type model struct {
	name     string // built-in name or file path
	manifest *models.Manifest
	input    []int64 // N, C, H, W; negative where dynamic
	run      runner
	bytes    int64 // size of the ONNX file
}

// LoadManifest reads the manifest of a model (built-in name or .onnx path)
// and checks it against the graph, without keeping a session.
func LoadManifest(ref string, lib string) (*models.Manifest, error) {
	if _, err := ort.Setup(lib); err != nil {
		return nil, err
	}
	data, builtin, err := modelBytes(ref)
	if err != nil {
		return nil, err
	}
	g, err := ort.Inspect(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	return manifestFor(ref, builtin, g)
}

func modelBytes(ref string) (data []byte, builtin bool, err error) {
	if ref == "" {
		ref = models.Default
	}
	if !strings.ContainsAny(ref, `/\.`) {
		data, err = models.Builtin(ref)
		return data, true, err
	}
	if st, err := os.Stat(ref); err == nil && st.IsDir() {
		return nil, false, fmt.Errorf("%s: is a directory, not a model file", ref)
	} else if err == nil && !st.Mode().IsRegular() {
		return nil, false, fmt.Errorf("%s: not a regular file", ref)
	}
	data, err = regfile.Read(ref, maxModelBytes)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, false, fmt.Errorf("%s: no such model file", ref)
	case err != nil:
		return nil, false, fmt.Errorf("%s: cannot read the model: %w", ref, errors.Unwrap(err))
	case len(data) == 0:
		return nil, false, fmt.Errorf("%s: empty model file", ref)
	}
	return data, false, nil
}

// manifestFor reads the manifest of the model ref (embedded, or its sidecar
// file) and checks it against the graph.
func manifestFor(ref string, builtin bool, g *ort.Graph) (*models.Manifest, error) {
	in, out := g.In, g.Out
	src := "metadata_props[" + models.MetadataKey + "]"
	raw, ok := g.Meta[models.MetadataKey]
	if !builtin {
		if side, err := regfile.Read(ref+".json", regfile.MetadataLimit); err == nil {
			raw, ok, src = string(side), true, ref+".json"
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s.json: %w", ref, err)
		}
	}
	if !ok {
		return nil, fmt.Errorf("%s: %w: no manifest (neither ONNX metadata key %q nor a sidecar %s.json)", ref, models.ErrManifest, models.MetadataKey, ref)
	}
	m, err := models.ParseManifest([]byte(raw))
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", ref, src, err)
	}
	if len(in) != 1 || len(out) != 1 {
		return nil, fmt.Errorf("%s: %w: graph has %d inputs and %d outputs, want 1 and 1", ref, models.ErrManifest, len(in), len(out))
	}
	if err := m.CheckGraph(in[0].Shape, out[0].Shape); err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	if integer := ort.IntegerType(out[0].Type); integer != (m.Output == models.ClassIndex) {
		want := "float32"
		if !integer {
			want = "int64, int32 or uint8"
		}
		return nil, fmt.Errorf("%s: %w: output %s needs %s, graph output %q is %s", ref, models.ErrManifest, m.Output, want, out[0].Name, strings.TrimPrefix(out[0].Type, "ONNX_TENSOR_ELEMENT_DATA_TYPE_"))
	}
	return m, nil
}

// openModel loads a model, checks its manifest against the graph (inspected
// once) and creates its session.
func openModel(ref string, opts ort.Options) (*model, error) {
	data, builtin, err := modelBytes(ref)
	if err != nil {
		return nil, err
	}
	if ref == "" {
		ref = models.Default
	}
	g, err := ort.Inspect(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	m, err := manifestFor(ref, builtin, g)
	if err != nil {
		return nil, err
	}
	if m.IsEmbedding() {
		return nil, fmt.Errorf("%s: %w: %s is an embedding encoder (output embedding), not a mask model; run it with omnimask embed", ref, models.ErrManifest, m.Name)
	}
	s, err := ort.Open(data, g, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	if err := probe(m, s.In.Shape, s); err != nil {
		s.Close()
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	return &model{name: ref, manifest: m, input: s.In.Shape, run: s, bytes: int64(len(data))}, nil
}

// sameContract reports why two ensemble members cannot be averaged, or nil.
// Their inputs may differ (each model gets its own bands, derived inputs and
// normalisation, see layout); their classes may not.
func sameContract(a, b *models.Manifest) error {
	if a.WantsReflectance() != b.WantsReflectance() {
		return fmt.Errorf("input units %q vs %q", a.InputUnits, b.InputUnits)
	}
	if hardVote(a) != hardVote(b) {
		return fmt.Errorf("output %s vs %s: class indices are voted on, scores averaged", a.Output, b.Output)
	}
	if len(a.Classes) != len(b.Classes) {
		return fmt.Errorf("%d vs %d classes", len(a.Classes), len(b.Classes))
	}
	for i := range a.Classes {
		if a.Classes[i].ID != b.Classes[i].ID {
			return fmt.Errorf("class %d is id %d vs %d", i, a.Classes[i].ID, b.Classes[i].ID)
		}
	}
	return nil
}

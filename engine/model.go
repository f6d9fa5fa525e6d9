package engine

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/omnimask/omnimask/internal/ort"
	"github.com/omnimask/omnimask/models"
)

// Model is a loaded network: its manifest, where it came from, and its
// inference session.
type Model struct {
	Name     string // built-in name or file path
	Builtin  bool
	Manifest *models.Manifest
	sess     *ort.Session
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
	in, out, meta, err := ort.Inspect(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	return manifestFor(ref, builtin, in, out, meta)
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
	data, err = os.ReadFile(ref)
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

func manifestFor(ref string, builtin bool, in, out []ort.IO, meta map[string]string) (*models.Manifest, error) {
	src := "metadata_props[" + models.MetadataKey + "]"
	raw, ok := meta[models.MetadataKey]
	if !builtin {
		if side, err := os.ReadFile(ref + ".json"); err == nil {
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
	return m, nil
}

// openModel loads a model and creates its session.
func openModel(ref string, opts ort.Options) (*Model, error) {
	data, builtin, err := modelBytes(ref)
	if err != nil {
		return nil, err
	}
	if ref == "" {
		ref = models.Default
	}
	in, out, meta, err := ort.Inspect(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	m, err := manifestFor(ref, builtin, in, out, meta)
	if err != nil {
		return nil, err
	}
	s, err := ort.Open(data, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	return &Model{Name: ref, Builtin: builtin, Manifest: m, sess: s}, nil
}

// sameContract reports why two ensemble members cannot be averaged, or nil.
func sameContract(a, b *models.Manifest) error {
	if strings.Join(a.Bands, ",") != strings.Join(b.Bands, ",") {
		return fmt.Errorf("bands %v vs %v", a.Bands, b.Bands)
	}
	if a.Normalization.Kind != b.Normalization.Kind || fmt.Sprint(a.Normalization) != fmt.Sprint(b.Normalization) || a.NoDataFill != b.NoDataFill {
		return fmt.Errorf("normalisation %v vs %v", a.Normalization, b.Normalization)
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

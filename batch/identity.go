package batch

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/models"
)

// Identity is what a mask's pixels depend on besides the scene: the models
// (manifest name and version, SHA-256 of the ONNX file and of its manifest
// sidecar if any), the ONNX Runtime version and the flags that change
// pixels. Two runs with equal identities write byte-identical masks.
type Identity struct {
	Models []ModelID         `json:"models"`
	ORT    string            `json:"onnxruntime"`
	Flags  map[string]string `json:"flags"` // pixel-changing flags by name, as canonical strings
}

// ModelID identifies one model of an ensemble.
type ModelID struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	SHA256  string `json:"sha256"`
}

// Equal reports whether two identities are the same.
func (id Identity) Equal(o Identity) bool {
	a, _ := json.Marshal(id) // maps marshal with sorted keys
	b, _ := json.Marshal(o)
	return bytes.Equal(a, b)
}

// ModelHash returns the SHA-256 of a model reference as the engine resolves
// it: a built-in name (no '/', '\' or '.') is hashed from the embedded
// bytes, a file from its contents followed by its manifest sidecar
// (MODEL.onnx.json) when present.
func ModelHash(ref string) (string, error) {
	if ref == "" {
		ref = models.Default
	}
	h := sha256.New()
	if !strings.ContainsAny(ref, `/\.`) {
		b, err := models.Builtin(ref)
		if err != nil {
			return "", err
		}
		h.Write(b)
		return hex.EncodeToString(h.Sum(nil)), nil
	}
	if _, err := hashFile(h, ref); err != nil {
		return "", err
	}
	side, err := os.ReadFile(ref + ".json")
	switch {
	case err == nil:
		h.Write([]byte("\x00sidecar\x00"))
		h.Write(side)
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("%s.json: %w", ref, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ProductHash returns the SHA-256 of a composite product's description (a
// built-in name or a .json file), canonicalised: its models are hashed
// apart (ModelHash), the rules that combine their decisions here.
func ProductHash(ref string) (string, error) {
	var c *models.Composite
	var err error
	if !strings.ContainsAny(ref, `/\.`) {
		c, err = models.BuiltinComposite(ref)
	} else {
		var b []byte
		if b, err = os.ReadFile(ref); err == nil {
			c, err = models.ParseComposite(b)
		}
	}
	if err != nil {
		return "", fmt.Errorf("product %s: %w", ref, err)
	}
	b, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// hashFile writes the contents of path to h and returns their size.
func hashFile(h io.Writer, path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n, err := io.Copy(h, f)
	if err != nil {
		return n, fmt.Errorf("%s: %w", path, err)
	}
	return n, nil
}

// FileSum identifies a file's contents.
type FileSum struct {
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Sum returns the size and SHA-256 of a file.
func Sum(path string) (FileSum, error) {
	h := sha256.New()
	n, err := hashFile(h, path)
	if err != nil {
		return FileSum{}, err
	}
	return FileSum{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// FileStat identifies a local input file without reading it.
type FileStat struct {
	Path    string `json:"path"`
	Size    int64  `json:"size"`
	ModTime int64  `json:"mtime_ns"`
}

// statInput returns the stat of a local regular file scene, or nil for
// folders, GDAL paths and anything that cannot be stat'ed here.
func statInput(scene string) []FileStat {
	if isGDALPath(scene) {
		return nil
	}
	st, err := os.Stat(scene)
	if err != nil || !st.Mode().IsRegular() {
		return nil
	}
	return []FileStat{{Path: scene, Size: st.Size(), ModTime: st.ModTime().UnixNano()}}
}

// Stamp is the sidecar written beside a finished mask (StampPath): the
// identity it was computed with, the mask's (and probabilities') checksum,
// the input file's size and time, and the scene's summary record, so that a
// re-run can skip the scene and still report it.
type Stamp struct {
	Identity   Identity   `json:"identity"`
	Input      []FileStat `json:"input,omitempty"`
	Mask       FileSum    `json:"mask"`
	Confidence *FileSum   `json:"confidence,omitempty"`
	Record     Record     `json:"record"`
}

// StampPath is the sidecar of a mask: MASK.omnimask.json. The mask itself
// stays byte-identical to what predict writes.
func StampPath(mask string) string { return mask + ".omnimask.json" }

// WriteStamp records that mask (and confidence, when not empty) were written
// from scene with id. It writes a temporary file and renames it, so a stamp
// is either complete or absent; it is written after the mask is in place,
// so a stamp never describes a mask that is not there.
func WriteStamp(mask, confidence, scene string, id Identity, rec Record) error {
	st := Stamp{Identity: id, Input: statInput(scene), Record: rec}
	var err error
	if st.Mask, err = Sum(mask); err != nil {
		return fmt.Errorf("stamp %s: %w", mask, err)
	}
	if confidence != "" {
		c, err := Sum(confidence)
		if err != nil {
			return fmt.Errorf("stamp %s: %w", mask, err)
		}
		st.Confidence = &c
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("stamp %s: %w", mask, err)
	}
	return writeAtomic(StampPath(mask), append(b, '\n'))
}

// RemoveStamp deletes mask's stamp, if any, before the mask is recomputed.
func RemoveStamp(mask string) error {
	if err := os.Remove(StampPath(mask)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Resume decides whether the mask of scene at mask can be kept: its stamp
// exists, was written with an identity equal to id, the input file has the
// size and time recorded, and the mask (and, when confidence is not empty,
// the probabilities file) still has the recorded checksum. It returns the
// stored record when the mask can be kept, or why not.
func Resume(mask, confidence, scene string, id Identity) (*Record, string) {
	b, err := os.ReadFile(StampPath(mask))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "no stamp"
	}
	if err != nil {
		return nil, err.Error()
	}
	var st Stamp
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Sprintf("unreadable stamp: %v", err)
	}
	if !st.Identity.Equal(id) {
		return nil, "model or pixel-changing flags differ"
	}
	in := statInput(scene)
	if len(st.Input) != len(in) || (len(in) == 1 && in[0] != st.Input[0]) {
		return nil, "input changed"
	}
	if s, err := Sum(mask); err != nil || s != st.Mask {
		return nil, "mask missing or changed"
	}
	if (confidence != "") != (st.Confidence != nil) {
		return nil, "probabilities output differs"
	}
	if confidence != "" {
		if s, err := Sum(confidence); err != nil || s != *st.Confidence {
			return nil, "probabilities missing or changed"
		}
	}
	return &st.Record, ""
}

// writeAtomic writes data to a temporary file beside path, named as the
// engine names its temporaries (gdalio.RemoveStale removes those a killed
// run left), and renames it.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), gdalio.TempPattern(path))
	if err != nil {
		return err
	}
	err = f.Chmod(0o644)
	if err == nil {
		_, err = f.Write(data)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

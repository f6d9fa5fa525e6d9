package engine

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omnimask/omnimask/internal/ort"
	"github.com/omnimask/omnimask/internal/synth"
	"github.com/omnimask/omnimask/models"
	"github.com/omnimask/omnimask/preprocess"
	"github.com/omnimask/omnimask/raster"
)

const python = "/usr/bin/python3"

// torchAvailable reports whether Debian's python3 with torch can run the
// parity script, and the TorchScript copy of the default model exists.
func torchAvailable(t *testing.T) string {
	t.Helper()
	ts := filepath.Join("..", "models", "omnicloud.torchscript.pt")
	if _, err := os.Stat(ts); err != nil {
		t.Skip("no TorchScript copy of the default model")
	}
	if err := exec.Command(python, "-c", "import torch, numpy").Run(); err != nil {
		t.Skip("python3 with torch not available")
	}
	return ts
}

// writeNpy writes a float32 array in NumPy's .npy format (version 1.0).
func writeNpy(path string, shape []int, data []float32) error {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = fmt.Sprint(d)
	}
	header := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%s,), }", strings.Join(dims, ", "))
	pad := 64 - (10+len(header)+1)%64
	header += strings.Repeat(" ", pad) + "\n"
	buf := []byte("\x93NUMPY\x01\x00")
	buf = binary.LittleEndian.AppendUint16(buf, uint16(len(header)))
	buf = append(buf, header...)
	for _, v := range data {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
	}
	return os.WriteFile(path, buf, 0o644)
}

// readNpy reads a little-endian float32 .npy file written by NumPy.
func readNpy(path string) ([]float32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 10 || string(b[1:6]) != "NUMPY" {
		return nil, fmt.Errorf("%s: not an .npy file", path)
	}
	var hl, off int
	if b[6] == 1 {
		hl, off = int(binary.LittleEndian.Uint16(b[8:10])), 10
	} else {
		hl, off = int(binary.LittleEndian.Uint32(b[8:12])), 12
	}
	if !strings.Contains(string(b[off:off+hl]), "'<f4'") {
		return nil, fmt.Errorf("%s: not little-endian float32", path)
	}
	raw := b[off+hl:]
	out := make([]float32, len(raw)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return out, nil
}

// The Go engine's class probabilities on a scene equal softmax(PyTorch's
// forward pass) on the same normalised input, and the embedded ONNX
// network's logits equal TorchScript's to 1e-4.
func TestParityWithPyTorch(t *testing.T) {
	ts := torchAvailable(t)
	const n = 256
	g := synth.New(synth.Options{Width: n, Height: n, Seed: 21, Bands: []string{"red", "green", "nir"}})
	bands, _ := g.Scene(10000, 0)
	sc := &Scene{Bands: bands, Names: []string{"red", "green", "nir"}, Geo: g.Geo()}
	e := newEngine(t, Options{})
	res, err := e.Predict(context.Background(), sc, Request{NoResample: true, PatchSize: n, Confidence: ConfidenceFloat32})
	if err != nil {
		t.Fatal(err)
	}
	if res.Plan.Patches != 1 {
		t.Fatalf("%d patches, want one covering the scene", res.Plan.Patches)
	}
	// The same normalisation, done here with the shared definition.
	z := bands.Clone()
	valid := raster.NewMask(z.Rect)
	preprocess.Valid(valid, z, raster.NoData{})
	preprocess.ZScore(z, valid, e.Manifest().NoDataFill)

	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.npy"), filepath.Join(dir, "out.npy")
	if err := writeNpy(in, []int{1, 3, n, n}, z.Pix); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, filepath.Join("..", "models", "train", "parity.py"), "--model", ts, "--input", in, "--output", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("parity.py: %v\n%s", err, b)
	}
	logits, err := readNpy(out)
	if err != nil {
		t.Fatal(err)
	}
	k := len(e.Manifest().Classes)
	if len(logits) != k*n*n {
		t.Fatalf("%d logits, want %d", len(logits), k*n*n)
	}

	// ONNX (through ONNX Runtime) vs TorchScript logits.
	data, err := models.Builtin(models.Default)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ort.Open(data, nil, ort.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	onnxOut := make([]float32, k*n*n)
	if err := s.Run(z.Pix, [4]int64{1, 3, n, n}, onnxOut, [4]int64{1, int64(k), n, n}); err != nil {
		t.Fatal(err)
	}
	var maxLogit float64
	for i := range logits {
		maxLogit = max(maxLogit, math.Abs(float64(onnxOut[i]-logits[i])))
	}
	if maxLogit > 1e-4 {
		t.Errorf("ONNX and TorchScript logits differ by up to %g", maxLogit)
	}

	// Engine probabilities vs softmax (float64) of the PyTorch logits.
	var maxProb float64
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			j := y*n + x
			mx := math.Inf(-1)
			for c := 0; c < k; c++ {
				mx = max(mx, float64(logits[c*n*n+j]))
			}
			var sum float64
			for c := 0; c < k; c++ {
				sum += math.Exp(float64(logits[c*n*n+j]) - mx)
			}
			for c := 0; c < k; c++ {
				p := math.Exp(float64(logits[c*n*n+j])-mx) / sum
				maxProb = max(maxProb, math.Abs(float64(res.Probabilities.At(c, x, y))-p))
			}
		}
	}
	if maxProb > 1e-4 {
		t.Errorf("engine probabilities differ from PyTorch by up to %g", maxProb)
	}
	t.Logf("max |logit diff| ONNX vs TorchScript %.2g; max |p diff| engine vs PyTorch %.2g", maxLogit, maxProb)
}

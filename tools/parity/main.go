// Command parity runs an ONNX model on a saved input with ONNX Runtime and
// compares its output with a saved reference (written by a model's
// conversion script, e.g. models/thirdparty/dl-l8s2-uv/convert.py):
//
//	parity [-ort-lib PATH] FILE.parity.json...
//
// The JSON names the model, the input and output files (little-endian
// float32, NCHW) beside it, the input shape and the largest absolute
// difference allowed. It exits 1 when an output differs by more.
package main

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/omnimask/omnimask/internal/ort"
)

type spec struct {
	Model     string   `json:"model"`
	Shape     [4]int64 `json:"shape"`
	Input     string   `json:"input"`
	Output    string   `json:"output"`
	Tolerance float64  `json:"tolerance"`
}

func main() {
	lib := flag.String("ort-lib", "", "ONNX Runtime library")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: parity [-ort-lib PATH] FILE.parity.json...")
		os.Exit(2)
	}
	if _, err := ort.Setup(*lib); err != nil {
		fmt.Fprintln(os.Stderr, "parity:", err)
		os.Exit(1)
	}
	failed := false
	for _, f := range flag.Args() {
		d, err := check(f)
		switch {
		case err != nil:
			fmt.Fprintf(os.Stderr, "parity: %s: %v\n", f, err)
			failed = true
		default:
			fmt.Printf("%s: max |onnx - reference| = %.3g\n", f, d)
		}
	}
	if failed {
		os.Exit(1)
	}
}

func check(path string) (float64, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	var s spec
	if err := json.Unmarshal(raw, &s); err != nil {
		return 0, err
	}
	dir := filepath.Dir(path)
	model, err := os.ReadFile(filepath.Join(dir, s.Model))
	if err != nil {
		return 0, err
	}
	in, err := readF32(filepath.Join(dir, s.Input))
	if err != nil {
		return 0, err
	}
	want, err := readF32(filepath.Join(dir, s.Output))
	if err != nil {
		return 0, err
	}
	if n := s.Shape[0] * s.Shape[1] * s.Shape[2] * s.Shape[3]; int64(len(in)) != n {
		return 0, fmt.Errorf("%d input values for shape %v", len(in), s.Shape)
	}
	outs, _, err := ort.Probe(model, in, s.Shape, ort.Options{Threads: 1})
	if err != nil {
		return 0, err
	}
	if len(outs) != 1 {
		return 0, fmt.Errorf("%d float outputs, want 1", len(outs))
	}
	var got []float32
	for _, v := range outs {
		got = v
	}
	if len(got) != len(want) {
		return 0, fmt.Errorf("%d output values, reference has %d", len(got), len(want))
	}
	d := 0.0
	for i := range got {
		d = math.Max(d, math.Abs(float64(got[i])-float64(want[i])))
	}
	if !(d <= s.Tolerance) {
		return d, fmt.Errorf("max |onnx - reference| = %.3g above the tolerance %g", d, s.Tolerance)
	}
	return d, nil
}

func readF32(path string) ([]float32, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	v := make([]float32, st.Size()/4)
	if err := binary.Read(f, binary.LittleEndian, v); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

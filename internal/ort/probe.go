package ort

import (
	"errors"
	"fmt"

	onnx "github.com/yalue/onnxruntime_go"

	"github.com/omnimask/omnimask/internal/liberr"
)

// Probe runs a model with one float32 input and returns every float32
// output, by name, with its shape. It is meant for tooling (calibrating
// quantisation ranges), not for the hot path: outputs are allocated by ONNX
// Runtime and copied.
func Probe(data []byte, in []float32, shape [4]int64, opts Options) (map[string][]float32, map[string][]int64, error) {
	g, err := Inspect(data)
	if err != nil {
		return nil, nil, err
	}
	ins, outs := g.In, g.Out
	if len(ins) != 1 {
		return nil, nil, fmt.Errorf("%w: %d inputs, want 1", ErrModel, len(ins))
	}
	var names []string
	for _, o := range outs {
		names = append(names, o.Name)
	}
	so, err := onnx.NewSessionOptions()
	if err != nil {
		return nil, nil, &liberr.Error{Op: "ort: session options", Err: err}
	}
	defer so.Destroy()
	if err := configure(so, opts); err != nil {
		return nil, nil, err
	}
	s, err := onnx.NewDynamicAdvancedSessionWithONNXData(data, []string{ins[0].Name}, names, so)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrModel, &liberr.Error{Err: err})
	}
	defer s.Destroy()
	it, err := onnx.NewTensor(onnx.NewShape(shape[:]...), in)
	if err != nil {
		return nil, nil, &liberr.Error{Op: fmt.Sprintf("ort: input tensor %v", shape), Err: err}
	}
	defer it.Destroy()
	vals := make([]onnx.Value, len(names))
	if err := s.Run([]onnx.Value{it}, vals); err != nil {
		return nil, nil, &liberr.Error{Op: "ort: run", Err: err}
	}
	data32 := map[string][]float32{}
	shapes := map[string][]int64{}
	var errs []error
	for i, v := range vals {
		if t, ok := v.(*onnx.Tensor[float32]); ok {
			data32[names[i]] = append([]float32(nil), t.GetData()...)
			shapes[names[i]] = append([]int64(nil), t.GetShape()...)
		}
		if v != nil {
			errs = append(errs, v.Destroy())
		}
	}
	return data32, shapes, errors.Join(errs...)
}

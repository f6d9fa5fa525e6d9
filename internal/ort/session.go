package ort

import (
	"errors"
	"fmt"
	"sync"

	onnx "github.com/yalue/onnxruntime_go"

	"github.com/omnimask/omnimask/internal/liberr"
)

// Options configure a session. The zero value means ORT's defaults with one
// intra-op thread per core.
type Options struct {
	Threads      int  // intra-op threads; 0 = number of cores
	NoMemArena   bool // disable the CPU memory arena
	NoSpinning   bool // let idle intra-op threads sleep instead of spinning
	MemPattern   bool // let ORT pre-plan each run's memory (more memory, no faster here)
	OptimizedOut string
	// Logs lets ONNX Runtime print its own warnings and errors on stderr;
	// without it only fatal ones (errors come back as Go errors anyway).
	Logs bool
}

// IO describes a graph input or output.
type IO struct {
	Name  string
	Shape []int64 // negative for dynamic dimensions
	Type  string
}

// Graph is what Inspect reads of a model without creating a session: its
// inputs, outputs and custom metadata (metadata_props).
type Graph struct {
	In, Out []IO
	Meta    map[string]string
}

// Session is a loaded network with one float32 input and one output:
// float32, or integer class indices (int64, int32 or uint8; N x 1 x H x W or
// N x H x W) that Run hands back as float32. Run may be called from several
// goroutines at once.
type Session struct {
	In, Out IO
	meta    map[string]string

	mu     sync.RWMutex // Run holds it shared, Close exclusively
	s      *onnx.DynamicAdvancedSession
	closed bool
}

// ErrModel is wrapped by errors about the network itself.
var ErrModel = errors.New("ort: unusable model")

// Inspect returns a model's inputs, outputs and custom metadata without
// creating a session for inference.
func Inspect(data []byte) (*Graph, error) {
	if _, v := Loaded(); v == "" {
		return nil, fmt.Errorf("%w: Setup was not called", ErrLibrary)
	}
	ins, outs, err := onnx.GetInputOutputInfoWithONNXData(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, &liberr.Error{Err: err})
	}
	conv := func(infos []onnx.InputOutputInfo) []IO {
		var r []IO
		for _, i := range infos {
			r = append(r, IO{Name: i.Name, Shape: append([]int64(nil), i.Dimensions...), Type: i.DataType.String()})
		}
		return r
	}
	md, err := onnx.GetModelMetadataWithONNXData(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, &liberr.Error{Op: "metadata", Err: err})
	}
	defer md.Destroy()
	keys, err := md.GetCustomMetadataMapKeys()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, &liberr.Error{Op: "metadata", Err: err})
	}
	meta := map[string]string{}
	for _, k := range keys {
		v, ok, err := md.LookupCustomMetadataMap(k)
		if err == nil && ok {
			meta[k] = v
		}
	}
	return &Graph{In: conv(ins), Out: conv(outs), Meta: meta}, nil
}

// Open creates an inference session from an ONNX model in memory. g is what
// Inspect returned for data, so a model is inspected once; nil inspects it
// here. The model must have exactly one float32 input and one float32 or
// integer (int64, int32, uint8) output.
func Open(data []byte, g *Graph, opts Options) (*Session, error) {
	if g == nil {
		var err error
		if g, err = Inspect(data); err != nil {
			return nil, err
		}
	}
	ins, outs, meta := g.In, g.Out, g.Meta
	if len(ins) != 1 || len(outs) != 1 {
		return nil, fmt.Errorf("%w: %d inputs and %d outputs, want 1 and 1", ErrModel, len(ins), len(outs))
	}
	if ins[0].Type != typeFloat {
		return nil, fmt.Errorf("%w: %q is %s, want float32", ErrModel, ins[0].Name, ins[0].Type)
	}
	if outs[0].Type != typeFloat && !IntegerType(outs[0].Type) {
		return nil, fmt.Errorf("%w: %q is %s, want float32 (or int64, int32, uint8 class indices)", ErrModel, outs[0].Name, outs[0].Type)
	}
	so, err := onnx.NewSessionOptions()
	if err != nil {
		return nil, &liberr.Error{Op: "ort: session options", Err: err}
	}
	defer so.Destroy()
	if err := configure(so, opts); err != nil {
		return nil, err
	}
	s, err := onnx.NewDynamicAdvancedSessionWithONNXData(data, []string{ins[0].Name}, []string{outs[0].Name}, so)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, &liberr.Error{Err: err})
	}
	return &Session{In: ins[0], Out: outs[0], meta: meta, s: s}, nil
}

func configure(so *onnx.SessionOptions, opts Options) error {
	level := onnx.LoggingLevel(onnx.LoggingLevelFatal)
	if opts.Logs {
		level = onnx.LoggingLevelWarning
	}
	if err := so.SetLogSeverityLevel(level); err != nil {
		return &liberr.Error{Op: "ort: log level", Err: err}
	}
	if opts.Threads > 0 {
		if err := so.SetIntraOpNumThreads(opts.Threads); err != nil {
			return &liberr.Error{Op: "ort: threads", Err: err}
		}
	}
	if err := so.SetInterOpNumThreads(1); err != nil {
		return &liberr.Error{Op: "ort: inter-op threads", Err: err}
	}
	if err := so.SetGraphOptimizationLevel(onnx.GraphOptimizationLevelEnableAll); err != nil {
		return &liberr.Error{Op: "ort: optimisation level", Err: err}
	}
	// ORT's memory pattern plans one block per run from the first run's
	// shapes; with two concurrent runs it raised peak memory at 10980²
	// from 884 to 959 MiB and bought no speed (152 vs 154 s), so it is
	// off unless asked for.
	if err := so.SetMemPattern(opts.MemPattern); err != nil {
		return &liberr.Error{Op: "ort: memory pattern", Err: err}
	}
	if opts.NoMemArena {
		if err := so.SetCpuMemArena(false); err != nil {
			return &liberr.Error{Op: "ort: memory arena", Err: err}
		}
	}
	if opts.NoSpinning {
		if err := so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0"); err != nil {
			return &liberr.Error{Op: "ort: spinning", Err: err}
		}
	}
	if opts.OptimizedOut != "" {
		if err := so.SetOptimizedModelFilePath(opts.OptimizedOut); err != nil {
			return &liberr.Error{Op: "ort: optimised model path", Err: err}
		}
	}
	return nil
}

// Metadata returns the custom metadata of the model.
func (s *Session) Metadata() map[string]string { return s.meta }

// ErrClosed is returned by Run after Close.
var ErrClosed = errors.New("ort: session closed")

// Run runs the network on an input of the given NCHW shape and writes the
// output (whose shape is outShape) into out, which must be large enough.
func (s *Session) Run(in []float32, inShape [4]int64, out []float32, outShape [4]int64) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	it, err := onnx.NewTensor(onnx.NewShape(inShape[:]...), in)
	if err != nil {
		return &liberr.Error{Op: fmt.Sprintf("ort: input tensor %v", inShape), Err: err}
	}
	defer it.Destroy()
	if s.Out.Type != typeFloat {
		return s.runIndices(it, inShape, out, outShape)
	}
	ot, err := onnx.NewTensor(onnx.NewShape(outShape[:]...), out)
	if err != nil {
		return &liberr.Error{Op: fmt.Sprintf("ort: output tensor %v", outShape), Err: err}
	}
	defer ot.Destroy()
	if err := s.s.Run([]onnx.Value{it}, []onnx.Value{ot}); err != nil {
		return &liberr.Error{Op: fmt.Sprintf("ort: run on %v", inShape), Err: err}
	}
	return nil
}

const typeFloat = "ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT"

// IntegerType reports whether an ONNX element type (as IO.Type spells it)
// is one of the integer types a class-index output may have.
func IntegerType(t string) bool {
	switch t {
	case "ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64", "ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32", "ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8":
		return true
	}
	return false
}

// runIndices runs a graph with an integer output, which ONNX Runtime
// allocates, checks its shape against outShape (channel 1; the channel axis
// may be absent) and copies it into out as float32.
func (s *Session) runIndices(it onnx.Value, inShape [4]int64, out []float32, outShape [4]int64) error {
	vals := []onnx.Value{nil}
	if err := s.s.Run([]onnx.Value{it}, vals); err != nil {
		return &liberr.Error{Op: fmt.Sprintf("ort: run on %v", inShape), Err: err}
	}
	defer vals[0].Destroy()
	shape := vals[0].GetShape()
	if len(shape) == 3 {
		shape = onnx.NewShape(shape[0], 1, shape[1], shape[2])
	}
	if fmt.Sprint([]int64(shape)) != fmt.Sprint(outShape[:]) {
		return fmt.Errorf("%w: output is %v, want %v", ErrModel, []int64(vals[0].GetShape()), outShape)
	}
	switch t := vals[0].(type) {
	case *onnx.Tensor[int64]:
		copyAs(out, t.GetData())
	case *onnx.Tensor[int32]:
		copyAs(out, t.GetData())
	case *onnx.Tensor[uint8]:
		copyAs(out, t.GetData())
	default:
		return fmt.Errorf("%w: output is %T, want an integer tensor", ErrModel, vals[0])
	}
	return nil
}

// copyAs converts class indices to float32; values too large for a class
// (any above 2^16) become -1, which no class has.
func copyAs[T int64 | int32 | uint8](dst []float32, src []T) {
	dst = dst[:len(src)]
	for i, v := range src {
		if int64(v) > 1<<16 {
			dst[i] = -1
		} else {
			dst[i] = float32(v)
		}
	}
}

// OutputShape runs the network once on zeros of the given input shape and
// returns the shape of its output (allocated by ONNX Runtime): the load-time
// probe of what a graph really produces.
func (s *Session) OutputShape(inShape [4]int64) ([]int64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	n := inShape[0] * inShape[1] * inShape[2] * inShape[3]
	it, err := onnx.NewTensor(onnx.NewShape(inShape[:]...), make([]float32, n))
	if err != nil {
		return nil, &liberr.Error{Op: fmt.Sprintf("ort: input tensor %v", inShape), Err: err}
	}
	defer it.Destroy()
	vals := []onnx.Value{nil}
	if err := s.s.Run([]onnx.Value{it}, vals); err != nil {
		return nil, &liberr.Error{Op: fmt.Sprintf("ort: run on %v", inShape), Err: err}
	}
	defer vals[0].Destroy()
	return append([]int64(nil), vals[0].GetShape()...), nil
}

// Close releases the session once the runs in flight have finished. It is
// safe to call more than once.
func (s *Session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if err := s.s.Destroy(); err != nil {
		return &liberr.Error{Op: "ort: close session", Err: err}
	}
	return nil
}

package engine

import (
	"context"
	"errors"
	"io/fs"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/internal/liberr"
	"github.com/omnimask/omnimask/internal/ort"
	"github.com/omnimask/omnimask/internal/regfile"
	"github.com/omnimask/omnimask/models"
	"github.com/omnimask/omnimask/tiling"
)

// Kinds of failure, for callers (a server mapping errors to status codes)
// to branch on with errors.Is. Every error of New, Predict, PredictFile and
// Inspect is exactly one of these kinds, ErrClosed, or the context's error
// when the call was cancelled; the message is unchanged by the kind, and
// errors.Is and errors.As still reach the cause (os.ErrNotExist for a
// missing input, *Error for a library failure, *SubDatasetError…).
var (
	// ErrInvalidInput: the scene or the request is wrong — a missing,
	// empty, truncated or non-raster file, a band spec or band names that
	// do not fit the model, an unknown sensor, a scene too small to tile or
	// without the georeference its model needs, an output that would
	// replace an input or whose folder does not exist.
	ErrInvalidInput = errors.New("engine: invalid input")
	// ErrUnsupported: a well-formed input omnimask does not read: a refused
	// GDAL dataset name (network, raw memory…), a complex data type.
	ErrUnsupported = errors.New("engine: unsupported input")
	// ErrTooLarge: the scene needs more working memory than
	// Options.MaxMemory, or than Options.MemoryBudget leaves beside the
	// models, allows: it would never be admitted. New returns it when the
	// budget does not hold the models themselves.
	ErrTooLarge = errors.New("engine: scene too large")
	// ErrModel: a model cannot be used (New): missing or corrupt file,
	// manifest missing or disagreeing with the graph, unknown built-in
	// name, an ensemble of models with different contracts.
	ErrModel = errors.New("engine: unusable model")
	// ErrBusy: the engine's memory budget cannot admit the prediction now
	// and the request asked not to wait (Request.NoWait).
	ErrBusy = errors.New("engine: memory budget full")
	// ErrInternal: anything else — a library failure while reading or
	// writing that is not the input's fault, a full disk, the ONNX Runtime
	// library missing.
	ErrInternal = errors.New("engine: internal error")
)

// kinds are the sentinels classify assigns, in the order checked.
var kinds = []error{ErrClosed, ErrBusy, ErrInvalidInput, ErrUnsupported, ErrTooLarge, ErrModel, ErrInternal}

// InputError is an ErrInvalidInput that a Request field can resolve: Field
// names it ("Bands", "Resolution", "PatchSize"), so that a front end can
// advise its own way of setting it (the omnimask command names its flag).
// The message is Err's.
type InputError struct {
	Field string
	Err   error
}

func (e *InputError) Error() string        { return e.Err.Error() }
func (e *InputError) Unwrap() error        { return e.Err }
func (e *InputError) Is(target error) bool { return target == ErrInvalidInput }

// classify marks err with its kind. input says the error arose while
// resolving or planning the scene (before any pixel is processed), where
// whatever is not unsupported or a model's fault is the input's.
func classify(err error, input bool) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	for _, k := range kinds {
		if errors.Is(err, k) {
			return err
		}
	}
	var sd *SubDatasetError
	var kind error
	switch {
	case errors.Is(err, gdalio.ErrRefused), errors.Is(err, gdalio.ErrDataType):
		kind = ErrUnsupported
	case errors.Is(err, ort.ErrLibrary):
		kind = ErrInternal
	case errors.Is(err, ort.ErrModel), errors.Is(err, models.ErrManifest), errors.Is(err, models.ErrUnknown):
		kind = ErrModel
	case input, errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrPermission),
		errors.Is(err, gdalio.ErrNotRaster), errors.Is(err, regfile.ErrNotRegular), errors.Is(err, regfile.ErrTooLarge),
		errors.Is(err, tiling.ErrTooSmall), errors.As(err, &sd),
		errors.Is(err, ErrOutputIsInput), errors.Is(err, ErrOutputCollision), errors.Is(err, ErrOutputNotFile):
		kind = ErrInvalidInput
	default:
		kind = ErrInternal
	}
	return liberr.Mark(err, kind)
}

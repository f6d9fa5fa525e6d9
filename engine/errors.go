package engine

import (
	"errors"
	"slices"

	"github.com/omnimask/omnimask/internal/liberr"
	"github.com/omnimask/omnimask/internal/product"
)

// Error is a failed call into GDAL or ONNX Runtime: the operation, the file,
// dataset or model it concerned (Path) and the library's error (Err, which
// errors.Is and errors.As reach). It prints on one line. Errors of
// PredictFile, Predict and New wrap it where a library failed:
//
//	var le *engine.Error
//	if errors.As(err, &le) { … le.Path … }
type Error = liberr.Error

// SubDatasetError is returned for a container file (HDF, NetCDF, a
// Sentinel-2 product…) when none of its sub-datasets, or not the ones the
// model needs, can be chosen: predict one of them, or name the sensor. Its
// Path is the container, SubDatasets their GDAL names, Err the reason.
type SubDatasetError = product.SubDatasetError

// aboutInput reports whether err is a library failure on one of the files a
// scene was named by or read from, so that its message already names it.
func aboutInput(err error, paths, files []string) bool {
	var le *Error
	return errors.As(err, &le) && (slices.Contains(paths, le.Path) || slices.Contains(files, le.Path))
}

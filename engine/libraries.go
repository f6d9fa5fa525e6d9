package engine

import (
	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/internal/ort"
)

// GDALVersion returns the version of the GDAL library omnimask runs on.
func GDALVersion() string { return gdalio.Version() }

// LoadORT loads the ONNX Runtime library once per process, as New does
// (path as Options.ORTLibrary), and returns its version and the file it
// was loaded from.
func LoadORT(path string) (version, file string, err error) {
	if version, err = ort.Setup(path); err != nil {
		return "", "", err
	}
	file, _ = ort.Loaded()
	return version, file, nil
}

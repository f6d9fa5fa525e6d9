package gdalio

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/airbusgeo/godal"
)

func parseFloat(s string) (float64, error) { return strconv.ParseFloat(strings.TrimSpace(s), 64) }

// baseName returns a file's name without folder and extension.
func baseName(p string) string {
	b := filepath.Base(p)
	return strings.TrimSuffix(b, filepath.Ext(b))
}

// Version returns the runtime GDAL version.
func Version() string {
	v := godal.Version()
	return fmt.Sprintf("%d.%d.%d", v.Major(), v.Minor(), v.Revision())
}

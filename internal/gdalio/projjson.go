package gdalio

/*
#cgo pkg-config: gdal
#include <stdlib.h>
#include <ogr_srs_api.h>
#include <cpl_conv.h>

// omnimask_projjson sets a CRS from any form GDAL understands and exports
// it as PROJJSON (GDAL >= 3.1); NULL on failure. The caller frees the
// result with CPLFree.
static char *omnimask_projjson(const char *crs) {
	OGRSpatialReferenceH sr = OSRNewSpatialReference(NULL);
	if (sr == NULL) return NULL;
	char *out = NULL;
	if (OSRSetFromUserInput(sr, crs) != OGRERR_NONE || OSRExportToPROJJSON(sr, &out, NULL) != OGRERR_NONE) {
		CPLFree(out);
		out = NULL;
	}
	OSRDestroySpatialReference(sr);
	return out;
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// PROJJSON returns a CRS given as WKT, "EPSG:n" or any other form GDAL
// understands as PROJJSON (the CRS encoding GeoParquet asks for). godal
// has no binding for OSRExportToPROJJSON.
func PROJJSON(crs string) (string, error) {
	if crs == "" {
		return "", fmt.Errorf("gdalio: no CRS to export as PROJJSON")
	}
	Register()
	c := C.CString(crs)
	defer C.free(unsafe.Pointer(c))
	out := C.omnimask_projjson(c)
	if out == nil {
		return "", fmt.Errorf("gdalio: CRS %.60q: cannot export it as PROJJSON", crs)
	}
	defer C.CPLFree(unsafe.Pointer(out))
	return C.GoString(out), nil
}

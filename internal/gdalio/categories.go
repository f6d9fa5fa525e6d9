package gdalio

/*
#cgo pkg-config: gdal
#include <stdlib.h>
#include <gdal.h>
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// Categories returns the category names of band 1 of the raster at path as
// GDAL reads them (what gdalinfo lists under "Categories"; for a GeoTIFF,
// from its .aux.xml sidecar). godal has no binding for them.
func Categories(path string) ([]string, error) {
	Register()
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	ds := C.GDALOpen(cpath, C.GA_ReadOnly)
	if ds == nil {
		return nil, fmt.Errorf("%s: %w", path, ErrNotRaster)
	}
	defer C.GDALClose(ds)
	if C.GDALGetRasterCount(ds) < 1 {
		return nil, fmt.Errorf("%s: no band", path)
	}
	// GeoTIFF loads its sidecar lazily, with its georeferencing: ask
	// for that first, as gdalinfo does.
	var gt [6]C.double
	C.GDALGetGeoTransform(ds, &gt[0])
	list := C.GDALGetRasterCategoryNames(C.GDALGetRasterBand(ds, 1))
	var names []string
	for i := 0; list != nil; i++ {
		p := *(**C.char)(unsafe.Add(unsafe.Pointer(list), uintptr(i)*unsafe.Sizeof(list)))
		if p == nil {
			break
		}
		names = append(names, C.GoString(p))
	}
	return names, nil
}

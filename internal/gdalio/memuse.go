package gdalio

/*
#cgo pkg-config: gdal
#include <stdlib.h>
#include <cpl_vsi.h>
#include <gdal.h>
*/
import "C"

import "unsafe"

// What GDAL holds in memory, for the engine's memory budget.

// CacheMax is the size of GDAL's block cache in bytes (GDAL_CACHEMAX, or
// GDAL's default of 5 % of the machine's memory). GDAL reads the setting
// on first use of the cache; reading it here does the same, nothing else.
func CacheMax() int64 {
	Register()
	return int64(C.GDALGetCacheMax64())
}

// MemSize is the size of the in-memory file path (0 when there is none).
func MemSize(path string) int64 {
	if !IsMem(path) {
		return 0
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var n C.vsi_l_offset
	if C.VSIGetMemFileBuffer(cpath, &n, C.FALSE) == nil {
		return 0
	}
	return int64(n)
}

// DecodedBytes is the size of the scene's pixels as GDAL caches them
// decoded: every band of its files, at their data types.
func (s *Scene) DecodedBytes() int64 {
	var px int64
	for _, b := range s.Bands {
		px += int64(typeBytes(b.Type))
	}
	return px * int64(s.Size.X) * int64(s.Size.Y)
}

// typeBytes is the size of one value of a GDAL data type (16 when unknown: the widest).
func typeBytes(t string) int {
	switch t {
	case "Byte", "Int8":
		return 1
	case "UInt16", "Int16":
		return 2
	case "UInt32", "Int32", "Float32", "CInt16":
		return 4
	case "Float64", "UInt64", "Int64", "CInt32", "CFloat32":
		return 8
	}
	return 16
}

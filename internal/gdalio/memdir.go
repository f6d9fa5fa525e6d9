package gdalio

/*
#include <stdlib.h>
#include <cpl_conv.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
*/
import "C"

import (
	"slices"
	"unsafe"
)

// MemFiles lists the names in the in-memory folder dir (sorted; none for
// a folder that holds nothing or a path outside /vsimem/).
func MemFiles(dir string) []string {
	if !IsMem(dir) {
		return nil
	}
	cdir := C.CString(dir)
	defer C.free(unsafe.Pointer(cdir))
	list := C.VSIReadDir(cdir)
	if list == nil {
		return nil
	}
	defer C.CSLDestroy(list)
	var names []string
	for _, p := range unsafe.Slice(list, int(C.CSLCount(list))) {
		names = append(names, C.GoString(p))
	}
	slices.Sort(names)
	return names
}

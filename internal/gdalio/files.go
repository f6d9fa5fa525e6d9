package gdalio

// Remove deletes a file, local or in GDAL's in-memory file system
// (/vsimem/), as the writers here remove their temporaries.
func Remove(path string) error { return removeFile(path) }

// Rename renames a file, local or within GDAL's in-memory file system;
// renaming between the two is an error.
func Rename(from, to string) error { return renameFile(from, to) }

// WriteFile writes data to a file, local (mode 0644) or in GDAL's
// in-memory file system.
func WriteFile(path string, data []byte) error { return writeFile(path, data) }

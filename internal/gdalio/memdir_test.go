package gdalio

import (
	"slices"
	"testing"
)

func TestMemFilesList(t *testing.T) {
	dir := MemDir()
	for _, name := range []string{"b.tif", "a.json"} {
		if err := WriteMem(dir+"/"+name, []byte("x")); err != nil {
			t.Fatal(err)
		}
		defer RemoveMem(dir + "/" + name)
	}
	for _, tc := range []struct {
		dir  string
		want []string
	}{
		{dir, []string{"a.json", "b.tif"}},
		{dir + "/none", nil},
		{t.TempDir(), nil},
	} {
		if got := MemFiles(tc.dir); !slices.Equal(got, tc.want) {
			t.Errorf("MemFiles(%s) = %q, want %q", tc.dir, got, tc.want)
		}
	}
}

package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/omnimask/omnimask/engine"
)

// The library names the Request field; the command adds its flag.
func TestExplainAddsFlagAdvice(t *testing.T) {
	base := errors.New("s.tif: the problem")
	tests := []struct {
		err  error
		want string
	}{
		{&engine.InputError{Field: "Bands", Err: base}, "s.tif: the problem; pass --bands"},
		{&engine.InputError{Field: "Resolution", Err: base}, "s.tif: the problem; pass --resolution METRES (or --no-resample)"},
		{fmt.Errorf("x: %w", &engine.InputError{Field: "PatchSize", Err: base}), "x: s.tif: the problem; pass --patch-size"},
		{&engine.SubDatasetError{Path: "f.hdf", SubDatasets: []string{"a", "b"}, Err: base}, "; see omnimask info, or pass --sensor"},
		{base, "s.tif: the problem"},
	}
	for _, tt := range tests {
		if got := explain(tt.err); !strings.HasSuffix(got, tt.want) || (tt.err == base && got != tt.want) {
			t.Errorf("explain(%v) = %q, want …%q", tt.err, got, tt.want)
		}
	}
}

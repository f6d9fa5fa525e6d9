package models

import (
	"embed"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
)

//go:embed builtin/*.onnx
var builtinFS embed.FS

// Default is the name of the built-in model used when none is chosen.
const Default = "omnicloud"

// ErrUnknown is returned for a built-in name that does not exist.
var ErrUnknown = errors.New("models: no such built-in model")

// Builtins returns the names of the embedded models, sorted.
func Builtins() []string {
	entries, _ := builtinFS.ReadDir("builtin")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".onnx"))
	}
	sort.Strings(names)
	return names
}

// Builtin returns the ONNX bytes of the embedded model called name.
func Builtin(name string) ([]byte, error) {
	b, err := builtinFS.ReadFile(path.Join("builtin", name+".onnx"))
	if err != nil {
		return nil, fmt.Errorf("%w: %q (built-in: %s)", ErrUnknown, name, strings.Join(Builtins(), ", "))
	}
	return b, nil
}

package models

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestBuiltins(t *testing.T) {
	names := Builtins()
	if len(names) == 0 {
		t.Fatal("no built-in models")
	}
	if !slices.IsSorted(names) {
		t.Errorf("Builtins() = %v, not sorted", names)
	}
	if !slices.Contains(names, Default) {
		t.Errorf("Builtins() = %v, lacks the default %q", names, Default)
	}
	for _, n := range names {
		if strings.HasSuffix(n, ".onnx") || n == "" {
			t.Errorf("Builtins() lists %q", n)
		}
		b, err := Builtin(n)
		if err != nil || len(b) == 0 {
			t.Errorf("Builtin(%q) = %d bytes, %v", n, len(b), err)
		}
	}
}

func TestBuiltinDefault(t *testing.T) {
	b, err := Builtin(Default)
	if err != nil {
		t.Fatal(err)
	}
	// An ONNX ModelProto starts with field 1 (ir_version, varint): 0x08.
	if len(b) < 2 || b[0] != 0x08 {
		t.Errorf("Builtin(%q) does not look like an ONNX model (starts % x)", Default, b[:min(len(b), 8)])
	}
	if strings.HasPrefix(string(b), "version https://git-lfs") {
		t.Errorf("Builtin(%q) is a Git LFS pointer, not a model", Default)
	}
}

func TestBuiltinUnknown(t *testing.T) {
	for _, name := range []string{"nope", "", "OMNICLOUD", "omnicloud.onnx", "../manifest", "builtin/omnicloud"} {
		b, err := Builtin(name)
		if !errors.Is(err, ErrUnknown) {
			t.Errorf("Builtin(%q) = %d bytes, %v; want ErrUnknown", name, len(b), err)
			continue
		}
		if b != nil {
			t.Errorf("Builtin(%q) returned bytes with its error", name)
		}
		if !strings.Contains(err.Error(), Default) {
			t.Errorf("Builtin(%q) error %q does not list the built-in models", name, err)
		}
	}
}

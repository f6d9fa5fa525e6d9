package main

import (
	"io"
	"testing"
)

// The command's engine returns memory to the OS between predictions
// (cmdline.TuneProcess makes the process-wide settings).
func TestReturnMemory(t *testing.T) {
	var f engineFlags
	if !f.options(io.Discard).ReturnMemory {
		t.Errorf("the command's engine does not return memory to the OS between predictions")
	}
}

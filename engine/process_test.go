package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime/metrics"
	"testing"
)

// forcedGCs counts the garbage collections the program forced (runtime.GC,
// debug.FreeOSMemory).
func forcedGCs() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/forced:gc-cycles"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// A library prediction leaves the process alone: it forces no garbage
// collection (debug.FreeOSMemory stalls every goroutine of a service) unless
// Options.ReturnMemory asks for one per written prediction.
func TestPredictFileForcesGCOnlyWhenAsked(t *testing.T) {
	dir := t.TempDir()
	scene, _ := writeScene(t, dir, 120, 100, 10)
	for _, ret := range []bool{false, true} {
		e := fakeEngine(t, Options{Models: []string{testModel("pointwise.onnx")}, ReturnMemory: ret})
		before := forcedGCs()
		for i := range 3 {
			out := filepath.Join(dir, fmt.Sprintf("mask-%v-%d.tif", ret, i))
			if _, err := e.PredictFile(context.Background(), []string{scene}, Request{Output: out}); err != nil {
				t.Fatal(err)
			}
		}
		n := forcedGCs() - before
		if !ret && n != 0 {
			t.Errorf("3 predictions forced %d garbage collections without Options.ReturnMemory", n)
		}
		if ret && n != 3 {
			t.Errorf("3 predictions with Options.ReturnMemory forced %d garbage collections, want 3", n)
		}
	}
}

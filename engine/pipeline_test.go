package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// A failing inference call ends the prediction with its error, naming the
// model, whichever the number of streams.
func TestRunnerErrorEndsPrediction(t *testing.T) {
	boom := errors.New("boom")
	for _, streams := range []int{1, 2} {
		e := fakeEngine(t, Options{Models: []string{testModel("pointwise.onnx")}, Threads: streams, Streams: streams})
		e.models[0].run.(*fakeRunner).fail = boom
		_, err := e.Predict(context.Background(), synthScene(200, 150, 1), Request{PatchSize: 32, NoResample: true})
		if !errors.Is(err, boom) || !strings.Contains(err.Error(), "pointwise.onnx") {
			t.Errorf("%d streams: err = %v, want boom naming the model", streams, err)
		}
	}
}

// A planning bug that leaves a row without native validity is an error of
// the prediction, not a panic in a pipeline goroutine.
func TestMissingValidityIsAnError(t *testing.T) {
	e := fakeEngine(t, Options{Models: []string{testModel("pointwise.onnx")}})
	sc := synthScene(64, 64, 1)
	info := sceneInfo{name: "scene", size: sc.Bands.Rect.Size(), geo: sc.Geo, names: sc.Names}
	p, err := plan(e.manifest, e.limits, info, Request{NoResample: true})
	if err != nil {
		t.Fatal(err)
	}
	r := &run{e: e, p: p, C: 3, K: 4, res: &Result{}}
	w := newRowWriter(r, make(chan *block, 1))
	err = w.emit(context.Background(), 0, make([]int16, 64), nil)
	if err == nil || !strings.Contains(err.Error(), "internal error") {
		t.Fatalf("err = %v, want an internal error", err)
	}
}

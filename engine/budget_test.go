package engine

import (
	"context"
	"errors"
	"os"
	"testing"
)

// What the models reserve counts against the budget: a prediction is
// admitted only in what they leave, one that fits the whole budget but not
// what is left is ErrTooLarge (not ErrBusy: it would never be admitted).
func TestBudgetReserved(t *testing.T) {
	sc := synthScene(160, 160, 4)
	req := Request{PatchSize: 64}
	probe := fakeEngine(t, Options{Models: []string{testModel("pointwise.onnx")}, Threads: 1})
	p, err := probe.PlanScene(sc, req)
	if err != nil {
		t.Fatal(err)
	}
	const models = 50 << 20
	tests := []struct {
		name    string
		total   int64
		want    error // of one prediction
		noWait2 error // of a second one, NoWait, while the first runs
	}{
		{"models leave less than a prediction", models + p.Memory - 1, ErrTooLarge, nil},
		{"models leave one prediction", models + p.Memory, nil, ErrBusy},
		{"models leave two predictions", models + 2*p.Memory, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, gate, entered := gatedEngine(t, Options{MemoryBudget: tt.total})
			if err := e.budget.reserve(models, "test models"); err != nil {
				t.Fatal(err)
			}
			if got := e.Budget(); got.Reserved != models || got.InUse != 0 {
				t.Fatalf("budget %+v after reserving %d", got, models)
			}
			if tt.want != nil {
				_, err := e.Predict(context.Background(), sc, req)
				if !errors.Is(err, tt.want) || errors.Is(err, ErrBusy) {
					t.Fatalf("err = %v, want %v", err, tt.want)
				}
				close(gate)
				return
			}
			first := make(chan error, 1)
			go func() { _, err := e.Predict(context.Background(), sc, req); first <- err }()
			<-entered
			if got := e.Budget(); got.InUse != p.Memory || got.Reserved != models {
				t.Errorf("budget %+v with one prediction of %d in flight", got, p.Memory)
			}
			second := make(chan error, 1)
			go func() {
				_, err := e.Predict(context.Background(), sc, Request{PatchSize: 64, NoWait: true})
				second <- err
			}()
			var err2 error
			if tt.noWait2 == nil {
				<-entered // admitted: it runs too
			} else {
				// Refused while the first still holds the budget: the
				// first may not end before the second has its answer.
				err2 = <-second
			}
			close(gate)
			if err := <-first; err != nil {
				t.Fatal(err)
			}
			if tt.noWait2 == nil {
				err2 = <-second
			}
			if !errors.Is(err2, tt.noWait2) {
				t.Errorf("second prediction: err = %v, want %v", err2, tt.noWait2)
			}
			if got := e.Budget(); got.InUse != 0 || got.Reserved != models {
				t.Errorf("budget after the runs %+v", got)
			}
		})
	}
}

// reserve refuses what does not fit with what was reserved before.
func TestBudgetReserve(t *testing.T) {
	b := &budget{total: 100}
	if err := b.reserve(60, "a"); err != nil {
		t.Fatal(err)
	}
	if err := b.reserve(41, "b"); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over the total: err = %v, want ErrTooLarge", err)
	}
	if err := b.reserve(40, "c"); err != nil {
		t.Fatal(err)
	}
	if b.reserved != 100 {
		t.Errorf("reserved %d, want 100", b.reserved)
	}
	if err := b.acquire(context.Background(), 1, false, nil); !errors.Is(err, ErrTooLarge) {
		t.Errorf("nothing left beside the models: err = %v, want ErrTooLarge", err)
	}
}

// New refuses a budget smaller than what the models hold, with
// ErrTooLarge; a budget that holds them reserves their estimate.
func TestNewBudgetTooSmall(t *testing.T) {
	requireORT(t)
	_, err := New(Options{Models: []string{testModel("pointwise.onnx")}, Threads: 1, MemoryBudget: 1 << 20})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("New with 1 MiB: err = %v, want ErrTooLarge", err)
	}
	e, err := New(Options{Models: []string{testModel("pointwise.onnx")}, Threads: 1, MemoryBudget: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	st, _ := os.Stat(testModel("pointwise.onnx"))
	if got, want := e.Budget().Reserved, int64(runtimeMemory+runtimeSlack+sessionMemory+modelFactor*st.Size()); got != want {
		t.Errorf("reserved %d, want %d", got, want)
	}
}

// A product's engine shares the budget of the engine it was opened on,
// and its models are reserved in it.
func TestProductSharesBudget(t *testing.T) {
	requireORT(t)
	e, err := New(Options{Threads: 1, MemoryBudget: 4 << 30})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	before := e.Budget().Reserved
	s, err := e.ForProduct("water")
	if err != nil {
		t.Fatal(err)
	}
	if s.budget != e.budget {
		t.Fatal("the product's engine has a budget of its own")
	}
	if got, want := e.Budget().Reserved, before+s.modelsMem; got != want || s.modelsMem < int64(len(s.models))*sessionMemory {
		t.Errorf("reserved %d after opening the product (models %d), want %d", got, s.modelsMem, want)
	}
}

// Plan.Memory charges the inference calls that run at once: a one-patch
// scene runs one whatever the streams, a larger one as many as the
// streams; each model of an ensemble holds its own activations.
func TestMemoryCountsInferenceCalls(t *testing.T) {
	tests := []struct{ streams, patches, n, want int }{
		{2, 1, 1, 1}, {2, 9, 1, 2}, {4, 3, 1, 3}, {2, 9, 8, 2}, {2, 4, 4, 1}, {1, 0, 1, 1},
	}
	for _, tt := range tests {
		if got := inferenceCalls(tt.streams, tt.patches, tt.n); got != tt.want {
			t.Errorf("inferenceCalls(%d streams, %d patches, batch %d) = %d, want %d", tt.streams, tt.patches, tt.n, got, tt.want)
		}
	}
	act := int64(activationBytes) * 64 * 64
	plan := func(opts Options, w, h int) *Plan {
		t.Helper()
		e := fakeEngine(t, opts)
		p, err := e.PlanScene(synthScene(w, h, 1), Request{PatchSize: 64, Overlap: -1})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	one := Options{Models: []string{testModel("pointwise.onnx")}, Threads: 2, Streams: 2}
	p1, p2 := plan(one, 64, 64), plan(one, 64, 128)
	if p1.Patches != 1 || p2.Patches != 2 {
		t.Fatalf("patches %d and %d", p1.Patches, p2.Patches)
	}
	// The second scene has one more inference call, and a little more of
	// the rest (strips, result).
	if d := p2.Memory - p1.Memory; d < act || d > act+act/2 {
		t.Errorf("a second patch adds %d bytes, want one call's activations (%d) and a little", d, act)
	}
	ens := Options{Models: []string{testModel("pointwise.onnx"), testModel("pointwise_b.onnx")}, Threads: 2, Streams: 2}
	if d := plan(ens, 64, 128).Memory - p2.Memory; d < 2*act {
		t.Errorf("a second model adds %d bytes, want at least two calls' activations (%d)", d, 2*act)
	}
}

// A scene given as bytes is charged what GDAL holds for it: its decoded
// blocks (up to GDAL's cache size) and the in-memory copy of the file.
func TestBudgetChargesInput(t *testing.T) {
	dir := t.TempDir()
	path, _ := writeScene(t, dir, 300, 200, 10)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	e := fakeEngine(t, Options{Models: []string{testModel("pointwise.onnx")}, Threads: 1, MemoryBudget: 1 << 30})
	fromFile, err := e.Inspect(context.Background(), []string{path}, Request{})
	if err != nil {
		t.Fatal(err)
	}
	inMem, err := e.PlanScene(synthScene(300, 200, 1), Request{})
	if err != nil {
		t.Fatal(err)
	}
	decoded := int64(300 * 200 * 4 * 2) // four uint16 bands
	if d := fromFile.Memory - inMem.Memory; d != decoded {
		t.Errorf("a file is charged %d bytes more than an in-memory scene, want its %d decoded bytes", d, decoded)
	}
	if _, err := e.PredictBytes(context.Background(), data, Request{}); err != nil {
		t.Fatal(err)
	}
	if got, want := e.Budget().Peak, fromFile.Memory+int64(len(data)); got != want {
		t.Errorf("PredictBytes charged %d bytes, want the file's estimate and its %d bytes (%d)", got, len(data), want)
	}
}

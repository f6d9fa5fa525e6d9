package engine

// Planning and pipeline tests run on fakeEngine: the networks of
// testdata/models (gen.py: a 1x1 convolution with fixed weights, optionally
// followed by a softmax) computed in Go behind the runner interface, so they
// need no ONNX Runtime library. Tests that load real models use newEngine
// (or requireORT), which skips when the library is absent.
// TestFakeNetsMatchTestdata keeps the fakes honest against the real files.

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"sync/atomic"
	"testing"

	"github.com/omnimask/omnimask/internal/ort"
	"github.com/omnimask/omnimask/models"
)

// requireORT skips the test when no ONNX Runtime library can be found (a
// library that is found but fails to load still fails the test).
func requireORT(t testing.TB) {
	t.Helper()
	if _, err := ort.Find(""); err != nil {
		t.Skipf("needs the ONNX Runtime library (run `make deps`): %v", err)
	}
}

// fakeNet is one network of testdata/models.
type fakeNet struct {
	w       [4][3]float32
	b       [4]float32
	softmax bool     // the output is probabilities
	input   [4]int64 // declared input shape, -1 where dynamic
	extra   map[string]any
}

var (
	pwbW = [4][3]float32{{0.5, 0.5, 0}, {0, 0.5, 0.5}, {0.5, 0, 0.5}, {-0.5, -0.5, -0.5}}
	pwbB = [4]float32{0.3, 0.2, 0.1, 0}
	dyn  = [4]int64{-1, 3, -1, -1}
)

// fakeNets are the fakes by file name (see gen.py).
var fakeNets = map[string]fakeNet{
	"pointwise.onnx":        {w: pwW, b: pwB, input: dyn},
	"pointwise_b.onnx":      {w: pwbW, b: pwbB, input: dyn},
	"pointwise_zscore.onnx": {w: pwW, b: pwB, input: dyn, extra: map[string]any{"normalization": map[string]any{"kind": "zscore"}}},
	"pointwise_prob.onnx":   {w: pwW, b: pwB, input: dyn, softmax: true, extra: map[string]any{"output": "probabilities"}},
	"fixed64.onnx":          {w: pwW, b: pwB, input: [4]int64{1, 3, 64, 64}},
}

// testManifest is gen.py's manifest for the network named name.
func testManifest(t testing.TB, name string, extra map[string]any) *models.Manifest {
	t.Helper()
	m := map[string]any{
		"name": name, "version": "0.0.1", "description": "test network: 1x1 convolution with fixed weights",
		"bands": []string{"red", "green", "nir"}, "resolution_m": 10, "min_resolution_m": 10, "max_resolution_m": 60,
		"normalization": map[string]any{"kind": "none"}, "nodata_fill": 0, "patch_size": 64, "overlap": 16,
		"size_multiple": 1, "output": "logits",
		"classes": []map[string]any{
			{"id": 0, "name": "clear", "color": []int{60, 160, 60}},
			{"id": 1, "name": "thick_cloud", "color": []int{255, 255, 255}},
			{"id": 2, "name": "thin_cloud", "color": []int{170, 200, 255}},
			{"id": 3, "name": "cloud_shadow", "color": []int{90, 60, 30}},
		},
	}
	for k, v := range extra {
		m[k] = v
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	man, err := models.ParseManifest(raw)
	if err != nil {
		t.Fatal(err)
	}
	return man
}

// fakeModel returns the fake of a testdata model (by path or file name).
func fakeModel(t testing.TB, ref string) (*model, *fakeRunner) {
	t.Helper()
	base := filepath.Base(ref)
	net, ok := fakeNets[base]
	if !ok {
		t.Fatalf("no fake for %s", ref)
	}
	name := base[:len(base)-len(".onnx")]
	if name == "pointwise_b" || name == "pointwise_zscore" || name == "pointwise_prob" {
		name = "pointwise-" + name[len("pointwise_"):]
	}
	r := &fakeRunner{net: net}
	return &model{name: ref, manifest: testManifest(t, name, net.extra), input: net.input[:], run: r}, r
}

// fakeEngine is an Engine on fakes of the testdata models opts names.
func fakeEngine(t testing.TB, opts Options) *Engine {
	t.Helper()
	opts, err := opts.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	var mods []*model
	for _, ref := range opts.Models {
		m, _ := fakeModel(t, ref)
		mods = append(mods, m)
	}
	e, err := assemble(opts, mods)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// fakeRunner computes a fakeNet on a batch. Fail, when set, is returned by
// every Run.
type fakeRunner struct {
	net    fakeNet
	fail   error
	hold   func() // when set, every Run calls it first (a slow or blocked model)
	runs   atomic.Int64
	closed atomic.Bool
}

func (f *fakeRunner) Run(in []float32, inShape [4]int64, out []float32, outShape [4]int64) error {
	f.runs.Add(1)
	if f.closed.Load() {
		return ort.ErrClosed
	}
	if f.fail != nil {
		return f.fail
	}
	if f.hold != nil {
		f.hold()
	}
	n, c, h, w := int(inShape[0]), int(inShape[1]), int(inShape[2]), int(inShape[3])
	k := int(outShape[1])
	plane := h * w
	if c != 3 || k != 4 || outShape[0] != inShape[0] || outShape[2] != inShape[2] || outShape[3] != inShape[3] ||
		len(in) < n*c*plane || len(out) < n*k*plane {
		return fmt.Errorf("fake: shapes %v -> %v with %d and %d values", inShape, outShape, len(in), len(out))
	}
	for i := range n {
		src, dst := in[i*c*plane:], out[i*k*plane:]
		for p := range plane {
			var z [4]float32
			for j := range k {
				v := f.net.b[j]
				for ch := range c {
					v += f.net.w[j][ch] * src[ch*plane+p]
				}
				z[j] = v
			}
			if f.net.softmax {
				m := max(z[0], z[1], z[2], z[3])
				var s float32
				for j := range z {
					z[j] = float32(math.Exp(float64(z[j] - m)))
					s += z[j]
				}
				for j := range z {
					z[j] /= s
				}
			}
			for j := range k {
				dst[j*plane+p] = z[j]
			}
		}
	}
	return nil
}

func (f *fakeRunner) Close() error {
	f.closed.Store(true)
	return nil
}

// TestFakeNetsMatchTestdata: each fake has the manifest and input shape of
// its testdata file and computes what ONNX Runtime computes on it.
func TestFakeNetsMatchTestdata(t *testing.T) {
	requireORT(t)
	if _, err := ort.Setup(""); err != nil {
		t.Fatal(err)
	}
	for file := range fakeNets {
		t.Run(file, func(t *testing.T) {
			real, err := openModel(testModel(file), ort.Options{Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer real.run.Close()
			fake, _ := fakeModel(t, testModel(file))
			if !reflect.DeepEqual(real.manifest, fake.manifest) {
				t.Errorf("manifest\n%+v\nwant\n%+v", fake.manifest, real.manifest)
			}
			if !reflect.DeepEqual(real.input, fake.input) {
				t.Errorf("input shape %v, want %v", fake.input, real.input)
			}
			const n, p = 1, 64
			in := make([]float32, n*3*p*p)
			rng := rand.New(rand.NewPCG(1, 2))
			for i := range in {
				in[i] = rng.Float32()*4 - 2
			}
			inS, outS := [4]int64{n, 3, p, p}, [4]int64{n, 4, p, p}
			want, got := make([]float32, n*4*p*p), make([]float32, n*4*p*p)
			if err := real.run.Run(in, inS, want, outS); err != nil {
				t.Fatal(err)
			}
			if err := fake.run.Run(in, inS, got, outS); err != nil {
				t.Fatal(err)
			}
			for i := range want {
				if d := math.Abs(float64(got[i] - want[i])); d > 1e-5 {
					t.Fatalf("output %d: %v, ONNX Runtime %v", i, got[i], want[i])
				}
			}
		})
	}
}

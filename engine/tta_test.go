package engine

import (
	"context"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/omnimask/omnimask/tta"
)

// posRunner is a network whose output depends on where a pixel is in the
// patch as well as on its value, so that a transformed patch does not give
// the transformed output: what test-time augmentation averages differs
// from transform to transform.
type posRunner struct {
	seed  float32
	calls int
}

func (f *posRunner) Run(in []float32, inShape [4]int64, out []float32, outShape [4]int64) error {
	f.calls++
	n, c, h, w := int(inShape[0]), int(inShape[1]), int(inShape[2]), int(inShape[3])
	k := int(outShape[1])
	for i := range n {
		for j := range k {
			for y := range h {
				for x := range w {
					v := in[((i*c+j%c)*h+y)*w+x]
					out[((i*k+j)*h+y)*w+x] = v*(f.seed+float32(j)) + float32(y*w+x)*0.001*float32(j+1) - float32(x)*0.01
				}
			}
		}
	}
	return nil
}

func (f *posRunner) Close() error { return nil }

// ttaRun is a run of e (whose models are replaced by nets) over patch x
// patch patches with mode, ready for runBatch.
func ttaRun(t *testing.T, nets []runner, patch int, mode tta.Mode) (*run, *batch) {
	t.Helper()
	var refs []string
	for range nets {
		refs = append(refs, testModel("pointwise.onnx"))
	}
	e := fakeEngine(t, Options{Models: refs})
	for i, n := range nets {
		e.models[i].run = n
	}
	e.variants = []*variant{ensembleVariant(e.models, e.layout)}
	sc := synthScene(patch, patch, 1)
	info := sceneInfo{name: "scene", size: sc.Bands.Rect.Size(), geo: sc.Geo, names: sc.Names}
	p, err := plan(e.manifest, e.limits, info, Request{NoResample: true, PatchSize: patch, TTA: mode})
	if err != nil {
		t.Fatal(err)
	}
	p.variant = e.variants[0]
	if p.TTA != mode {
		t.Fatalf("plan runs %v, want %v", p.TTA, mode)
	}
	const n = 3
	b := &batch{input: make([]float32, n*3*patch*patch), scores: make([]float32, n*4*patch*patch)}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range b.input {
		b.input[i] = rng.Float32()*4 - 2
	}
	for range n {
		b.rects = append(b.rects, image.Rect(0, 0, patch, patch))
	}
	return &run{e: e, v: e.variants[0], p: p, K: 4, N: 3, C: 3}, b
}

// Under test-time augmentation a batch's scores are exactly (bit for bit)
// the mean over the transforms of the model's outputs on the transformed
// patches, each transformed back, summed in the transforms' order and
// scaled by 1/T — for every member of an ensemble, whose members' means are
// then averaged as without augmentation. The network is position-dependent,
// so each transform contributes something else.
func TestTTAIsMeanOfUntransformed(t *testing.T) {
	const P, n, C, K = 32, 3, 3, 4
	PP := P * P
	for _, mode := range []tta.Mode{tta.None, tta.Flips, tta.D4} {
		for _, members := range []int{1, 2} {
			t.Run(fmt.Sprintf("%v/%d", mode, members), func(t *testing.T) {
				var nets []runner
				for m := range members {
					nets = append(nets, &posRunner{seed: 1 + float32(m)})
				}
				r, b := ttaRun(t, nets, P, mode)
				input := append([]float32(nil), b.input...)
				var tmp scratch
				if err := r.runBatch(context.Background(), b, &tmp); err != nil {
					t.Fatal(err)
				}
				// Each member runs once per transform; the patch pixels
				// count once, however many members and transforms ran on
				// them (as NaN pixels do).
				for i, net := range nets {
					if got := net.(*posRunner).calls; got != mode.Calls() {
						t.Errorf("member %d: %d inference calls, want %d", i, got, mode.Calls())
					}
				}
				if got, want := r.inferred.Load(), int64(n*PP); got != want {
					t.Errorf("inferred %d patch pixels, want %d", got, want)
				}
				want := make([]float32, n*K*PP)
				for _, net := range nets {
					mean := make([]float32, n*K*PP)
					for _, tr := range mode.Transforms() {
						x, out, back := make([]float32, n*C*PP), make([]float32, n*K*PP), make([]float32, n*K*PP)
						for j := range n * C {
							tr.Apply(x[j*PP:], input[j*PP:], P)
						}
						net.Run(x, [4]int64{n, C, P, P}, out, [4]int64{n, K, P, P})
						for j := range n * K {
							tr.Inverse().Apply(back[j*PP:], out[j*PP:], P)
						}
						for j := range mean {
							mean[j] += back[j]
						}
					}
					for j := range mean {
						want[j] += mean[j] * (1 / float32(mode.Calls()))
					}
				}
				if members > 1 {
					for j := range want {
						want[j] *= 1 / float32(members)
					}
				}
				if !sameBits(b.scores, want) {
					for j := range want {
						if b.scores[j] != want[j] {
							t.Fatalf("score %d = %v, want %v", j, b.scores[j], want[j])
						}
					}
				}
				if mode != tta.None {
					// The transforms matter to this network: the plain run differs.
					r0, b0 := ttaRun(t, nets, P, tta.None)
					copy(b0.input, input)
					if err := r0.runBatch(context.Background(), b0, &scratch{}); err != nil {
						t.Fatal(err)
					}
					if sameBits(b0.scores, b.scores) {
						t.Error("augmented scores equal the plain ones: the test network is not position-dependent")
					}
				}
			})
		}
	}
}

// A per-pixel network (a 1x1 convolution) commutes with every transform,
// so flips and d4 give the plain run's mask, and its probabilities within
// the float rounding of the mean; z-score normalisation is invariant to
// the transforms too. The inference calls are 1, 4 and 8 per patch.
func TestTTAPerPixelModelUnchanged(t *testing.T) {
	for _, model := range []string{"pointwise.onnx", "pointwise_zscore.onnx", "pointwise_prob.onnx"} {
		for _, streams := range []int{1, 2} {
			e := fakeEngine(t, Options{Models: []string{testModel(model)}, Threads: streams, Streams: streams, BatchSize: 2})
			fr := e.models[0].run.(*fakeRunner)
			sc := synthScene(150, 110, 7)
			req := Request{PatchSize: 32, Overlap: 8, NoResample: true, Confidence: ConfidenceFloat32}
			base, err := e.Predict(context.Background(), sc, req)
			if err != nil {
				t.Fatal(err)
			}
			baseRuns := fr.runs.Swap(0)
			for _, mode := range []tta.Mode{tta.Flips, tta.D4} {
				name := fmt.Sprintf("%s, %d streams, %v", model, streams, mode)
				req.TTA = mode
				got, err := e.Predict(context.Background(), sc, req)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if runs := fr.runs.Swap(0); runs != int64(mode.Calls())*baseRuns {
					t.Errorf("%s: %d inference calls, want %d x %d", name, runs, mode.Calls(), baseRuns)
				}
				if got.Plan.TTA != mode {
					t.Errorf("%s: plan says %v", name, got.Plan.TTA)
				}
				// Pixels may change class only where the plain run's two
				// classes tie within the rounding of the mean.
				pr := base.Probabilities
				ties := 0
				for i, c := range got.Mask.Pix {
					if w := base.Mask.Pix[i]; c != w {
						a := pr.Pix[int(c)*pr.PlaneStride+i]
						b := pr.Pix[int(w)*pr.PlaneStride+i]
						if math.Abs(float64(a-b)) > 1e-6 {
							t.Fatalf("%s: pixel %d is class %d, plain run %d (probabilities %v vs %v)", name, i, c, w, a, b)
						}
						ties++
					}
				}
				if ties > 0 {
					t.Logf("%s: %d of %d pixels change class at exact ties", name, ties, len(got.Mask.Pix))
				}
				var worst float64
				for i, v := range got.Probabilities.Pix {
					w := base.Probabilities.Pix[i]
					if math.IsNaN(float64(v)) != math.IsNaN(float64(w)) {
						t.Fatalf("%s: probability %d is %v, plain %v", name, i, v, w)
					}
					if d := math.Abs(float64(v - w)); d > worst {
						worst = d
					}
				}
				if worst > 1e-6 {
					t.Errorf("%s: probabilities differ from the plain run by up to %g", name, worst)
				}
			}
		}
	}
}

// The mode run is the request's, else the engine's option, else the
// manifest's "tta", else none (Engine.TTA says the last three); unknown modes are refused; augmentation
// adds its scratch to the memory estimate.
func TestTTAChoiceAndPlan(t *testing.T) {
	sc := synthScene(100, 80, 2)
	info := sceneInfo{name: "scene", size: sc.Bands.Rect.Size(), geo: sc.Geo, names: sc.Names}
	manifestFlips := func(t *testing.T, opts Options) *Engine {
		e := fakeEngine(t, opts)
		m := *e.manifest
		m.TTA = "flips"
		e.manifest = &m
		return e
	}
	for _, c := range []struct {
		name     string
		e        func(t *testing.T) *Engine
		req, got tta.Mode
	}{
		{"nothing set", func(t *testing.T) *Engine {
			return fakeEngine(t, Options{Models: []string{testModel("pointwise.onnx")}})
		}, tta.Default, tta.None},
		{"option", func(t *testing.T) *Engine {
			return fakeEngine(t, Options{Models: []string{testModel("pointwise.onnx")}, TTA: tta.D4})
		}, tta.Default, tta.D4},
		{"request over option", func(t *testing.T) *Engine {
			return fakeEngine(t, Options{Models: []string{testModel("pointwise.onnx")}, TTA: tta.D4})
		}, tta.None, tta.None},
		{"manifest", func(t *testing.T) *Engine {
			return manifestFlips(t, Options{Models: []string{testModel("pointwise.onnx")}})
		}, tta.Default, tta.Flips},
		{"option over manifest", func(t *testing.T) *Engine {
			return manifestFlips(t, Options{Models: []string{testModel("pointwise.onnx")}, TTA: tta.None})
		}, tta.Default, tta.None},
		{"request over manifest", func(t *testing.T) *Engine {
			return manifestFlips(t, Options{Models: []string{testModel("pointwise.onnx")}})
		}, tta.D4, tta.D4},
	} {
		e := c.e(t)
		p, err := plan(e.manifest, e.limits, info, Request{NoResample: true, TTA: c.req})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if p.TTA != c.got {
			t.Errorf("%s: runs %v, want %v", c.name, p.TTA, c.got)
		}
		if c.req == tta.Default && e.TTA() != c.got {
			t.Errorf("%s: Engine.TTA() = %v, want %v", c.name, e.TTA(), c.got)
		}
	}

	e := fakeEngine(t, Options{Models: []string{testModel("pointwise.onnx")}})
	if _, err := plan(e.manifest, e.limits, info, Request{NoResample: true, TTA: tta.Mode(7)}); err == nil || !strings.Contains(err.Error(), "test-time augmentation") {
		t.Errorf("mode 7: err = %v", err)
	}
	if _, err := (Options{TTA: tta.Mode(7)}).withDefaults(); err == nil {
		t.Error("Options.TTA 7 accepted")
	}
	none, _ := plan(e.manifest, e.limits, info, Request{NoResample: true})
	d4, _ := plan(e.manifest, e.limits, info, Request{NoResample: true, TTA: tta.D4})
	flips, _ := plan(e.manifest, e.limits, info, Request{NoResample: true, TTA: tta.Flips})
	if !(d4.Memory > none.Memory && flips.Memory == d4.Memory) {
		t.Errorf("memory: none %d, flips %d, d4 %d", none.Memory, flips.Memory, d4.Memory)
	}
}

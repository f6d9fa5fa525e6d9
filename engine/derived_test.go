package engine

import (
	"context"
	"encoding/json"
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/omnimask/omnimask/models"
	"github.com/omnimask/omnimask/preprocess"
	"github.com/omnimask/omnimask/raster"
	"github.com/omnimask/omnimask/sensor"
)

// vecFloat is a number or "NaN"/"Inf"/"-Inf" (gen_nd_vectors.py).
type vecFloat float64

func (f *vecFloat) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		switch s {
		case "NaN":
			*f = vecFloat(math.NaN())
		case "Inf":
			*f = vecFloat(math.Inf(1))
		default:
			*f = vecFloat(math.Inf(-1))
		}
		return nil
	}
	var v float64
	err := json.Unmarshal(b, &v)
	*f = vecFloat(v)
	return err
}

// TestDerivedSourceVectors: the raw channel of nd(a,b) read through a
// derivedSource equals numpy's (models/train/gen_nd_vectors.py), bit for
// bit, NaN where the pixel is nodata or the index undefined.
func TestDerivedSourceVectors(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "derived", "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Cases []struct {
			Name     string
			NoData   *float64
			RawA     []vecFloat `json:"a"`
			RawB     []vecFloat `json:"b"`
			Expected []vecFloat `json:"expected"`
		}
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Cases) < 10 {
		t.Fatalf("%d cases", len(v.Cases))
	}
	m := testManifest(t, "nd", map[string]any{"bands": []string{"nd(a,b)"}})
	lay, err := newLayout([]*models.Manifest{m})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(lay.sources, []string{"a", "b"}) || !lay.derived() {
		t.Fatalf("layout sources %v derived %v", lay.sources, lay.derived())
	}
	for _, c := range v.Cases {
		t.Run(c.Name, func(t *testing.T) {
			n := len(c.RawA)
			in := raster.NewFloat32(2, image.Rect(0, 0, n, 1))
			for i := range n {
				in.Pix[i], in.Pix[n+i] = float32(c.RawA[i]), float32(c.RawB[i])
			}
			var nd raster.NoData
			if c.NoData != nil {
				nd = raster.NoDataValue(*c.NoData)
			}
			ds := &derivedSource{src: &memSource{in, []int{0, 1}}, l: lay, p: &Plan{NoData: nd}}
			for _, threads := range []int{1, 2} {
				dst := raster.NewFloat32(1, in.Rect)
				if err := ds.ReadParallel(dst, threads); err != nil {
					t.Fatal(err)
				}
				for i, want := range c.Expected {
					got, w := dst.Pix[i], float32(want)
					if math.Float32bits(got) != math.Float32bits(w) && !(got != got && w != w) {
						t.Errorf("pixel %d: nd(%v,%v) = %v, numpy %v", i, c.RawA[i], c.RawB[i], got, w)
					}
				}
				// No NaN ever reaches a patch: the read stage marks them
				// invalid and normalisation fills them.
				valid := raster.NewMask(dst.Rect)
				preprocess.Valid(valid, dst, raster.NoData{})
				normalize(dst, valid, normChan{kind: models.None, fill: -7})
				for i, x := range dst.Pix {
					if x != x || (float32(c.Expected[i]) != float32(c.Expected[i]) && x != -7) {
						t.Errorf("pixel %d is %v in the patch", i, x)
					}
				}
			}
		})
	}
}

// recorder is a fakeRunner that keeps a copy of every input it runs on.
type recorder struct {
	*fakeRunner
	mu  sync.Mutex
	ins [][]float32
	shp [][4]int64
}

func (r *recorder) Run(in []float32, inShape [4]int64, out []float32, outShape [4]int64) error {
	r.mu.Lock()
	r.ins = append(r.ins, slices.Clone(in[:inShape[0]*inShape[1]*inShape[2]*inShape[3]]))
	r.shp = append(r.shp, inShape)
	r.mu.Unlock()
	return r.fakeRunner.Run(in, inShape, out, outShape)
}

// TestEnsemblePlainAndDerived: an ensemble of a plain model (red, green,
// nir, z-scored) and one with a derived input (red, green, nd(green,nir):
// bands fixed-normalised, the index not normalised) reads each band once;
// every member gets its own inputs, and the mask is the argmax of the
// members' mean logits.
func TestEnsemblePlainAndDerived(t *testing.T) {
	plain := testManifest(t, "plain", map[string]any{"normalization": map[string]any{"kind": "zscore"}})
	derived := testManifest(t, "derived", map[string]any{"bands": []string{"red", "green", "nd(green,nir)"},
		"normalization": map[string]any{"kind": "fixed", "mean": []float64{100, 200, 0}, "std": []float64{10, 20, 1}}})
	ra := &recorder{fakeRunner: &fakeRunner{net: fakeNets["pointwise.onnx"]}}
	rb := &recorder{fakeRunner: &fakeRunner{net: fakeNets["pointwise_b.onnx"]}}
	opts, err := Options{Threads: 2, BatchSize: 2}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	e, err := assemble(opts, []*model{
		{name: "plain", manifest: plain, input: dyn[:], run: ra},
		{name: "derived", manifest: derived, input: dyn[:], run: rb},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if !slices.Equal(e.layout.sources, []string{"red", "green", "nir"}) || len(e.layout.chans) != 6 {
		t.Fatalf("layout: sources %v, %d channels", e.layout.sources, len(e.layout.chans))
	}
	const W, H = 100, 90
	sc := raster.NewFloat32(3, image.Rect(0, 0, W, H))
	for i := range sc.Pix {
		sc.Pix[i] = float32(50 + (i*7919)%400)
	}
	sc.Set(0, 5, 5, 0) // green + nir = 0: nd undefined, the pixel is nodata
	sc.Set(2, 5, 5, 0)
	res, err := e.Predict(context.Background(), &Scene{Bands: sc, Names: []string{"nir", "red", "green"}}, Request{NoResample: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Plan.Derived) != 1 || res.Plan.Derived[0] != "nd(green,nir) = (green - nir) / (green + nir), not normalised" {
		t.Errorf("plan derived %q", res.Plan.Derived)
	}
	// Scene band order is nir, red, green: band for model band j.
	red, green, nir := sc.Pix[W*H:2*W*H], sc.Pix[2*W*H:], sc.Pix[:W*H]
	if len(ra.ins) == 0 || len(ra.ins) != len(rb.ins) {
		t.Fatalf("runs: %d and %d", len(ra.ins), len(rb.ins))
	}
	P := res.Plan.Patch
	for k := range rb.ins {
		if ra.shp[k][1] != 3 || rb.shp[k][1] != 3 {
			t.Fatalf("input shapes %v %v", ra.shp[k], rb.shp[k])
		}
	}
	// Every value the derived model saw in its third channel is an index of
	// some scene pixel, or the fill at the nodata pixel; its first channel
	// is red fixed-normalised.
	idx := map[float32]bool{0: true}
	reds := map[float32]bool{0: true}
	nd := make([]float32, W*H)
	preprocess.NormDiff(nd, green, nir, nil)
	for i := range nd {
		idx[nd[i]] = true
		reds[float32((float64(red[i])-100)/10)] = true
	}
	for k, in := range rb.ins {
		for s := range int(rb.shp[k][0]) {
			for p := range P * P {
				if v := in[(s*3+2)*P*P+p]; !idx[v] {
					t.Fatalf("run %d patch %d: channel 3 holds %v, not an index", k, s, v)
				}
				if v := in[(s*3)*P*P+p]; !reds[v] {
					t.Fatalf("run %d patch %d: channel 1 holds %v, not red fixed-normalised", k, s, v)
				}
			}
		}
	}
	if got := res.Mask.GrayAt(5, 5).Y; got != 255 {
		t.Errorf("pixel with green + nir = 0 is class %d, want nodata", got)
	}
	if res.ClassCounts[255] != 1 {
		t.Errorf("%d nodata pixels, want 1", res.ClassCounts[255])
	}
}

// TestDerivedUnits: with the scene's units known (Sentinel-2 baseline 04.00:
// reflectance = DN x 0.0001 - 0.1), the index is computed from reflectance,
// so the +1000 offset of the DNs does not bias it.
func TestDerivedUnits(t *testing.T) {
	m := testManifest(t, "nd", map[string]any{"bands": []string{"nd(green,nir)"}})
	lay, err := newLayout([]*models.Manifest{m})
	if err != nil {
		t.Fatal(err)
	}
	refl := [][2]float32{{0.06, 0.03}, {0.1, 0.3}, {0.05, 0.05}}
	in := raster.NewFloat32(2, image.Rect(0, 0, len(refl), 1))
	for i, r := range refl {
		in.Pix[i], in.Pix[len(refl)+i] = r[0]*10000+1000, r[1]*10000+1000
	}
	s2 := sensor.Units{Scale: 1e-4, Offset: -0.1}
	for _, c := range []struct {
		units []sensor.Units
		want  []float64
	}{
		{nil, []float64{(1600. - 1300) / 2900, (2000. - 4000) / 6000, 0}},
		{[]sensor.Units{s2, s2}, []float64{1. / 3, -0.5, 0}},
	} {
		dst := raster.NewFloat32(1, in.Rect)
		ds := &derivedSource{src: &memSource{in, []int{0, 1}}, l: lay, p: &Plan{NoData: raster.NoDataValue(0), Units: c.units}}
		if err := ds.Read(dst); err != nil {
			t.Fatal(err)
		}
		for i, w := range c.want {
			if math.Abs(float64(dst.Pix[i])-w) > 1e-5 {
				t.Errorf("units %v: pixel %d index %v, want %v", c.units, i, dst.Pix[i], w)
			}
		}
	}
}

package tta

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func plane(n int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 7))
	p := make([]float32, n*n)
	for i := range p {
		p[i] = rng.Float32()*10 - 5
	}
	return p
}

// Every transform, then its inverse, gives back the plane bit for bit, for
// odd and even sizes; the eight D4 transforms are distinct permutations.
func TestInverseRoundTrip(t *testing.T) {
	for _, n := range []int{1, 2, 3, 4, 7, 32, 33} {
		src := plane(n, uint64(n))
		seen := map[string]Transform{}
		for _, tr := range D4.Transforms() {
			fwd, back := make([]float32, n*n), make([]float32, n*n)
			tr.Apply(fwd, src, n)
			tr.Inverse().Apply(back, fwd, n)
			if !slices.Equal(back, src) {
				t.Fatalf("n=%d %v then %v is not the identity", n, tr, tr.Inverse())
			}
			if tr.Inverse().Inverse() != tr {
				t.Errorf("%v: inverse of the inverse is %v", tr, tr.Inverse().Inverse())
			}
			if n > 1 {
				key := string(fmt32(fwd))
				if prev, ok := seen[key]; ok {
					t.Errorf("n=%d: %v and %v permute the same way", n, prev, tr)
				}
				seen[key] = tr
			}
		}
	}
}

func fmt32(v []float32) []byte {
	b := make([]byte, 0, 4*len(v))
	for _, x := range v {
		b = append(b, byte(int(x*1000)), byte(int(x*1000)>>8))
	}
	return b
}

// The transforms are the ones their names say, on a 3 x 3 example.
func TestTransformsByExample(t *testing.T) {
	src := []float32{
		1, 2, 3,
		4, 5, 6,
		7, 8, 9,
	}
	for _, c := range []struct {
		t    Transform
		want []float32
	}{
		{Identity, src},
		{FlipX, []float32{3, 2, 1, 6, 5, 4, 9, 8, 7}},
		{FlipY, []float32{7, 8, 9, 4, 5, 6, 1, 2, 3}},
		{FlipX | FlipY, []float32{9, 8, 7, 6, 5, 4, 3, 2, 1}},
		{Transpose, []float32{1, 4, 7, 2, 5, 8, 3, 6, 9}},
		{Transpose | FlipX, []float32{7, 4, 1, 8, 5, 2, 9, 6, 3}}, // 90° clockwise
		{Transpose | FlipY, []float32{3, 6, 9, 2, 5, 8, 1, 4, 7}}, // 90° counter-clockwise
		{Transpose | FlipX | FlipY, []float32{9, 6, 3, 8, 5, 2, 7, 4, 1}},
	} {
		got := make([]float32, 9)
		c.t.Apply(got, src, 3)
		if !slices.Equal(got, c.want) {
			t.Errorf("%v: %v, want %v", c.t, got, c.want)
		}
	}
}

// AddTo adds exactly what Apply writes; Flips and D4 are closed under
// composition (groups), with the identity first.
func TestAddToAndGroups(t *testing.T) {
	const n = 9
	src, base := plane(n, 1), plane(n, 2)
	for _, tr := range D4.Transforms() {
		a, sum := make([]float32, n*n), slices.Clone(base)
		tr.Apply(a, src, n)
		tr.AddTo(sum, src, n)
		for i := range a {
			if sum[i] != base[i]+a[i] {
				t.Fatalf("%v: AddTo[%d] = %v, want %v", tr, i, sum[i], base[i]+a[i])
			}
		}
	}
	for _, m := range []Mode{None, Flips, D4} {
		ts := m.Transforms()
		if ts[0] != Identity || m.Calls() != len(ts) {
			t.Errorf("%v: transforms %v", m, ts)
		}
		// Composition as permutations: applying a then b is some member.
		for _, a := range ts {
			for _, b := range ts {
				x, y, z := make([]float32, n*n), make([]float32, n*n), make([]float32, n*n)
				a.Apply(x, src, n)
				b.Apply(y, x, n)
				found := false
				for _, c := range ts {
					c.Apply(z, src, n)
					found = found || slices.Equal(z, y)
				}
				if !found {
					t.Errorf("%v: %v then %v is not in the set", m, a, b)
				}
			}
		}
	}
	if Flips.Calls() != 4 || D4.Calls() != 8 || None.Calls() != 1 || Default.Calls() != 1 {
		t.Errorf("calls: none %d flips %d d4 %d", None.Calls(), Flips.Calls(), D4.Calls())
	}
}

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Mode
		ok   bool
	}{{"none", None, true}, {"Flips", Flips, true}, {"D4", D4, true}, {"", Default, true}, {" d4 ", D4, true},
		{"rot90", Default, false}, {"flip", Default, false}, {"8", Default, false}} {
		m, err := Parse(c.in)
		if (err == nil) != c.ok || m != c.want {
			t.Errorf("Parse(%q) = %v, %v", c.in, m, err)
		}
		if c.ok && c.in != "" && m.String() != c.want.String() {
			t.Errorf("%v: String %q", m, m.String())
		}
	}
	if Mode(9).Valid() || !D4.Valid() || Mode(9).String() != "Mode(9)" {
		t.Error("Valid/String of unknown modes")
	}
	if None.Or(D4) != None || Default.Or(Flips) != Flips {
		t.Error("Or")
	}
}

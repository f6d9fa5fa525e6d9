package embed

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

// halfValue decodes binary16 bits: the reference RoundHalf is checked
// against (written from the format's definition, not from RoundHalf).
func halfValue(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp, man := int(h>>10)&0x1f, float64(h&0x3ff)
	switch exp {
	case 0:
		return sign * math.Ldexp(man, -24)
	case 0x1f:
		if man != 0 {
			return math.NaN()
		}
		return sign * math.Inf(1)
	}
	return sign * math.Ldexp(1024+man, exp-25)
}

// TestRoundHalfCases: values whose float16 conversion is known (numpy:
// np.float32(x).astype(np.float16)), one per edge of the format.
func TestRoundHalfCases(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in, out float32
	}{
		{"zero", 0, 0},
		{"one", 1, 1},
		{"exact half value", 0.333251953125, 0.333251953125},
		{"tie to even: 1 + 2^-11 down to 1", 1 + 0x1p-11, 1},
		{"tie to even: 1 + 3*2^-11 up to 1 + 2^-9", 1 + 3*0x1p-11, 1 + 0x1p-9},
		{"just above a tie rounds up", 1 + 0x1p-11 + 0x1p-23, 1 + 0x1p-10},
		{"0.1", 0.1, 0.0999755859375},
		{"pi", math.Pi, 3.140625},
		{"2048 + 1: tie down to 2048", 2049, 2048},
		{"2048 + 3: tie up to 2052", 2051, 2052},
		{"largest finite 65504", 65504, 65504},
		{"65519.996 rounds down to 65504", 65519.996, 65504},
		{"65520 (tie) overflows to +Inf", 65520, float32(math.Inf(1))},
		{"-65520 overflows to -Inf", -65520, float32(math.Inf(-1))},
		{"1e10 to +Inf", 1e10, float32(math.Inf(1))},
		{"+Inf", float32(math.Inf(1)), float32(math.Inf(1))},
		{"-Inf", float32(math.Inf(-1)), float32(math.Inf(-1))},
		{"smallest normal 2^-14", 0x1p-14, 0x1p-14},
		{"largest subnormal 1023*2^-24", 1023 * 0x1p-24, 1023 * 0x1p-24},
		{"between subnormals: 2.5*2^-24 ties to 2*2^-24", 2.5 * 0x1p-24, 2 * 0x1p-24},
		{"between subnormals: 3.5*2^-24 ties to 4*2^-24", 3.5 * 0x1p-24, 4 * 0x1p-24},
		{"smallest subnormal 2^-24", 0x1p-24, 0x1p-24},
		{"2^-25 (tie) to 0", 0x1p-25, 0},
		{"just above 2^-25 to 2^-24", 0x1p-25 + 0x1p-48, 0x1p-24},
		{"1e-8 to 0", 1e-8, 0},
		{"float32 subnormal to 0", 0x1p-140, 0},
		{"-1e-8 to -0", -1e-8, float32(math.Copysign(0, -1))},
		{"negative", -1.0009765625, -1.0009765625},
		{"-(1 + 2^-11) to -1", -(1 + 0x1p-11), -1},
	} {
		got := RoundHalf(tc.in)
		if math.Float32bits(got) != math.Float32bits(tc.out) {
			t.Errorf("%s: RoundHalf(%g) = %g (%#x), want %g (%#x)", tc.name, tc.in, got, math.Float32bits(got), tc.out, math.Float32bits(tc.out))
		}
	}
	for _, nan := range []float32{float32(math.NaN()), math.Float32frombits(0xffc00001), math.Float32frombits(0x7f800001)} {
		if got := RoundHalf(nan); got == got {
			t.Errorf("RoundHalf(NaN %#x) = %g, want NaN", math.Float32bits(nan), got)
		}
	}
}

// TestRoundHalfAll checks every finite half value, the float32 midpoints
// between neighbouring half values and the float32 values either side of
// each midpoint, against the decoded binary16 table.
func TestRoundHalfAll(t *testing.T) {
	var vals []float64 // every non-negative finite half value, ascending
	for h := range uint16(0x7c00) {
		vals = append(vals, halfValue(h))
	}
	if !sort.Float64sAreSorted(vals) || vals[len(vals)-1] != 65504 {
		t.Fatal("bad binary16 table")
	}
	check := func(x float32, want float64) {
		t.Helper()
		for _, s := range []float32{1, -1} {
			got := RoundHalf(s * x)
			if float64(got) != float64(s)*want || math.Signbit(float64(got)) != (s < 0) {
				t.Fatalf("RoundHalf(%g) = %g, want %g", s*x, got, float64(s)*want)
			}
		}
	}
	for i, v := range vals {
		check(float32(v), v)
		if i == 0 {
			continue
		}
		lo, hi := vals[i-1], v
		mid := float32((lo + hi) / 2) // exact: half values have 11 bits
		even := lo
		if int(math.Round(lo/(hi-lo)))%2 != 0 {
			even = hi
		}
		if lo == 0 {
			even = 0
		}
		check(mid, even)
		check(math.Nextafter32(mid, 0), lo)
		check(math.Nextafter32(mid, 1e9), hi)
	}
	// random float32 values: the nearest table value, ties to even mantissa
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		x := math.Float32frombits(rng.Uint32() & 0x477fffff) // |x| < 65536, any exponent below
		if x != x {
			continue
		}
		a := math.Abs(float64(x))
		j := sort.SearchFloat64s(vals, a)
		if j == len(vals) {
			continue
		}
		want := vals[j]
		if j > 0 && a-vals[j-1] < vals[j]-a {
			want = vals[j-1]
		}
		if j > 0 && a-vals[j-1] == vals[j]-a && (j-1)%2 == 0 {
			want = vals[j-1] // index parity is mantissa parity
		}
		got := RoundHalf(float32(a))
		if float64(got) != want {
			t.Fatalf("RoundHalf(%g) = %g, want %g", a, got, want)
		}
	}
}

package embed

import (
	"fmt"
	"math"
)

// DType values of Options.DType and DenseOptions.DType.
const (
	Float32 = "float32"
	// Float16 rounds every value to IEEE 754 half precision. GDAL 3.6 has
	// no Float16 data type: the values are stored in a Float32 GeoTIFF
	// (each one exactly a half-precision value) and the sidecar says
	// "dtype": "float16".
	Float16 = "float16"
)

// float16Note is what the sidecar says about float16 storage.
const float16Note = "values rounded to IEEE 754 half precision (round to nearest even), stored as Float32: GDAL 3.6 has no Float16 data type"

// checkDType validates a dtype option; "" is float32.
func checkDType(dt string) (string, error) {
	switch dt {
	case "", Float32:
		return Float32, nil
	case Float16:
		return Float16, nil
	}
	return "", fmt.Errorf("embed: dtype %q: want float32 or float16", dt)
}

// RoundHalf rounds f to the nearest IEEE 754 half-precision (binary16)
// value, ties to even, as numpy's float32 -> float16 conversion does:
// magnitudes from 65520 up become ±Inf, magnitudes up to 2^-25 become ±0,
// subnormal halves (multiples of 2^-24 below 2^-14) are kept, and NaN stays
// NaN. The result is returned as the float32 holding that value exactly.
func RoundHalf(f float32) float32 {
	a := math.Abs(float64(f))
	switch {
	case a != a: // NaN
		return f
	case a >= 65520: // halfway between 65504 and 2^16 and beyond: ties to even = Inf
		return float32(math.Copysign(math.Inf(1), float64(f)))
	}
	var q float64 // the spacing of half values around a
	if a < 0x1p-14 {
		q = 0x1p-24 // subnormal halves
	} else {
		_, e := math.Frexp(a) // a in [2^(e-1), 2^e): 11 significant bits
		q = math.Ldexp(1, e-11)
	}
	// a/q and the product are exact in float64: q is a power of two.
	return float32(math.Copysign(math.RoundToEven(a/q)*q, float64(f)))
}

// roundHalf rounds every value of v in place.
func roundHalf(v []float32) {
	for i, x := range v {
		v[i] = RoundHalf(x)
	}
}

// setDType records the output's dtype in the sidecar.
func (sc *Sidecar) setDType(dt string) {
	sc.DType = dt
	if dt == Float16 {
		sc.DTypeNote = float16Note
	}
}

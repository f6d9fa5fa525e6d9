package preprocess

import (
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/omnimask/omnimask/raster"
)

// vectorsPaths are where the Python-generated reference vectors may live
// (models/train/gen_zscore_vectors.py writes the repository-level one).
var vectorsPaths = []string{
	filepath.Join("..", "testdata", "zscore", "vectors.json"),
	filepath.Join("testdata", "zscore", "vectors.json"),
}

// jsonFloat is a number, or one of the strings "NaN", "Inf", "+Inf", "-Inf"
// (JSON has no non-finite numbers).
type jsonFloat float64

func (f *jsonFloat) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		switch s {
		case "NaN", "nan":
			*f = jsonFloat(math.NaN())
		case "Inf", "+Inf", "inf", "Infinity":
			*f = jsonFloat(math.Inf(1))
		case "-Inf", "-inf", "-Infinity":
			*f = jsonFloat(math.Inf(-1))
		default:
			return fmt.Errorf("unknown number string %q", s)
		}
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = jsonFloat(v)
	return nil
}

type zscoreVector struct {
	Name       string      `json:"name"`
	C          int         `json:"c"`
	H          int         `json:"h"`
	W          int         `json:"w"`
	NoData     *jsonFloat  `json:"nodata"`
	NoDataFill *jsonFloat  `json:"nodata_fill"`
	Input      []jsonFloat `json:"input"`
	Expected   []jsonFloat `json:"expected"`
}

// loadVectors reads the vectors file, which is either a list of cases or an
// object with a "cases" list.
func loadVectors(t *testing.T) ([]zscoreVector, string) {
	t.Helper()
	for _, p := range vectorsPaths {
		data, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var list []zscoreVector
		if err := json.Unmarshal(data, &list); err == nil {
			return list, p
		}
		var obj struct {
			Cases []zscoreVector `json:"cases"`
		}
		if err := json.Unmarshal(data, &obj); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		return obj.Cases, p
	}
	t.Skipf("no z-score reference vectors at %v; generate them with models/train/gen_zscore_vectors.py", vectorsPaths)
	return nil, ""
}

// TestZScoreVectors checks Valid + ZScore against vectors computed by the
// Python reference (models/train/zscore.py) used in training.
func TestZScoreVectors(t *testing.T) {
	cases, path := loadVectors(t)
	if len(cases) == 0 {
		t.Fatalf("%s holds no cases", path)
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			n := tc.C * tc.H * tc.W
			if tc.C <= 0 || tc.H <= 0 || tc.W <= 0 || len(tc.Input) != n || len(tc.Expected) != n {
				t.Fatalf("malformed case: c=%d h=%d w=%d, %d inputs, %d expected", tc.C, tc.H, tc.W, len(tc.Input), len(tc.Expected))
			}
			r := image.Rect(0, 0, tc.W, tc.H)
			m := raster.NewFloat32(tc.C, r)
			for i, v := range tc.Input {
				m.Pix[i] = float32(v)
			}
			var nd raster.NoData
			if tc.NoData != nil {
				nd = raster.NoDataValue(float64(*tc.NoData))
			}
			var fill float32
			if tc.NoDataFill != nil {
				fill = float32(*tc.NoDataFill)
			}
			v := raster.NewMask(r)
			Valid(v, m, nd)
			ZScore(m, v, fill)
			bad := 0
			for i, e := range tc.Expected {
				want := float32(e)
				if got := m.Pix[i]; !close32(got, want, 1e-5) {
					c, y, x := i/(tc.H*tc.W), i/tc.W%tc.H, i%tc.W
					t.Errorf("channel %d (x %d, y %d): got %v, want %v (input %v, valid %v)", c, x, y, got, want, float32(tc.Input[i]), v.Valid(x, y))
					if bad++; bad == 10 {
						t.Fatal("too many mismatches")
					}
				}
			}
		})
	}
}

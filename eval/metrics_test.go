package eval

import (
	"encoding/json"
	"image"
	"math"
	"testing"
)

var nan = math.NaN()

// want is a hand-computed expectation; NaN means undefined.
type wantGroup struct {
	tp, fp, fn, tn                        int64
	precision, recall, spec, f1, iou, boa float64
}

func TestMetricsHandComputed(t *testing.T) {
	tests := []struct {
		name                string
		groups              []string
		counts              [][]int64
		ignored             int64
		pixels, predNoData  int64
		accuracy, kappa, mb float64
		want                []wantGroup
	}{
		{
			// OA 85/100; pe = .6*.55 + .4*.45 = .51; kappa = .34/.49.
			name:   "binary",
			groups: []string{"clear", "cloud"},
			counts: [][]int64{{50, 10, 0}, {5, 35, 0}},
			pixels: 100, accuracy: 0.85, kappa: 0.34 / 0.49, mb: (50.0/60 + 35.0/40) / 2,
			want: []wantGroup{
				{50, 5, 10, 35, 50.0 / 55, 50.0 / 60, 35.0 / 40, 100.0 / 115, 50.0 / 65, (50.0/60 + 35.0/40) / 2},
				{35, 10, 5, 50, 35.0 / 45, 35.0 / 40, 50.0 / 60, 70.0 / 85, 35.0 / 50, (35.0/40 + 50.0/60) / 2},
			},
		},
		{
			// Shadow is absent from the reference (recall and BOA undefined)
			// but predicted once; two cloud pixels are predicted nodata and
			// count as cloud misses. OA 14/20; rows 10,10,0; cols 10,7,1
			// (+2 nodata); pe = .5*.5 + .5*.35 = .425.
			name:    "empty class and predicted nodata",
			groups:  []string{"clear", "cloud", "shadow"},
			counts:  [][]int64{{8, 1, 1, 0}, {2, 6, 0, 2}, {0, 0, 0, 0}},
			ignored: 7, pixels: 20, predNoData: 2,
			accuracy: 0.7, kappa: 0.275 / 0.575, mb: (0.8 + 0.75) / 2,
			want: []wantGroup{
				{8, 2, 2, 8, 0.8, 0.8, 0.8, 0.8, 8.0 / 12, 0.8},
				{6, 1, 4, 9, 6.0 / 7, 0.6, 0.9, 12.0 / 17, 6.0 / 11, 0.75},
				{0, 1, 0, 19, 0, nan, 19.0 / 20, 0, 0, nan},
			},
		},
		{
			name:    "all ignored",
			groups:  []string{"clear", "cloud"},
			counts:  [][]int64{{0, 0, 0}, {0, 0, 0}},
			ignored: 65536, accuracy: nan, kappa: nan, mb: nan,
			want: []wantGroup{
				{0, 0, 0, 0, nan, nan, nan, nan, nan, nan},
				{0, 0, 0, 0, nan, nan, nan, nan, nan, nan},
			},
		},
		{
			// One class everywhere, all right: kappa is 0/0, and neither
			// group has both positives and negatives.
			name:   "single class perfect",
			groups: []string{"clear", "cloud"},
			counts: [][]int64{{10, 0, 0}, {0, 0, 0}},
			pixels: 10, accuracy: 1, kappa: nan, mb: nan,
			want: []wantGroup{
				{10, 0, 0, 0, 1, 1, nan, 1, 1, nan},
				{0, 0, 0, 10, nan, nan, 1, nan, nan, nan},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewConfusion(len(tt.groups))
			// Build the matrix through Add, as scoring does.
			for r, row := range tt.counts {
				for p, n := range row {
					pred := p
					if p == len(tt.groups) {
						pred = -1
					}
					for range n {
						c.Add(r, pred)
					}
				}
			}
			c.Ignored = tt.ignored
			m := c.Metrics(tt.groups)
			if m.Pixels != tt.pixels || m.Ignored != tt.ignored || m.PredNoData != tt.predNoData {
				t.Errorf("pixels/ignored/pred nodata = %d/%d/%d, want %d/%d/%d", m.Pixels, m.Ignored, m.PredNoData, tt.pixels, tt.ignored, tt.predNoData)
			}
			near(t, "accuracy", m.Accuracy, tt.accuracy)
			near(t, "kappa", m.Kappa, tt.kappa)
			near(t, "mean BOA", m.MeanBOA, tt.mb)
			for g, w := range tt.want {
				gm := m.Groups[g]
				if gm.TP != w.tp || gm.FP != w.fp || gm.FN != w.fn || gm.TN != w.tn {
					t.Errorf("%s: TP/FP/FN/TN = %d/%d/%d/%d, want %d/%d/%d/%d", gm.Name, gm.TP, gm.FP, gm.FN, gm.TN, w.tp, w.fp, w.fn, w.tn)
				}
				near(t, gm.Name+" precision", gm.Precision, w.precision)
				near(t, gm.Name+" recall", gm.Recall, w.recall)
				near(t, gm.Name+" specificity", gm.Specificity, w.spec)
				near(t, gm.Name+" F1", gm.F1, w.f1)
				near(t, gm.Name+" IoU", gm.IoU, w.iou)
				near(t, gm.Name+" BOA", gm.BOA, w.boa)
			}
		})
	}
}

func near(t *testing.T, what string, got Num, want float64) {
	t.Helper()
	if math.IsNaN(want) {
		if got.Valid() {
			t.Errorf("%s = %v, want undefined", what, float64(got))
		}
		return
	}
	if !got.Valid() || math.Abs(float64(got)-want) > 1e-12 {
		t.Errorf("%s = %v, want %v", what, float64(got), want)
	}
}

func TestConfusionMerge(t *testing.T) {
	a, b := NewConfusion(2), NewConfusion(2)
	a.Add(0, 0)
	a.Ignored = 3
	b.Add(1, -1)
	b.Add(1, 0)
	b.Ignored = 2
	a.Merge(b)
	want := [][]int64{{1, 0, 0}, {1, 0, 1}}
	for r := range want {
		for p := range want[r] {
			if a.Counts[r][p] != want[r][p] {
				t.Fatalf("merged counts %v, want %v", a.Counts, want)
			}
		}
	}
	if a.Ignored != 5 {
		t.Errorf("ignored %d, want 5", a.Ignored)
	}
}

func TestNumJSON(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   Num
		text string
	}{{"defined", 0.25, "0.25"}, {"NaN", Num(nan), "null"}, {"Inf", Num(math.Inf(1)), "null"}} {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.in)
			if err != nil || string(b) != tt.text {
				t.Fatalf("Marshal = %s, %v; want %s", b, err, tt.text)
			}
			var back Num
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if back.Valid() != tt.in.Valid() || (back.Valid() && back != tt.in) {
				t.Errorf("round trip %v -> %v", tt.in, back)
			}
			if !tt.in.Valid() && tt.in.Format(2, "—") != "—" {
				t.Errorf("Format of undefined = %q", tt.in.Format(2, "—"))
			}
		})
	}
}

// TestScore checks the class -> group mapping, ignored reference pixels and
// predicted nodata on a hand-made 4x2 scene.
func TestScore(t *testing.T) {
	sc := &scorer{names: []string{"clear", "cloud"}}
	for i := range sc.classGroup {
		sc.classGroup[i] = -1
	}
	sc.classGroup[0], sc.classGroup[3] = 0, 0 // shadow scored as clear
	sc.classGroup[1], sc.classGroup[2] = 1, 1
	ref := image.NewGray(image.Rect(0, 0, 4, 2))
	copy(ref.Pix, []uint8{0, 0, 1, 255, 1, 1, 0, 255})
	pred := image.NewGray(image.Rect(0, 0, 4, 2))
	copy(pred.Pix, []uint8{3, 2, 2, 0, 255, 1, 0, 1})
	c := sc.score(ref, pred)
	want := [][]int64{{2, 1, 0}, {0, 2, 1}}
	for r := range want {
		for p := range want[r] {
			if c.Counts[r][p] != want[r][p] {
				t.Fatalf("counts %v, want %v", c.Counts, want)
			}
		}
	}
	if c.Ignored != 2 {
		t.Errorf("ignored %d, want 2", c.Ignored)
	}
}

package eval

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// Num is a metric value; NaN means undefined (e.g. the recall of a group
// absent from the reference). It is written as null in JSON.
type Num float64

// Valid reports whether the value is defined.
func (n Num) Valid() bool { return !math.IsNaN(float64(n)) && !math.IsInf(float64(n), 0) }

// MarshalJSON writes undefined values as null.
func (n Num) MarshalJSON() ([]byte, error) {
	if !n.Valid() {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, float64(n), 'g', -1, 64), nil
}

// UnmarshalJSON reads null as NaN.
func (n *Num) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		*n = Num(math.NaN())
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*n = Num(f)
	return nil
}

// Format writes the value with the given decimals, or dash when undefined.
func (n Num) Format(decimals int, dash string) string {
	if !n.Valid() {
		return dash
	}
	return strconv.FormatFloat(float64(n), 'f', decimals, 64)
}

func ratio(a, b int64) Num {
	if b == 0 {
		return Num(math.NaN())
	}
	return Num(float64(a) / float64(b))
}

// Confusion is a confusion matrix over scoring groups. Counts[r][p] counts
// pixels of reference group r predicted as group p; the extra last column
// counts valid reference pixels the model left as nodata, which are scored
// as misses.
type Confusion struct {
	Counts  [][]int64 `json:"counts"`
	Ignored int64     `json:"ignored"` // reference pixels that are nodata or unmapped
}

// NewConfusion returns an empty matrix for n groups.
func NewConfusion(n int) *Confusion {
	c := &Confusion{Counts: make([][]int64, n)}
	for i := range c.Counts {
		c.Counts[i] = make([]int64, n+1)
	}
	return c
}

// Groups returns the number of groups.
func (c *Confusion) Groups() int { return len(c.Counts) }

// Add counts a pixel of reference group ref predicted as group pred; pred
// < 0 means the prediction is nodata.
func (c *Confusion) Add(ref, pred int) {
	if pred < 0 {
		pred = len(c.Counts)
	}
	c.Counts[ref][pred]++
}

// Merge adds the counts of o, which must have as many groups.
func (c *Confusion) Merge(o *Confusion) {
	for r := range c.Counts {
		for p := range c.Counts[r] {
			c.Counts[r][p] += o.Counts[r][p]
		}
	}
	c.Ignored += o.Ignored
}

// Metrics are the scores derived from a confusion matrix.
type Metrics struct {
	Pixels     int64 `json:"pixels"`      // valid reference pixels scored
	Ignored    int64 `json:"ignored"`     // reference nodata or unmapped pixels
	PredNoData int64 `json:"pred_nodata"` // valid reference pixels predicted nodata (misses)
	Accuracy   Num   `json:"accuracy"`
	Kappa      Num   `json:"kappa"`
	// MeanBOA is the mean of the groups' defined BOA values.
	MeanBOA Num            `json:"mean_boa"`
	Groups  []GroupMetrics `json:"groups"`
}

// GroupMetrics score one group against all others. BOA is the balanced
// overall accuracy (TPR + TNR) / 2; it is undefined when the reference has
// no pixels of the group or only pixels of the group.
type GroupMetrics struct {
	Name        string `json:"name"`
	Reference   int64  `json:"reference"` // reference pixels of the group
	Predicted   int64  `json:"predicted"` // predictions of the group on valid reference pixels
	TP          int64  `json:"tp"`
	FP          int64  `json:"fp"`
	FN          int64  `json:"fn"` // includes predicted nodata
	TN          int64  `json:"tn"`
	Precision   Num    `json:"precision"`
	Recall      Num    `json:"recall"`      // TPR
	Specificity Num    `json:"specificity"` // TNR
	F1          Num    `json:"f1"`
	IoU         Num    `json:"iou"`
	BOA         Num    `json:"boa"`
}

// Metrics computes the scores; names label the groups.
func (c *Confusion) Metrics(names []string) Metrics {
	n := c.Groups()
	if len(names) != n {
		panic(fmt.Sprintf("eval: %d names for %d groups", len(names), n))
	}
	m := Metrics{Ignored: c.Ignored}
	rows := make([]int64, n)
	cols := make([]int64, n+1)
	var diag int64
	for r := range n {
		for p, v := range c.Counts[r] {
			rows[r] += v
			cols[p] += v
		}
		diag += c.Counts[r][r]
	}
	for _, v := range rows {
		m.Pixels += v
	}
	m.PredNoData = cols[n]
	m.Accuracy = ratio(diag, m.Pixels)
	m.Kappa = Num(math.NaN())
	if m.Pixels > 0 {
		// The nodata column has no matching row: it adds to disagreement only.
		N := float64(m.Pixels)
		var pe float64
		for g := range n {
			pe += float64(rows[g]) / N * float64(cols[g]) / N
		}
		if pe < 1 {
			m.Kappa = Num((float64(m.Accuracy) - pe) / (1 - pe))
		}
	}
	var sum float64
	var defined int
	for g := range n {
		tp := c.Counts[g][g]
		gm := GroupMetrics{Name: names[g], Reference: rows[g], Predicted: cols[g], TP: tp,
			FP: cols[g] - tp, FN: rows[g] - tp}
		gm.TN = m.Pixels - tp - gm.FP - gm.FN
		gm.Precision = ratio(tp, cols[g])
		gm.Recall = ratio(tp, rows[g])
		gm.Specificity = ratio(gm.TN, gm.TN+gm.FP)
		gm.F1 = ratio(2*tp, 2*tp+gm.FP+gm.FN)
		gm.IoU = ratio(tp, tp+gm.FP+gm.FN)
		gm.BOA = (gm.Recall + gm.Specificity) / 2 // NaN if either is
		if gm.BOA.Valid() {
			sum += float64(gm.BOA)
			defined++
		}
		m.Groups = append(m.Groups, gm)
	}
	m.MeanBOA = Num(math.NaN())
	if defined > 0 {
		m.MeanBOA = Num(sum / float64(defined))
	}
	return m
}

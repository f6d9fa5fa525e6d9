package probe

import (
	"fmt"
	"sort"
)

// Report is a cross-validated evaluation.
type Report struct {
	Folds     int
	N         int
	Accuracy  float64
	F1        []float64 // per class
	Confusion [][]int   // [true][predicted]
}

// CrossValidate fits a probe on all groups but one and predicts the held-out
// group, for each group (leave-one-group-out: samples of one scene or patch
// never train the probe that predicts them) when k is 0, else on k folds of
// whole groups (groups assigned to folds in sorted order, round robin).
func CrossValidate(x [][]float64, y []int, groups []string, classes []string, lambda float64, k int) (*Report, error) {
	var names []string
	seen := map[string]bool{}
	for _, g := range groups {
		if !seen[g] {
			seen[g] = true
			names = append(names, g)
		}
	}
	sort.Strings(names)
	if k == 0 || k > len(names) {
		k = len(names)
	}
	if k < 2 {
		return nil, fmt.Errorf("probe: %d groups, need at least 2 to cross-validate", len(names))
	}
	fold := map[string]int{}
	for i, g := range names {
		fold[g] = i % k
	}
	K := len(classes)
	r := &Report{Folds: k, N: len(x), Confusion: make([][]int, K)}
	for i := range r.Confusion {
		r.Confusion[i] = make([]int, K)
	}
	for f := range k {
		var tx [][]float64
		var ty []int
		for i := range x {
			if fold[groups[i]] != f {
				tx, ty = append(tx, x[i]), append(ty, y[i])
			}
		}
		p, err := Fit(tx, ty, classes, lambda)
		if err != nil {
			return nil, fmt.Errorf("fold %d: %w", f, err)
		}
		for i := range x {
			if fold[groups[i]] == f {
				r.Confusion[y[i]][p.Class(x[i])]++
			}
		}
	}
	correct := 0
	r.F1 = make([]float64, K)
	for c := range K {
		correct += r.Confusion[c][c]
		var tp, fp, fn float64
		tp = float64(r.Confusion[c][c])
		for o := range K {
			if o != c {
				fp += float64(r.Confusion[o][c])
				fn += float64(r.Confusion[c][o])
			}
		}
		if tp > 0 {
			r.F1[c] = 2 * tp / (2*tp + fp + fn)
		}
	}
	r.Accuracy = float64(correct) / float64(len(x))
	return r, nil
}

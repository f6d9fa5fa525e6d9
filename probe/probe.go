// Package probe fits and applies a light classifier on embeddings:
// multinomial logistic regression with an L2 penalty, fitted with gonum's
// L-BFGS (gonum.org/v1/gonum/optimize), on standardised features.
package probe

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/optimize"
)

// Probe is a fitted classifier. Mean and Std standardise the features
// (x - mean) / std before the linear map; W holds, per class, D weights and
// a bias (not penalised).
type Probe struct {
	Encoder string      `json:"encoder,omitempty"` // what produced the features (sidecar encoder name + version)
	Classes []string    `json:"classes"`
	Lambda  float64     `json:"lambda"`
	Mean    []float64   `json:"mean"`
	Std     []float64   `json:"std"`
	W       [][]float64 `json:"weights"` // K x (D+1), bias last
}

// Fit fits a probe to the rows of x (n x D) with labels y (0..len(classes)-1)
// and L2 penalty lambda on the mean log loss.
func Fit(x [][]float64, y []int, classes []string, lambda float64) (*Probe, error) {
	n, K := len(x), len(classes)
	if n == 0 || len(y) != n {
		return nil, fmt.Errorf("probe: %d samples, %d labels", n, len(y))
	}
	if K < 2 {
		return nil, errors.New("probe: need at least 2 classes")
	}
	if !(lambda >= 0 && lambda <= math.MaxFloat64) {
		return nil, fmt.Errorf("probe: L2 penalty %g: want a finite number >= 0", lambda)
	}
	D := len(x[0])
	p := &Probe{Classes: classes, Lambda: lambda, Mean: make([]float64, D), Std: make([]float64, D)}
	for _, r := range x {
		if len(r) != D {
			return nil, fmt.Errorf("probe: rows of %d and %d features", D, len(r))
		}
		for j, v := range r {
			p.Mean[j] += v
		}
	}
	for j := range p.Mean {
		p.Mean[j] /= float64(n)
	}
	for _, r := range x {
		for j, v := range r {
			d := v - p.Mean[j]
			p.Std[j] += d * d
		}
	}
	for j := range p.Std {
		p.Std[j] = math.Sqrt(p.Std[j] / float64(n))
		if p.Std[j] == 0 {
			p.Std[j] = 1
		}
	}
	z := make([][]float64, n)
	for i, r := range x {
		z[i] = p.standardise(r)
		if y[i] < 0 || y[i] >= K {
			return nil, fmt.Errorf("probe: label %d outside 0..%d", y[i], K-1)
		}
	}
	P := D + 1
	prob := make([]float64, K)
	rows := make([][]float64, K)
	fg := func(w, grad []float64) float64 {
		clear(grad)
		for k := range rows {
			rows[k] = w[k*P : (k+1)*P]
		}
		var loss float64
		for i, r := range z {
			softmax(prob, rows, r)
			loss -= math.Log(max(prob[y[i]], 1e-300))
			if grad == nil {
				continue
			}
			for k := range K {
				g := prob[k]
				if k == y[i] {
					g--
				}
				row := grad[k*P : (k+1)*P]
				for j, v := range r {
					row[j] += g * v
				}
				row[D] += g
			}
		}
		loss /= float64(n)
		for k := range K {
			for j := range D {
				v := w[k*P+j]
				loss += 0.5 * lambda * v * v
			}
		}
		if grad != nil {
			for k := range K {
				for j := range P {
					grad[k*P+j] /= float64(n)
					if j < D {
						grad[k*P+j] += lambda * w[k*P+j]
					}
				}
			}
		}
		return loss
	}
	problem := optimize.Problem{
		Func: func(w []float64) float64 { return fg(w, nil) },
		Grad: func(grad, w []float64) { fg(w, grad) },
	}
	res, err := optimize.Minimize(problem, make([]float64, K*P), &optimize.Settings{GradientThreshold: 1e-6, MajorIterations: 500}, &optimize.LBFGS{})
	if err != nil && res == nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	p.W = make([][]float64, K)
	for k := range K {
		p.W[k] = append([]float64(nil), res.X[k*P:(k+1)*P]...)
	}
	return p, nil
}

func (p *Probe) standardise(r []float64) []float64 {
	z := make([]float64, len(r))
	for j, v := range r {
		z[j] = (v - p.Mean[j]) / p.Std[j]
	}
	return z
}

// softmax writes the class probabilities of standardised features z under
// the weights w (per class, D weights and a bias, as Probe.W) into prob.
func softmax(prob []float64, w [][]float64, z []float64) {
	top := math.Inf(-1)
	for k, row := range w[:len(prob)] {
		s := row[len(z)]
		for j, v := range z {
			s += row[j] * v
		}
		prob[k] = s
		top = max(top, s)
	}
	var sum float64
	for k := range prob {
		prob[k] = math.Exp(prob[k] - top)
		sum += prob[k]
	}
	for k := range prob {
		prob[k] /= sum
	}
}

// Predict returns the class probabilities of one feature vector.
func (p *Probe) Predict(x []float64) []float64 {
	prob := make([]float64, len(p.W))
	softmax(prob, p.W, p.standardise(x))
	return prob
}

// Class returns the most probable class of x.
func (p *Probe) Class(x []float64) int {
	best, bi := -1.0, 0
	for k, v := range p.Predict(x) {
		if v > best {
			best, bi = v, k
		}
	}
	return bi
}

package eval

import (
	"errors"
	"fmt"
	"slices"
)

// Merge joins the reports of a run evaluated in parts — parts[i] is what
// Evaluate returns for a Run holding some of run's scenes, the parts in the
// run's scene order — into the report Evaluate gives for the whole run: the
// same scene results in the same order and the same aggregates. Per-scene
// metrics are recomputed from the confusion matrices as Evaluate computes
// them, so parts may have travelled as JSON. Used by omnimask-batch eval,
// which scores scenes on many workers.
func Merge(run *Run, parts []*Report) (*Report, error) {
	if len(parts) == 0 {
		return nil, errors.New("eval: merge: no reports")
	}
	p0 := parts[0]
	rep := &Report{Run: run.Name, RunFile: run.Path, Description: run.Description,
		Models: p0.Models, Product: run.Product, Groups: run.Groups, Steps: p0.Steps, Method: Method}
	names := rep.names()
	for i, p := range parts {
		if !slices.Equal(p.Models, p0.Models) || !slices.Equal(p.Steps, p0.Steps) {
			return nil, fmt.Errorf("eval: merge: part %d was evaluated with other models or steps", i)
		}
		for _, s := range p.Scenes {
			if s.Confusion != nil {
				if s.Confusion.Groups() != len(names) {
					return nil, fmt.Errorf("eval: merge: part %d: scene %s has %d groups, the run %d", i, s.Scene, s.Confusion.Groups(), len(names))
				}
				m := s.Confusion.Metrics(names)
				s.Metrics = &m
			}
			rep.Scenes = append(rep.Scenes, s)
		}
	}
	rep.aggregate()
	return rep, nil
}

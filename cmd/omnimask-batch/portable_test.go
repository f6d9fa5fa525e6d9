package main

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/graphx"

	"github.com/omnimask/omnimask/batch"
)

// Beam's standard transforms every portable runner (Flink, Spark,
// Dataflow, Prism) executes.
var portableURNs = map[string]bool{
	"beam:transform:impulse:v1":         true,
	"beam:transform:pardo:v1":           true,
	"beam:transform:group_by_key:v1":    true,
	"beam:transform:combine_per_key:v1": true,
	"beam:transform:reshuffle:v1":       true,
	"beam:transform:flatten:v1":         true,
	"beam:transform:window_into:v1":     true,
}

// The batch and eval pipelines use only Beam's standard transforms (no
// runner-specific ones), so the same pipeline runs on any portable runner.
func TestPipelinesArePortable(t *testing.T) {
	for name, p := range map[string]*beam.Pipeline{
		"batch": buildPipeline([]batch.Item{{Scene: "a.tif", Output: "a_omnimask.tif"}}, Config{Parallel: 1}, "/tmp"),
		"eval":  buildEvalPipeline(3, EvalConfig{}),
	} {
		edges, _, err := p.Build()
		if err != nil {
			t.Fatal(err)
		}
		pb, err := graphx.Marshal(edges, &graphx.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var urns []string
		for _, tr := range pb.GetComponents().GetTransforms() {
			if u := tr.GetSpec().GetUrn(); u != "" {
				urns = append(urns, u)
				if !portableURNs[u] {
					t.Errorf("%s: transform %q uses %s, not one of Beam's standard transforms", name, tr.GetUniqueName(), u)
				}
			}
		}
		sort.Strings(urns)
		t.Logf("%s: %s", name, strings.Join(urns, " "))
		for _, want := range []string{"beam:transform:reshuffle:v1", "beam:transform:combine_per_key:v1"} {
			if !slices.Contains(urns, want) {
				t.Errorf("%s: no %s in the pipeline", name, want)
			}
		}
	}
}

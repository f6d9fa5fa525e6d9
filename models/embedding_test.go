package models

import (
	"errors"
	"strings"
	"testing"
)

func TestEmbeddingManifest(t *testing.T) {
	const base = `"name":"e","version":"1","bands":["red","green","blue"],"normalization":{"kind":"none"},"nodata_fill":0,"patch_size":64,"overlap":0,"size_multiple":32`
	tests := []struct {
		name, extra, err string
	}{
		{"ok", `"task":"embedding","output":"embedding","embedding_dim":8,"output_stride":32`, ""},
		{"no task", `"output":"embedding","embedding_dim":8,"output_stride":32`, `"task": "embedding"`},
		{"task without output", `"task":"embedding","output":"logits","embedding_dim":8,"output_stride":32`, `"output": "embedding"`},
		{"classes", `"task":"embedding","output":"embedding","embedding_dim":8,"output_stride":32,"classes":[{"id":0,"name":"a"},{"id":1,"name":"b"}]`, "no classes"},
		{"no dim", `"task":"embedding","output":"embedding","output_stride":32`, "embedding_dim 0"},
		{"stride not dividing", `"task":"embedding","output":"embedding","embedding_dim":8,"output_stride":3`, "multiple of output_stride"},
		{"dim on a mask model", `"output":"logits","embedding_dim":8,"classes":[{"id":0,"name":"a"},{"id":1,"name":"b"}]`, "output embedding only"},
		{"bad task", `"task":"detection","output":"logits","classes":[{"id":0,"name":"a"},{"id":1,"name":"b"}]`, "task"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseManifest([]byte("{" + base + "," + tt.extra + "}"))
			if tt.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !m.IsEmbedding() || m.OutputChannels() != 8 {
					t.Fatalf("IsEmbedding %v, channels %d", m.IsEmbedding(), m.OutputChannels())
				}
				if err := m.CheckGraph([]Dim{-1, 3, -1, -1}, []Dim{-1, 9, -1, -1}); err == nil {
					t.Fatal("9 output channels accepted for embedding_dim 8")
				}
				return
			}
			if !errors.Is(err, ErrManifest) || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("error %v, want ErrManifest containing %q", err, tt.err)
			}
		})
	}
}

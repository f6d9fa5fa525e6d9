package engine

import (
	"errors"
	"image"
	"strings"
	"testing"

	"github.com/omnimask/omnimask/raster"
	"github.com/omnimask/omnimask/tiling"
)

// TestPlanTiling: the patch and overlap a plan chooses from the model's
// defaults, the request and the scene, and the requests it refuses. Each
// rule has one owner: the overlap fallback is plan's, validity tiling's.
func TestPlanTiling(t *testing.T) {
	m := testManifest(t, "pointwise", nil) // patch 64, overlap 16
	free := limits{batch: 1, streams: 1, maxMemory: 8 << 30}
	fixed := free
	fixed.fixedPatch = 64
	tests := []struct {
		name           string
		lim            limits
		size           image.Point
		req            Request
		patch, overlap int
		err            string
		is             error
	}{
		{"model defaults", free, image.Pt(200, 150), Request{}, 64, 16, "", nil},
		{"smaller patch keeps a quarter", free, image.Pt(200, 150), Request{PatchSize: 32}, 32, 8, "", nil},
		{"larger patch keeps the model's", free, image.Pt(200, 150), Request{PatchSize: 128}, 128, 16, "", nil},
		{"explicit overlap", free, image.Pt(200, 150), Request{PatchSize: 32, Overlap: 12}, 32, 12, "", nil},
		{"no overlap", free, image.Pt(200, 150), Request{Overlap: -1}, 64, 0, "", nil},
		{"small scene shrinks both", free, image.Pt(40, 90), Request{}, 40, 10, "", nil},
		{"overlap = patch", free, image.Pt(200, 150), Request{PatchSize: 32, Overlap: 32}, 0, 0, "overlap 32 >= patch size 32", nil},
		{"patch below minimum", free, image.Pt(200, 150), Request{PatchSize: 16}, 0, 0, "below the minimum", nil},
		{"too small", free, image.Pt(31, 200), Request{}, 0, 0, "", tiling.ErrTooSmall},
		{"unknown blend", free, image.Pt(200, 150), Request{Blend: 7}, 0, 0, "unknown blend window", nil},
		{"fixed input", fixed, image.Pt(200, 150), Request{}, 64, 16, "", nil},
		{"fixed input, other patch", fixed, image.Pt(200, 150), Request{PatchSize: 32}, 0, 0, "fixed at 64 px", nil},
		{"fixed input, overlap = patch", fixed, image.Pt(200, 150), Request{Overlap: 64}, 0, 0, "overlap 64 >= patch size 64", nil},
		{"fixed input, small scene", fixed, image.Pt(63, 150), Request{}, 0, 0, "", tiling.ErrTooSmall},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := sceneInfo{name: "scene", size: tt.size, geo: raster.Geo{Transform: raster.Identity}, names: []string{"red", "green", "nir"}}
			tt.req.NoResample = true
			p, err := plan(m, tt.lim, info, tt.req)
			if tt.err != "" || tt.is != nil {
				if err == nil || !strings.Contains(err.Error(), tt.err) || (tt.is != nil && !errors.Is(err, tt.is)) {
					t.Fatalf("err = %v, want %q %v", err, tt.err, tt.is)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Patch != tt.patch || p.Overlap != tt.overlap {
				t.Errorf("patch %d overlap %d, want %d and %d", p.Patch, p.Overlap, tt.patch, tt.overlap)
			}
		})
	}
}

package main

import (
	"path/filepath"
	"testing"
)

func TestScene(t *testing.T) {
	tests := []struct {
		name  string
		seed  uint64
		cover float64
	}{
		{"sparse", 2, 0.08},
		{"cloudier", 7, 0.25},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			const n = 384
			s, s2 := newScene(n, n, tc.seed, tc.cover), newScene(n, n, tc.seed, tc.cover)
			var cloud int
			var clearRed, cloudRed float64
			for y := 0; y < n; y++ {
				for x := 0; x < n; x++ {
					v, c := s.pixel(x, y)
					if v2, c2 := s2.pixel(x, y); v2 != v || c2 != c {
						t.Fatalf("(%d, %d): not deterministic", x, y)
					}
					for b, r := range v {
						if !(r > 0 && r < 1) {
							t.Fatalf("(%d, %d) band %d: reflectance %g", x, y, b, r)
						}
					}
					switch c {
					case 0:
						clearRed += v[2]
					case 1:
						cloud++
						cloudRed += v[2]
					default:
						t.Fatalf("(%d, %d): class %d", x, y, c)
					}
				}
			}
			share := float64(cloud) / (n * n)
			if share < tc.cover/3 || share > tc.cover*3 {
				t.Errorf("cloud share %.3f, want about %.2f", share, tc.cover)
			}
			if mc, ml := cloudRed/float64(cloud), clearRed/float64(n*n-cloud); mc < 3*ml {
				t.Errorf("mean red: cloud %.3f, clear %.3f; cloud should be bright", mc, ml)
			}
		})
	}
}

func TestRunWritesFiles(t *testing.T) {
	dir := t.TempDir()
	out, truth := filepath.Join(dir, "s.tif"), filepath.Join(dir, "t.tif")
	if err := run(96, 1, 0.1, 10, out, truth); err != nil {
		t.Fatal(err)
	}
	if err := run(16, 1, 0.1, 10, out, ""); err == nil {
		t.Error("size 16 accepted")
	}
}

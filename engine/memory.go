package engine

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/omnimask/omnimask/models"
)

// workingMemory estimates the bytes a prediction holds at its peak: strips
// in flight, native rows read for resampling, the accumulator, batches, the
// rows being written, the in-memory result, and ONNX Runtime's activations
// (a rough 64 float32 channels per patch pixel).
func workingMemory(m *models.Manifest, lay *layout, lim limits, p *Plan, req Request) int64 {
	// C channels in strips and batches: raw ones, prepared ones and those
	// of the source bands behind derived ones, all counted at the largest.
	C, K := int64(max(len(lay.raw), len(lay.chans), len(lay.sources))), int64(max(len(m.Classes), lay.scores))
	P, L := int64(p.Patch), int64(lookahead(p))
	W, H := int64(p.Size.X), int64(p.Size.Y)
	Wp, Hp := int64(p.ProcSize.X), int64(p.ProcSize.Y)
	rows := min(P+L, Hp)
	n := int64(max(lim.batch, lim.fixedBatch, 1))
	b := 2 * (C*4 + 1) * Wp * rows // the two recycled strips, values and validity
	if p.Resampled() {
		nrows := min(H, rows*H/Hp+2)
		b += (C*4 + 1) * W * nrows // native rows read for resampling, reused
	}
	b += (K + 1) * 4 * Wp * rows // accumulator
	streams := int64(lim.streams)
	b += (streams + 2) * n * (C + K) * 4 * P * P // batches (see execute)
	b += streams * n * 64 * 4 * P * P            // network activations (estimate)
	if p.TTA.Calls() > 1 {
		b += streams * n * (C + K) * 4 * P * P // transformed inputs and outputs (scratch)
	}
	perRow := W
	if req.Confidence != NoConfidence {
		perRow += 4 * K * W
	}
	b += 3 * blockRows * perRow // blocks on their way to the writer
	if req.Output == "" {
		b += perRow * H // the in-memory result
	}
	return b
}

// defaultMemoryLimit is half the machine's memory (Options.MaxMemory 0).
func defaultMemoryLimit() int64 {
	if total := physicalMemory(); total > 0 {
		return total / 2
	}
	return 8 << 30
}

// physicalMemory reads MemTotal from /proc/meminfo (0 when unknown).
func physicalMemory() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

func gib(b int64) string { return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30)) }

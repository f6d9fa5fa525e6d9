package engine

import (
	"bufio"
	"fmt"
	"os"
	"runtime/metrics"
	"strconv"
	"strings"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/models"
)

// workingMemory estimates the bytes a prediction keeps resident at its
// peak: strips in flight, native rows read for resampling, the
// accumulator, batches, the rows being written and the in-memory result
// (Go memory, times the garbage collector's headroom, goHeadroom), plus
// ONNX Runtime's memory for the inference calls running at once (calls:
// at most Options.Streams, fewer when the scene has fewer batches), each
// holding activationBytes per patch pixel for every model of the plan.
// What GDAL holds for a file (its block cache, an in-memory input) is
// added by fileMemory.
func workingMemory(m *models.Manifest, lay *layout, lim limits, p *Plan, req Request, calls int) int64 {
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
	b = b * goHeadroom() / 100
	nets := int64(max(lim.nets, 1))
	b += int64(max(calls, 1)) * nets * n * activationBytes * P * P // ONNX Runtime
	return b
}

// activationBytes is what ONNX Runtime holds per patch pixel for one
// inference call of one model: its intermediate tensors in the session's
// memory arena, which keeps the most that calls running at once have
// needed. Measured with the built-in omnicloud at 512² patches: about 115
// MiB per call (460 bytes a pixel), counted here with some room.
const activationBytes = 512

// inferenceCalls is how many inference calls of one prediction run at once:
// the streams, or fewer when the grid has fewer batches of n patches.
func inferenceCalls(streams, patches, n int) int {
	n = max(n, 1)
	return max(1, min(streams, (patches+n-1)/n))
}

// goHeadroom is, in percent, the heap the garbage collector lets grow per
// byte live (100 + GOGC): what Go memory in use costs in resident memory.
// GOGC off counts as the default 100.
func goHeadroom() int64 {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	g := int64(100)
	if s[0].Value.Kind() == metrics.KindUint64 {
		if v := int64(s[0].Value.Uint64()); v > 0 {
			g = min(v, 400)
		}
	}
	return 100 + g
}

// fileMemory is what GDAL holds while a file prediction runs: the decoded
// blocks of the scene in its block cache (released when the file is
// closed; all of them up to the cache's size, GDAL_CACHEMAX), those of the
// mask written to a file, and an input in GDAL's in-memory file system.
func fileMemory(s *gdalio.Scene, paths []string, p *Plan, req Request) int64 {
	cache := s.DecodedBytes()
	if req.Output != "" {
		cache += int64(p.Size.X) * int64(p.Size.Y) // the mask's blocks
	}
	b := min(cache, gdalio.CacheMax())
	for _, f := range paths {
		b += gdalio.MemSize(f)
	}
	return b
}

// The memory an engine's models hold, reserved in its budget at New
// (measured with RSS before and after New; README "Service"): ONNX
// Runtime's library and GDAL's drivers (runtimeMemory; 33 MiB for ORT's
// library, 50-66 MiB in all with the first session), and per model its
// session (sessionMemory plus modelFactor times the ONNX file: a second
// session of the 4.2 MB omnicloud took 13 MiB). runtimeSlack is reserved
// with the runtime for what predictions leave behind beyond their
// estimates: between otherwise equal runs of `omnimask serve` a process's
// peak jumped by up to 90 MiB (probably ONNX Runtime's arena growing by
// regions, and the Go heap's timing).
const (
	runtimeMemory = 48 << 20
	runtimeSlack  = 80 << 20
	sessionMemory = 8 << 20
	modelFactor   = 4
)

// modelsMemory estimates what the loaded models keep resident, without
// the runtime.
func modelsMemory(mods []*model) int64 {
	var b int64
	for _, m := range mods {
		b += sessionMemory + modelFactor*m.bytes
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

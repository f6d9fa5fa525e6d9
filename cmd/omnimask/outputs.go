package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/omnimask/omnimask/engine"
)

// previewPath is where a scene's quick look goes: preview itself, or a PNG
// named after the mask when preview is a folder ("" without --preview).
func previewPath(preview, mask string) string {
	if preview == "" {
		return ""
	}
	if st, err := os.Stat(preview); err == nil && st.IsDir() {
		return filepath.Join(preview, strings.TrimSuffix(filepath.Base(mask), filepath.Ext(mask))+".png")
	}
	return preview
}

// checkRunOutputs refuses a run, before anything is written, when any
// output of any scene (mask, probabilities, preview) would replace a file
// any scene of the run reads — so a later scene cannot be overwritten by an
// earlier one's output — or another output, or is not a regular file (see
// engine.CheckOutputs). A scene whose files cannot be resolved is left to
// fail on its own when it is predicted.
func checkRunOutputs(e *engine.Engine, groups [][]string, masks []string, req engine.Request, preview string) error {
	var inputs []string
	for _, g := range groups {
		srcs, _ := e.Sources(g, req)
		inputs = append(inputs, srcs...)
	}
	if err := engine.CheckOutputs(inputs, runOutputs(masks, req, preview)); err != nil {
		return usageError{Msg: err.Error(), Cause: err}
	}
	return nil
}

// runOutputs lists every file a run writes ("" where none).
func runOutputs(masks []string, req engine.Request, preview string) []string {
	var outs []string
	for _, m := range masks {
		outs = append(outs, m, m+".aux.xml")
		if req.Confidence != engine.NoConfidence {
			outs = append(outs, engine.ConfidencePath(m))
		}
		outs = append(outs, previewPath(preview, m))
	}
	return outs
}

// removeStale removes the temporary files that killed runs of omnimask left
// in the run's output folders (see engine.RemoveStale).
func removeStale(log *slog.Logger, outs []string, before time.Time) {
	seen := map[string]bool{}
	for _, o := range outs {
		d := filepath.Dir(o)
		if o == "" || seen[d] {
			continue
		}
		seen[d] = true
		removed, err := engine.RemoveStale(d, before)
		for _, r := range removed {
			log.Info("removed a temporary file left by an interrupted run", "file", r)
		}
		if err != nil {
			log.Warn("cannot remove a stale temporary file", "err", err)
		}
	}
}

package main

import (
	"os"
	"path/filepath"
	"strings"

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
	var inputs, outs []string
	for i, g := range groups {
		srcs, _ := e.Sources(g, req)
		inputs = append(inputs, srcs...)
		outs = append(outs, masks[i])
		if req.Confidence != engine.NoConfidence {
			outs = append(outs, engine.ConfidencePath(masks[i]))
		}
		outs = append(outs, previewPath(preview, masks[i]))
	}
	if err := engine.CheckOutputs(inputs, outs); err != nil {
		return usageError{msg: err.Error(), cause: err}
	}
	return nil
}

package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/omnimask/omnimask/engine"
	"github.com/omnimask/omnimask/internal/cmdline"
	"github.com/omnimask/omnimask/models"
)

// Version is omnimask's version.
const Version = "0.1.0"

func runModels(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "check" {
		return runModelsCheck(ctx, args[1:], stdout, stderr)
	}
	fs := newFlagSet("models", "[MODEL.onnx...] [flags]", stderr)
	ortLib := fs.String("ort-lib", "", "path to libonnxruntime.so")
	refs, err := cmdline.Parse(fs, args)
	if err != nil {
		return err
	}
	builtins := len(refs) == 0
	if builtins {
		refs = models.Builtins()
	}
	ranges := map[string]string{} // a product's models' supported resolutions
	for _, ref := range refs {
		m, err := engine.LoadManifest(ref, *ortLib)
		if err != nil {
			return err
		}
		if m.Ranged() {
			ranges[ref] = " (" + m.ResolutionRange() + ")"
		}
		tag := ""
		if ref == models.Default {
			tag = " (default)"
		}
		fmt.Fprintf(stdout, "%s%s\n", ref, tag)
		fmt.Fprintf(stdout, "  %s %s — %s\n", m.Name, m.Version, m.Description)
		fmt.Fprintf(stdout, "  bands       %s\n", strings.Join(m.Bands, ", "))
		supported := "any supported"
		if m.Ranged() {
			supported = "supported " + m.ResolutionRange()
		}
		fmt.Fprintf(stdout, "  resolution  %g m (%s)\n", m.ResolutionM, supported)
		norm := m.Normalization.Kind
		if m.HasDerived() && norm != models.None {
			norm += " (derived inputs: none)"
		}
		fmt.Fprintf(stdout, "  input       %s normalisation, patch %d, overlap %d, multiple of %d\n", norm, m.PatchSize, m.Overlap, m.Multiple())
		var cls []string
		for _, c := range m.Classes {
			cls = append(cls, fmt.Sprintf("%d %s", c.ID, c.Name))
		}
		out := m.Output
		if m.Output == models.Sigmoid {
			out += fmt.Sprintf(", threshold %g", m.SigmoidThreshold())
		}
		if m.IsEmbedding() {
			fmt.Fprintf(stdout, "  output      embedding, %d-D, stride %d (omnimask embed)\n", m.EmbeddingDim, m.OutputStride)
			continue
		}
		fmt.Fprintf(stdout, "  classes     %s (%s)\n", strings.Join(cls, ", "), out)
		fmt.Fprintf(stdout, "  tta         %s (default test-time augmentation; --tta overrides)\n", m.DefaultTTA())
	}
	if builtins {
		for _, name := range models.Composites() {
			c, err := models.BuiltinComposite(name)
			if err != nil {
				return err
			}
			var roles, cls []string
			for _, m := range c.Members {
				var alts []string
				for _, ref := range m.Models {
					alts = append(alts, ref+ranges[ref])
				}
				roles = append(roles, m.Role+" = "+strings.Join(alts, " | "))
			}
			for _, k := range c.Classes {
				cls = append(cls, fmt.Sprintf("%d %s", k.ID, k.Name))
			}
			fmt.Fprintf(stdout, "product %s (--product %s) — %s\n", c.Name, c.Name, c.Description)
			fmt.Fprintf(stdout, "  models      %s\n", strings.Join(roles, "; "))
			fmt.Fprintf(stdout, "  classes     %s\n", strings.Join(cls, ", "))
		}
	}
	return nil
}

func runVersion(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("version", "[flags]", stderr)
	ortLib := fs.String("ort-lib", "", "path to libonnxruntime.so")
	if _, err := cmdline.Parse(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "omnimask %s (%s %s/%s)\n", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(stdout, "GDAL %s\n", engine.GDALVersion())
	v, path, err := engine.LoadORT(*ortLib)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "ONNX Runtime %s (%s)\n", v, path)
	return nil
}

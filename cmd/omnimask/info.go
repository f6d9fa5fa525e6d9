package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/omnimask/omnimask/engine"
	"github.com/omnimask/omnimask/internal/cmdline"
)

func runInfo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("info", "SCENE... [flags]", stderr)
	var ef engineFlags
	var rf requestFlags
	ef.Register(fs)
	rf.Register(fs)
	stack := fs.Bool("stack", false, "treat all SCENE files as the bands of one scene")
	scenes, err := cmdline.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(scenes) == 0 {
		fs.Usage()
		return usagef("no scene given")
	}
	set := setFlags(fs)
	if err := ef.check(set); err != nil {
		return err
	}
	if err := rf.check(set); err != nil {
		return err
	}
	if err := checkSensor(rf.Sensor); err != nil {
		return err
	}
	e, err := engine.New(ef.options(stderr))
	if err != nil {
		return err
	}
	defer e.Close()
	if err := rf.checkTiling(set, e); err != nil {
		return err
	}
	groups := sceneGroups(scenes, *stack)
	failed := 0
	for _, g := range groups {
		if err := describe(ctx, stdout, e, g, rf.request(set)); err != nil {
			fmt.Fprintf(stderr, "omnimask info: %s\n", oneLine(explain(err)))
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d scenes failed", failed, len(groups))
	}
	return nil
}

func describe(ctx context.Context, w io.Writer, e *engine.Engine, paths []string, req engine.Request) error {
	p, perr := e.Inspect(ctx, paths, req)
	if sd := (*engine.SubDatasetError)(nil); errors.As(perr, &sd) && len(sd.SubDatasets) > 0 {
		fmt.Fprintf(w, "%s: container with %d sub-datasets (predict one of them, or pass --sensor):\n", sd.Path, len(sd.SubDatasets))
		for _, s := range sd.SubDatasets {
			fmt.Fprintf(w, "  %s\n", s)
		}
		return perr
	}
	if p == nil {
		return perr
	}
	fmt.Fprintf(w, "%s\n", strings.Join(paths, " + "))
	if strings.Join(p.Files, " ") != strings.Join(paths, " ") {
		for _, f := range p.Files {
			fmt.Fprintf(w, "  reads       %s\n", f)
		}
	}
	fmt.Fprintf(w, "  driver      %s, %dx%d pixels, %d bands\n", p.Driver, p.Size.X, p.Size.Y, len(p.Source))
	for i, b := range p.Source {
		nd := ""
		if b.NoData.Set {
			nd = fmt.Sprintf(", nodata %g", b.NoData.Value)
		}
		name := b.Name
		if name == "" {
			name = "(no name)"
		}
		fmt.Fprintf(w, "    %2d  %-16s %s%s\n", i+1, name, b.Type, nd)
	}
	if p.Geo.Georeferenced() {
		fmt.Fprintf(w, "  georef      %s, transform %v\n", crsName(p.Geo.CRS), p.Geo.Transform)
	} else {
		fmt.Fprintf(w, "  georef      none\n")
	}
	if perr != nil {
		fmt.Fprintf(w, "  predict     cannot run (see below)\n")
		return perr
	}
	if p.Sensor != "" {
		fmt.Fprintf(w, "  sensor      %s\n", p.Sensor)
	}
	m := e.Manifest()
	if p.Product != "" {
		fmt.Fprintf(w, "  product     %s: %s\n", p.Product, strings.Join(p.Models, " + "))
	}
	fmt.Fprintf(w, "  model       %s %s (bands %s)\n", m.Name, m.Version, strings.Join(m.Bands, ", "))
	fmt.Fprintf(w, "  inputs      %s\n", strings.Join(p.Bands, ", "))
	if p.Units != nil {
		var us []string
		for _, u := range p.Units {
			us = append(us, fmt.Sprintf("x%.6g%+.6g", u.Scale, u.Offset))
		}
		fmt.Fprintf(w, "  units       reflectance = value %s (%s)\n", strings.Join(us, ", "), oneLine(p.UnitsFrom))
	}
	for _, d := range p.Derived {
		fmt.Fprintf(w, "  derived     %s\n", d)
	}
	if p.NativeRes[0] > 0 {
		fmt.Fprintf(w, "  resolution  native %.4g x %.4g m", p.NativeRes[0], p.NativeRes[1])
		if p.ProcRes > 0 {
			fmt.Fprintf(w, ", processing %.4g m (%dx%d)", p.ProcRes, p.ProcSize.X, p.ProcSize.Y)
		}
		fmt.Fprintln(w)
	} else {
		fmt.Fprintf(w, "  resolution  unknown (processing at native grid)\n")
	}
	fmt.Fprintf(w, "  tiling      patch %d, overlap %d, %d patches, blend %s\n", p.Patch, p.Overlap, p.Patches, p.Blend)
	fmt.Fprintf(w, "  tta         %s (%d inference calls per patch)\n", p.TTA, p.TTA.Calls())
	for _, n := range p.Notes {
		fmt.Fprintf(w, "  note        %s\n", n)
	}
	return nil
}

// crsName returns the name in a WKT's first quotes.
func crsName(wkt string) string {
	if i := strings.IndexByte(wkt, '"'); i >= 0 {
		if j := strings.IndexByte(wkt[i+1:], '"'); j >= 0 {
			return wkt[i+1 : i+1+j]
		}
	}
	return "unnamed CRS"
}

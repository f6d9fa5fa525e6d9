package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omnimask/omnimask/internal/testutil"
)

// TestCLIRefusedDatasetNames enumerates, through the command line, dataset
// names that must never reach GDAL: each scene fails (exit 1) with one line
// naming it, no crash, nothing written.
func TestCLIRefusedDatasetNames(t *testing.T) {
	in := t.TempDir()
	good := tif{w: 64, h: 64}.write(t, filepath.Join(in, "good.tif"))
	vrt := func(name, body string) string {
		p := filepath.Join(in, name)
		os.WriteFile(p, []byte(`<VRTDataset rasterXSize="64" rasterYSize="64"><VRTRasterBand dataType="Float32" band="1">`+body+`</VRTRasterBand></VRTDataset>`), 0o644)
		return p
	}
	src := func(s string) string {
		return `<SimpleSource><SourceFilename relativeToVRT="0">` + s + `</SourceFilename><SourceBand>1</SourceBand></SimpleSource>`
	}
	for _, tc := range []struct{ scene, want string }{
		{"MEM:::DATAPOINTER=0x1000,PIXELS=64,LINES=64,BANDS=3", "raw process memory"},
		{vrt("mem.vrt", src("MEM:::DATAPOINTER=0x1000,PIXELS=64,LINES=64")), "raw process memory"},
		{vrt("curl.vrt", src("/vsicurl/http://127.0.0.1:9/a.tif")), "network access is off"},
		{vrt("py.vrt", `<PixelFunctionType>m.f</PixelFunctionType><PixelFunctionLanguage>Python</PixelFunctionLanguage>`+src(good)), "GDAL would run"},
		{"/vsicurl/http://127.0.0.1:9/a.tif", "network access is off"},
		{"/vsistdin/", "standard input"},
		{"PG:dbname=x", "database"},
		{"WMS:http://127.0.0.1:9/wms", "network access is off"},
		{"vrt://" + good + "?bands=1,2,3", "vrt://"},
		{`<VRTDataset rasterXSize="1" rasterYSize="1"/>`, "inline XML"},
	} {
		t.Run(strings.ReplaceAll(filepath.Base(tc.scene), "/", "|"), func(t *testing.T) {
			out := t.TempDir()
			_, stderr, err := cli(t, "predict", tc.scene, "--model", pointwise, "--output-dir", out, "--threads", "1")
			if got := exitCode(err); got != exitFailed {
				t.Errorf("exit %d, want %d", got, exitFailed)
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if len(lines) != 2 || !strings.Contains(lines[0], tc.want) || !strings.Contains(lines[0], "refused") {
				t.Errorf("stderr %q: want a line saying refused, %q", stderr, tc.want)
			}
			if n := testutil.DirNames(t, out); len(n) > 0 {
				t.Errorf("written: %v", n)
			}
		})
	}
}

// TestCLIRemovesStaleTemporaries: temporaries that a killed run left in the
// output folder are removed; a live run's and anything not ours are kept.
func TestCLIRemovesStaleTemporaries(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	scene := tif{w: 64, h: 64}.write(t, filepath.Join(in, "s.tif"))
	c := exec.Command("true")
	if err := c.Run(); err != nil {
		t.Skip(err)
	}
	dead, live := c.Process.Pid, os.Getppid()
	old := time.Now().Add(-time.Hour)
	stale := []string{
		fmt.Sprintf("s_omnimask.tif.tmp-%d-0badc0de.tif", dead),
		fmt.Sprintf("s_omnimask.tif.tmp-%d-0badc0de.ovr1.tif", dead),
		fmt.Sprintf("s_omnimask.tif.tmp-%d-0badc0de.tif.cog", dead),
		fmt.Sprintf("s.png.tmp-%d-42", dead),
	}
	keep := []string{fmt.Sprintf("x.tif.tmp-%d-0badc0de.tif", live), "notes.tmp-x.tif"}
	for _, n := range append(append([]string{}, stale...), keep...) {
		p := filepath.Join(out, n)
		os.WriteFile(p, []byte("x"), 0o644)
		os.Chtimes(p, old, old)
	}
	if _, _, err := cli(t, "predict", scene, "--model", pointwise, "--output-dir", out, "--threads", "1"); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(testutil.DirNames(t, out), ",")
	for _, n := range stale {
		if strings.Contains(got, n) {
			t.Errorf("stale %s kept", n)
		}
	}
	for _, n := range append(keep, "s_omnimask.tif") {
		if !strings.Contains(got, n) {
			t.Errorf("%s removed", n)
		}
	}
}

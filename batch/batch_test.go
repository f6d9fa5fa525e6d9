package batch

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func touch(t *testing.T, path, data string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestExpand(t *testing.T) {
	d := t.TempDir()
	a := touch(t, filepath.Join(d, "a.tif"), "")
	b := touch(t, filepath.Join(d, "b.tif"), "")
	c := touch(t, filepath.Join(d, "sub", "c.tif"), "")
	touch(t, filepath.Join(d, "notes.txt"), "")
	touch(t, filepath.Join(d, "a_omnimask.tif"), "")
	touch(t, filepath.Join(d, "a_omnimask_confidence.tif"), "")
	touch(t, filepath.Join(d, "only", "x_omnimask.tif"), "")
	list := touch(t, filepath.Join(d, "list.txt"), "# archive\n"+c+"\n\n  "+a+"  \n/vsizip/x.zip/y*.tif\n")
	nested := touch(t, filepath.Join(d, "nested.txt"), "@"+list+"\n")
	hdf := `HDF4_EOS:EOS_GRID:"f.hdf":grid:sur_refl_b01_1`
	for _, c := range []struct {
		name string
		args []string
		want []string
		err  string
	}{
		{"files", []string{b, a}, []string{b, a}, ""},
		{"glob sorted, without masks", []string{filepath.Join(d, "*.tif")}, []string{a, b}, ""},
		{"mask named explicitly", []string{filepath.Join(d, "a_omnimask.tif")}, []string{filepath.Join(d, "a_omnimask.tif")}, ""},
		{"glob of masks only", []string{filepath.Join(d, "only", "*.tif")}, nil, "but masks"},
		{"list", []string{"@" + list}, []string{c, a, "/vsizip/x.zip/y*.tif"}, ""},
		{"duplicates kept once", []string{a, filepath.Join(d, ".", "a.tif"), "@" + list}, []string{a, c, "/vsizip/x.zip/y*.tif"}, ""},
		{"folder and GDAL paths as given", []string{d, hdf}, []string{d, hdf}, ""},
		{"glob without match", []string{filepath.Join(d, "*.jp2")}, nil, "no file matches"},
		{"missing list", []string{"@" + filepath.Join(d, "none.txt")}, nil, "scene list"},
		{"nested list", []string{"@" + nested}, nil, "cannot include another list"},
		{"bad pattern", []string{filepath.Join(d, "[")}, nil, "syntax error"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := Expand(c.args)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, c.want) {
				t.Fatalf("Expand = %q, %v; want %q", got, err, c.want)
			}
		})
	}
	if _, err := Expand([]string{filepath.Join(d, "*.png")}); !errors.Is(err, ErrNoMatch) {
		t.Errorf("no match: %v, want ErrNoMatch", err)
	}
}

func TestPlan(t *testing.T) {
	for _, c := range []struct{ scene, dir, want string }{
		{"/data/s.tif", "", "/data/s_omnimask.tif"},
		{"/data/s.tif", "/out", "/out/s_omnimask.tif"},
		{"/data/LC08_X/", "/out", "/out/LC08_X_omnimask.tif"},
		{`HDF4_EOS:EOS_GRID:"f.hdf":grid:b01`, "/out", "/out/HDF4_EOS_EOS_GRID_f_omnimask.tif"},
	} {
		if got := MaskPath(c.scene, c.dir); got != c.want {
			t.Errorf("MaskPath(%q, %q) = %q, want %q", c.scene, c.dir, got, c.want)
		}
	}
	d := t.TempDir()
	a := touch(t, filepath.Join(d, "x", "s.tif"), "")
	b := touch(t, filepath.Join(d, "y", "s.tif"), "")
	items, err := Plan([]string{a, b}, "")
	if err != nil || len(items) != 2 || items[1].Index != 1 || items[1].Output != filepath.Join(d, "y", "s_omnimask.tif") {
		t.Fatalf("Plan = %+v, %v", items, err)
	}
	if _, err := Plan([]string{a, b}, d); err == nil || !strings.Contains(err.Error(), "would both write") {
		t.Errorf("two scenes onto one mask: %v", err)
	}
}

func TestResume(t *testing.T) {
	d := t.TempDir()
	scene := touch(t, filepath.Join(d, "s.tif"), "scene")
	mask := touch(t, filepath.Join(d, "s_omnimask.tif"), "mask")
	conf := touch(t, filepath.Join(d, "s_omnimask_confidence.tif"), "probabilities")
	id := Identity{Models: []ModelID{{Name: "m", Version: "1", SHA256: "ab"}}, ORT: "1.24.3", Flags: map[string]string{"blend": "ramp"}}
	rec := Record{Index: 3, Scene: scene, Output: mask, Status: StatusOK, Width: 2, Height: 2, Classes: []string{"clear"}, Counts: []int64{4}}

	if r, why := Resume(mask, "", scene, id); r != nil || why != "no stamp" {
		t.Fatalf("without a stamp: %v, %q", r, why)
	}
	if err := WriteStamp(mask, "", scene, id, rec); err != nil {
		t.Fatal(err)
	}
	if r, why := Resume(mask, "", scene, id); r == nil || !reflect.DeepEqual(*r, rec) {
		t.Fatalf("same identity: %+v, %q", r, why)
	}
	other := func(f func(*Identity)) Identity {
		b, _ := json.Marshal(id)
		var o Identity
		json.Unmarshal(b, &o)
		f(&o)
		return o
	}
	for _, c := range []struct {
		name string
		id   Identity
		conf string
		prep func()
		why  string
	}{
		{"model hash", other(func(o *Identity) { o.Models[0].SHA256 = "cd" }), "", nil, "differ"},
		{"model version", other(func(o *Identity) { o.Models[0].Version = "2" }), "", nil, "differ"},
		{"ensemble", other(func(o *Identity) { o.Models = append(o.Models, o.Models[0]) }), "", nil, "differ"},
		{"flag", other(func(o *Identity) { o.Flags["blend"] = "hann" }), "", nil, "differ"},
		{"new flag", other(func(o *Identity) { o.Flags["nodata"] = "0" }), "", nil, "differ"},
		{"ort", other(func(o *Identity) { o.ORT = "1.25.0" }), "", nil, "differ"},
		{"probabilities asked", id, conf, nil, "probabilities"},
		{"mask changed", id, "", func() { touch(t, mask, "MASK") }, "mask"},
		{"mask gone", id, "", func() { os.Remove(mask) }, "mask"},
		{"input changed", id, "", func() {
			touch(t, mask, "mask")
			os.Chtimes(scene, time.Now(), time.Now().Add(time.Hour))
		}, "input"},
	} {
		if c.prep != nil {
			c.prep()
		}
		if r, why := Resume(mask, c.conf, scene, c.id); r != nil || !strings.Contains(why, c.why) {
			t.Errorf("%s: %v, %q; want recompute (%s)", c.name, r, why, c.why)
		}
	}
	// With probabilities: both files are checked.
	if err := WriteStamp(mask, conf, scene, id, rec); err != nil {
		t.Fatal(err)
	}
	if r, why := Resume(mask, conf, scene, id); r == nil {
		t.Fatalf("with probabilities: %q", why)
	}
	touch(t, conf, "other")
	if r, _ := Resume(mask, conf, scene, id); r != nil {
		t.Error("changed probabilities file kept")
	}
	if err := RemoveStamp(mask); err != nil {
		t.Fatal(err)
	}
	if err := RemoveStamp(mask); err != nil {
		t.Errorf("removing a missing stamp: %v", err)
	}
	ents, _ := os.ReadDir(d)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

func TestModelHash(t *testing.T) {
	d := t.TempDir()
	m := touch(t, filepath.Join(d, "m.onnx"), "graph")
	h1, err := ModelHash(m)
	if err != nil {
		t.Fatal(err)
	}
	touch(t, m+".json", `{"name":"m"}`)
	h2, err := ModelHash(m)
	if err != nil || h2 == h1 {
		t.Errorf("a manifest sidecar must change the hash: %s %s %v", h1, h2, err)
	}
	if b, err := ModelHash(""); err != nil || len(b) != 64 {
		t.Errorf("built-in default: %q, %v", b, err)
	}
	if p, err := ProductHash("water"); err != nil || len(p) != 64 {
		t.Errorf("built-in product: %q, %v", p, err)
	}
	if _, err := ProductHash(filepath.Join(d, "none.json")); err == nil {
		t.Error("missing product file hashed")
	}
	if _, err := ModelHash("nosuchmodel"); err == nil {
		t.Error("unknown built-in model hashed")
	}
	if _, err := ModelHash(filepath.Join(d, "none.onnx")); err == nil {
		t.Error("missing model file hashed")
	}
}

func testRecords() []Record {
	cl := []string{"clear", "cloud"}
	return []Record{
		{Index: 0, Scene: "a.tif", Output: "o/a_omnimask.tif", Status: StatusOK, Width: 2, Height: 2, NativeResX: 10, NativeResY: 10, ProcRes: 10, Classes: cl, Counts: []int64{3, 1}, ElapsedS: 1.5},
		{Index: 1, Scene: "bad.tif", Output: "o/bad_omnimask.tif", Status: StatusFailed, Error: "bad.tif: not a raster"},
		{Index: 2, Scene: "c,\"q\".tif", Output: "o/c_omnimask.tif", Status: StatusSkipped, Width: 4, Height: 1, NativeResX: 30, NativeResY: 30, ProcRes: 30, Classes: cl, Counts: []int64{1, 1}, NoData: 2, ElapsedS: 0.5},
	}
}

func TestSummary(t *testing.T) {
	recs := testRecords()
	// Any arrival order and any merge tree give the same summary.
	var a, b, c Summary
	a.Add(recs[2])
	b.Add(recs[1])
	b.Add(recs[0])
	c.Merge(a)
	c.Merge(b)
	if !reflect.DeepEqual(c.Records, recs) {
		t.Fatalf("merged records out of order: %+v", c.Records)
	}
	var csvb, jb bytes.Buffer
	if err := c.WriteCSV(&csvb); err != nil {
		t.Fatal(err)
	}
	want := `index,scene,output,status,width,height,native_res_x_m,native_res_y_m,processing_res_m,pixels,clear_fraction,cloud_fraction,nodata_fraction,elapsed_s,error
0,a.tif,o/a_omnimask.tif,ok,2,2,10,10,10,4,0.75,0.25,0,1.5,
1,bad.tif,o/bad_omnimask.tif,failed,,,,,,,,,,0,bad.tif: not a raster
2,"c,""q"".tif",o/c_omnimask.tif,skipped,4,1,30,30,30,4,0.25,0.25,0.5,0.5,
,TOTAL,,failed,,,,,,8,0.5,0.25,0.25,2,"3 scenes: 1 predicted, 1 skipped, 1 failed"
`
	if csvb.String() != want {
		t.Errorf("summary.csv:\n%s\nwant:\n%s", csvb.String(), want)
	}
	if err := c.WriteJSONL(&jb); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(jb.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("summary.jsonl: %d lines", len(lines))
	}
	var s0 struct {
		Kind      string
		Scene     string
		Fractions map[string]float64
		Pixels    int64
	}
	json.Unmarshal([]byte(lines[0]), &s0)
	if s0.Kind != "scene" || s0.Scene != "a.tif" || s0.Pixels != 4 || s0.Fractions["cloud"] != 0.25 {
		t.Errorf("first line %s", lines[0])
	}
	var tot struct {
		Kind                        string
		Scenes, OK, Skipped, Failed int
		Counts                      map[string]int64
		NoDataFraction              float64 `json:"nodata_fraction"`
	}
	json.Unmarshal([]byte(lines[3]), &tot)
	if tot.Kind != "total" || tot.Scenes != 3 || tot.OK != 1 || tot.Skipped != 1 || tot.Failed != 1 || tot.Counts["clear"] != 4 || tot.NoDataFraction != 0.25 {
		t.Errorf("total line %s", lines[3])
	}
	d := t.TempDir()
	if err := c.WriteFiles(d); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(d, SummaryCSV)); string(got) != want {
		t.Errorf("summary.csv file differs from WriteCSV")
	}
}

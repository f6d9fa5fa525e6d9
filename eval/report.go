package eval

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Report is the outcome of an evaluation. It is written as metrics.json
// as is.
type Report struct {
	Run         string   `json:"run"`
	RunFile     string   `json:"run_file,omitempty"`
	Description string   `json:"description,omitempty"`
	Models      []string `json:"models"`
	Product     string   `json:"product,omitempty"` // the run's composite product, if any
	TTA         string   `json:"tta,omitempty"`     // test-time augmentation, when not none
	Groups      []Group  `json:"groups"`
	Steps       []Step   `json:"steps"`
	Method      string   `json:"method"`
	// Scenes has one result per scene and step.
	Scenes []SceneResult `json:"scenes"`
	// Sensors pools the scenes of each sensor, per step; Overall pools all
	// scenes, per step.
	Sensors []Aggregate `json:"sensors"`
	Overall []Aggregate `json:"overall"`
}

// SceneResult is the score of one scene at one step.
type SceneResult struct {
	Scene      string     `json:"scene"`
	Sensor     string     `json:"sensor"`
	Step       int        `json:"step"`                    // index into Report.Steps
	Scale      float64    `json:"scale"`                   // processing / native pixel size
	NativeRes  float64    `json:"native_resolution_m"`     // 0 = unknown
	ProcRes    float64    `json:"processing_resolution_m"` // 0 = native (unknown)
	Width      int        `json:"width"`
	Height     int        `json:"height"`
	ProcWidth  int        `json:"processing_width"`
	ProcHeight int        `json:"processing_height"`
	Seconds    float64    `json:"seconds"`
	Error      string     `json:"error,omitempty"`
	Confusion  *Confusion `json:"confusion,omitempty"`
	Metrics    *Metrics   `json:"metrics,omitempty"`
}

// Aggregate pools the confusion matrices of several scenes at one step.
type Aggregate struct {
	Sensor  string     `json:"sensor"` // "all" in Report.Overall
	Step    int        `json:"step"`
	Scenes  int        `json:"scenes"`                  // scenes scored
	Failed  int        `json:"failed"`                  // scenes that failed at this step
	ProcRes float64    `json:"processing_resolution_m"` // mean over the scored scenes
	Counts  *Confusion `json:"confusion"`
	Metrics Metrics    `json:"metrics"`
}

// Failed returns the number of scene predictions that failed.
func (r *Report) Failed() int {
	n := 0
	for _, s := range r.Scenes {
		if s.Error != "" {
			n++
		}
	}
	return n
}

func (r *Report) names() []string {
	n := make([]string, len(r.Groups))
	for i, g := range r.Groups {
		n[i] = g.Name
	}
	return n
}

// aggregate pools the scene results per sensor and overall.
func (r *Report) aggregate() {
	var sensors []string
	seen := map[string]bool{}
	for _, s := range r.Scenes {
		if !seen[s.Sensor] {
			seen[s.Sensor] = true
			sensors = append(sensors, s.Sensor)
		}
	}
	pool := func(sensor string, step int) Aggregate {
		a := Aggregate{Sensor: sensor, Step: step, Counts: NewConfusion(len(r.Groups))}
		var res float64
		for _, s := range r.Scenes {
			if s.Step != step || (sensor != "all" && s.Sensor != sensor) {
				continue
			}
			if s.Error != "" {
				a.Failed++
				continue
			}
			a.Scenes++
			a.Counts.Merge(s.Confusion)
			res += s.ProcRes
		}
		if a.Scenes > 0 {
			a.ProcRes = res / float64(a.Scenes)
		}
		a.Metrics = a.Counts.Metrics(r.names())
		return a
	}
	r.Sensors, r.Overall = nil, nil
	for _, sensor := range sensors {
		for i := range r.Steps {
			r.Sensors = append(r.Sensors, pool(sensor, i))
		}
	}
	for i := range r.Steps {
		r.Overall = append(r.Overall, pool("all", i))
	}
}

// Files written by Write.
const (
	MarkdownFile = "report.md"
	JSONFile     = "metrics.json"
	CSVFile      = "metrics.csv"
)

// Write writes report.md, metrics.json, metrics.csv and the PNG plots into
// dir, creating it.
func (r *Report) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	writers := []struct {
		name string
		fn   func(io.Writer) error
	}{
		{MarkdownFile, func(w io.Writer) error { return r.WriteMarkdown(w, true) }},
		{JSONFile, r.writeJSON},
		{CSVFile, r.WriteCSV},
	}
	for _, x := range writers {
		if err := writeFile(filepath.Join(dir, x.name), x.fn); err != nil {
			return err
		}
	}
	return r.writePlots(dir)
}

func writeFile(path string, fn func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	err = fn(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("eval: %s: %w", path, err)
	}
	return nil
}

func (r *Report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteCSV writes one row per scene and step, then the per-sensor and
// overall aggregates. Undefined metrics are empty cells.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	head := []string{"level", "sensor", "scene", "step", "scale", "resolution_m", "processing_resolution_m",
		"scenes", "pixels", "ignored", "pred_nodata", "accuracy", "kappa", "mean_boa"}
	for _, g := range r.Groups {
		for _, k := range []string{"reference", "precision", "recall", "f1", "iou", "boa"} {
			head = append(head, g.Name+"_"+k)
		}
	}
	head = append(head, "error")
	if err := cw.Write(head); err != nil {
		return err
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	n := func(v Num) string { return v.Format(-1, "") }
	row := func(level, sensor, scene string, step int, scale string, procRes float64, scenes int, m *Metrics, errMsg string) error {
		st := r.Steps[step]
		rec := []string{level, sensor, scene, st.String(), scale, "", f(procRes), strconv.Itoa(scenes)}
		if st.Resolution > 0 {
			rec[5] = f(st.Resolution)
		}
		if m == nil {
			m = &Metrics{}
			rec = append(rec, "", "", "", "", "", "")
			for range r.Groups {
				rec = append(rec, "", "", "", "", "", "")
			}
		} else {
			rec = append(rec, strconv.FormatInt(m.Pixels, 10), strconv.FormatInt(m.Ignored, 10),
				strconv.FormatInt(m.PredNoData, 10), n(m.Accuracy), n(m.Kappa), n(m.MeanBOA))
			for _, g := range m.Groups {
				rec = append(rec, strconv.FormatInt(g.Reference, 10), n(g.Precision), n(g.Recall), n(g.F1), n(g.IoU), n(g.BOA))
			}
		}
		return cw.Write(append(rec, errMsg))
	}
	for _, s := range r.Scenes {
		scale := ""
		if s.Error == "" {
			scale = f(s.Scale)
		}
		if err := row("scene", s.Sensor, s.Scene, s.Step, scale, s.ProcRes, 1, s.Metrics, s.Error); err != nil {
			return err
		}
	}
	for li, list := range [][]Aggregate{r.Sensors, r.Overall} {
		level := [2]string{"sensor", "overall"}[li]
		for _, a := range list {
			scale := ""
			if s := r.Steps[a.Step].Scale; s > 0 {
				scale = f(s)
			}
			if err := row(level, a.Sensor, "", a.Step, scale, a.ProcRes, a.Scenes, &a.Metrics, ""); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteMarkdown writes the report for people: overall and per-sensor tables
// for every step; full adds per-group details, confusion matrices and the
// per-scene table.
func (r *Report) WriteMarkdown(w io.Writer, full bool) error {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	const dash = "—"
	n3 := func(v Num) string { return v.Format(3, dash) }

	p("# Evaluation: %s\n\n", r.Run)
	if r.Description != "" {
		p("%s\n\n", r.Description)
	}
	if r.Product != "" {
		p("- Product: %s (models loaded: %s; each scene runs one per role)\n", r.Product, strings.Join(r.Models, ", "))
	} else {
		p("- Model: %s\n", strings.Join(r.Models, " + "))
	}
	if r.TTA != "" {
		p("- Test-time augmentation: %s\n", r.TTA)
	}
	if r.RunFile != "" {
		p("- Run file: `%s`\n", r.RunFile)
	}
	var gs []string
	for _, g := range r.Groups {
		gs = append(gs, fmt.Sprintf("%s = classes %s", g.Name, intList(g.Classes)))
	}
	p("- Scoring groups: %s\n", strings.Join(gs, "; "))
	var steps []string
	for _, s := range r.Steps {
		steps = append(steps, s.String())
	}
	p("- Steps: %s (scale = factor of the native pixel size)\n", strings.Join(steps, ", "))
	p("- Scene predictions: %d, failed: %d\n\n", len(r.Scenes), r.Failed())

	boaHead := func() (string, string) {
		var h, s strings.Builder
		for _, g := range r.Groups {
			fmt.Fprintf(&h, " BOA %s |", g.Name)
			s.WriteString("---:|")
		}
		return h.String(), s.String()
	}
	bh, bs := boaHead()
	aggRow := func(a Aggregate, lead string) {
		m := a.Metrics
		p("| %s | %s | %d | %d | %d | %d | %s | %s | %s |", strings.TrimSpace(lead+" "+r.Steps[a.Step].String()), r.resRange(a), a.Scenes,
			m.Pixels, m.Ignored, m.PredNoData, n3(m.Accuracy), n3(m.Kappa), n3(m.MeanBOA))
		for _, g := range m.Groups {
			p(" %s |", n3(g.BOA))
		}
		p("\n")
	}
	p("## Overall\n\n| step | proc. res. | scenes | pixels | ignored | pred nodata | OA | kappa | mean BOA |%s\n", bh)
	p("|---|---|---:|---:|---:|---:|---:|---:|---:|%s\n", bs)
	for _, a := range r.Overall {
		aggRow(a, "")
	}
	p("\n## Per sensor\n\n| sensor, step | proc. res. | scenes | pixels | ignored | pred nodata | OA | kappa | mean BOA |%s\n", bh)
	p("|---|---|---:|---:|---:|---:|---:|---:|---:|%s\n", bs)
	for _, a := range r.Sensors {
		aggRow(a, a.Sensor+",")
	}
	p("\n")
	if full {
		for _, a := range r.Overall {
			p("## Overall at %s: per group\n\n", r.Steps[a.Step])
			p("| group | reference px | predicted px | precision | recall | F1 | IoU | BOA |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
			for _, g := range a.Metrics.Groups {
				p("| %s | %d | %d | %s | %s | %s | %s | %s |\n", g.Name, g.Reference, g.Predicted,
					n3(g.Precision), n3(g.Recall), n3(g.F1), n3(g.IoU), n3(g.BOA))
			}
			p("\nConfusion matrix (pixels; rows reference, columns prediction):\n\n| reference \\ predicted |")
			for _, g := range r.Groups {
				p(" %s |", g.Name)
			}
			p(" nodata |\n|---|%s---:|\n", strings.Repeat("---:|", len(r.Groups)))
			for i, g := range r.Groups {
				p("| %s |", g.Name)
				for _, v := range a.Counts.Counts[i] {
					p(" %d |", v)
				}
				p("\n")
			}
			p("\n")
		}
		p("## Scenes\n\n| scene | sensor | step | proc. res. | pixels | ignored | pred nodata | OA | kappa | mean BOA |%s\n", bh)
		p("|---|---|---|---|---:|---:|---:|---:|---:|---:|%s\n", bs)
		for _, s := range r.Scenes {
			if s.Error != "" {
				p("| %s | %s | %s | failed: %s |\n", s.Scene, s.Sensor, r.Steps[s.Step], strings.ReplaceAll(s.Error, "|", "\\|"))
				continue
			}
			m := s.Metrics
			p("| %s | %s | %s | %s | %d | %d | %d | %s | %s | %s |", s.Scene, s.Sensor, r.Steps[s.Step], resLabel(s.ProcRes),
				m.Pixels, m.Ignored, m.PredNoData, n3(m.Accuracy), n3(m.Kappa), n3(m.MeanBOA))
			for _, g := range m.Groups {
				p(" %s |", n3(g.BOA))
			}
			p("\n")
		}
		p("\n")
	}
	p("## Method\n\n%s Undefined values (a group absent from the reference, or present everywhere) are shown as %s.\n", r.Method, dash)
	_, err := io.WriteString(w, b.String())
	return err
}

// resRange shows the processing resolutions of an aggregate's scenes.
func (r *Report) resRange(a Aggregate) string {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range r.Scenes {
		if s.Step == a.Step && s.Error == "" && (a.Sensor == "all" || s.Sensor == a.Sensor) {
			lo, hi = min(lo, s.ProcRes), max(hi, s.ProcRes)
		}
	}
	switch {
	case lo > hi:
		return "—"
	case lo == hi:
		return resLabel(lo)
	}
	return resLabel(lo) + "–" + resLabel(hi)
}

func intList(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ", ")
}

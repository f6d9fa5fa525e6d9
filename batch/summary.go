package batch

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
)

// Scene statuses in a Record.
const (
	StatusOK      = "ok"      // predicted in this run
	StatusSkipped = "skipped" // kept from an earlier run with the same identity
	StatusFailed  = "failed"
)

// Summary file names in the output folder.
const (
	SummaryCSV   = "summary.csv"
	SummaryJSONL = "summary.jsonl"
)

// Record is what a batch reports for one scene. Counts are mask pixels per
// class, in the order of Classes (the model's classes); NoData counts mask
// pixels that are 255.
type Record struct {
	Index      int      `json:"index"`
	Scene      string   `json:"scene"`
	Output     string   `json:"output"`
	Status     string   `json:"status"`
	Error      string   `json:"error,omitempty"`
	Width      int      `json:"width"`
	Height     int      `json:"height"`
	NativeResX float64  `json:"native_res_x_m"`
	NativeResY float64  `json:"native_res_y_m"`
	ProcRes    float64  `json:"processing_res_m"`
	Classes    []string `json:"classes"`
	Counts     []int64  `json:"counts"`
	NoData     int64    `json:"nodata"`
	ElapsedS   float64  `json:"elapsed_s"`
}

// Pixels is the number of mask pixels.
func (r Record) Pixels() int64 { return int64(r.Width) * int64(r.Height) }

// Fraction returns count / pixels, 0 for an empty mask.
func Fraction(count, pixels int64) float64 {
	if pixels == 0 {
		return 0
	}
	return float64(count) / float64(pixels)
}

// Summary collects the records of a batch. Merging summaries in any order
// gives the same result: records are kept sorted by Index.
type Summary struct {
	Records []Record
}

// Add adds one record.
func (s *Summary) Add(r Record) { s.Records = append(s.Records, r); s.sort() }

// Merge adds the records of o.
func (s *Summary) Merge(o Summary) { s.Records = append(s.Records, o.Records...); s.sort() }

func (s *Summary) sort() {
	slices.SortStableFunc(s.Records, func(a, b Record) int { return a.Index - b.Index })
}

// Totals sums a batch.
type Totals struct {
	Scenes, OK, Skipped, Failed int
	Pixels, NoData              int64
	Classes                     []string
	Counts                      []int64
	ElapsedS                    float64
}

// Totals sums the records: pixel counts over the scenes that have a mask
// (predicted or skipped); classes in order of first appearance.
func (s Summary) Totals() Totals {
	t := Totals{Scenes: len(s.Records), Classes: s.classes()}
	t.Counts = make([]int64, len(t.Classes))
	for _, r := range s.Records {
		switch r.Status {
		case StatusOK:
			t.OK++
		case StatusSkipped:
			t.Skipped++
		default:
			t.Failed++
			continue
		}
		t.Pixels += r.Pixels()
		t.NoData += r.NoData
		t.ElapsedS += r.ElapsedS
		for i, c := range r.Classes {
			t.Counts[slices.Index(t.Classes, c)] += r.Counts[i]
		}
	}
	return t
}

func (s Summary) classes() []string {
	var cl []string
	for _, r := range s.Records {
		for _, c := range r.Classes {
			if !slices.Contains(cl, c) {
				cl = append(cl, c)
			}
		}
	}
	return cl
}

func ffmt(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// WriteCSV writes one row per scene (index order) and a final TOTAL row:
// size, resolutions, the fraction of each class and of nodata, elapsed
// seconds and the error of failed scenes.
func (s Summary) WriteCSV(w io.Writer) error {
	t := s.Totals()
	cw := csv.NewWriter(w)
	head := []string{"index", "scene", "output", "status", "width", "height", "native_res_x_m", "native_res_y_m", "processing_res_m", "pixels"}
	for _, c := range t.Classes {
		head = append(head, c+"_fraction")
	}
	head = append(head, "nodata_fraction", "elapsed_s", "error")
	cw.Write(head)
	for _, r := range s.Records {
		row := []string{strconv.Itoa(r.Index), r.Scene, r.Output, r.Status}
		if r.Status == StatusFailed {
			row = append(row, make([]string, 6+len(t.Classes)+1)...)
			row = append(row, ffmt(r.ElapsedS), r.Error)
			cw.Write(row)
			continue
		}
		row = append(row, strconv.Itoa(r.Width), strconv.Itoa(r.Height), ffmt(r.NativeResX), ffmt(r.NativeResY),
			ffmt(r.ProcRes), strconv.FormatInt(r.Pixels(), 10))
		for _, c := range t.Classes {
			i := slices.Index(r.Classes, c)
			if i < 0 {
				row = append(row, "")
				continue
			}
			row = append(row, ffmt(Fraction(r.Counts[i], r.Pixels())))
		}
		row = append(row, ffmt(Fraction(r.NoData, r.Pixels())), ffmt(r.ElapsedS), r.Error)
		cw.Write(row)
	}
	row := []string{"", "TOTAL", "", totalStatus(t), "", "", "", "", "", strconv.FormatInt(t.Pixels, 10)}
	for i := range t.Classes {
		row = append(row, ffmt(Fraction(t.Counts[i], t.Pixels)))
	}
	row = append(row, ffmt(Fraction(t.NoData, t.Pixels)), ffmt(t.ElapsedS), totalNote(t))
	cw.Write(row)
	cw.Flush()
	return cw.Error()
}

func totalStatus(t Totals) string {
	if t.Failed > 0 {
		return StatusFailed
	}
	return StatusOK
}

func totalNote(t Totals) string {
	return fmt.Sprintf("%d scenes: %d predicted, %d skipped, %d failed", t.Scenes, t.OK, t.Skipped, t.Failed)
}

type jsonScene struct {
	Kind string `json:"kind"`
	Record
	Pixels    int64              `json:"pixels"`
	Fractions map[string]float64 `json:"fractions,omitempty"`
	NoDataF   float64            `json:"nodata_fraction"`
}

type jsonTotal struct {
	Kind      string             `json:"kind"`
	Scenes    int                `json:"scenes"`
	OK        int                `json:"ok"`
	Skipped   int                `json:"skipped"`
	Failed    int                `json:"failed"`
	Pixels    int64              `json:"pixels"`
	Counts    map[string]int64   `json:"counts"`
	Fractions map[string]float64 `json:"fractions"`
	NoData    int64              `json:"nodata"`
	NoDataF   float64            `json:"nodata_fraction"`
	ElapsedS  float64            `json:"elapsed_s"`
}

// WriteJSONL writes one JSON object per scene ("kind":"scene", the record
// with pixel count and fractions by class name) and a last one with the
// totals ("kind":"total").
func (s Summary) WriteJSONL(w io.Writer) error {
	enc := json.NewEncoder(w)
	for _, r := range s.Records {
		js := jsonScene{Kind: "scene", Record: r}
		if r.Status != StatusFailed {
			js.Pixels = r.Pixels()
			js.Fractions = map[string]float64{}
			for i, c := range r.Classes {
				js.Fractions[c] = Fraction(r.Counts[i], r.Pixels())
			}
			js.NoDataF = Fraction(r.NoData, r.Pixels())
		}
		if err := enc.Encode(js); err != nil {
			return err
		}
	}
	t := s.Totals()
	jt := jsonTotal{Kind: "total", Scenes: t.Scenes, OK: t.OK, Skipped: t.Skipped, Failed: t.Failed, Pixels: t.Pixels,
		Counts: map[string]int64{}, Fractions: map[string]float64{}, NoData: t.NoData,
		NoDataF: Fraction(t.NoData, t.Pixels), ElapsedS: t.ElapsedS}
	for i, c := range t.Classes {
		jt.Counts[c] = t.Counts[i]
		jt.Fractions[c] = Fraction(t.Counts[i], t.Pixels)
	}
	return enc.Encode(jt)
}

// WriteFiles writes summary.csv and summary.jsonl into dir, each atomically.
func (s Summary) WriteFiles(dir string) error {
	var c, j bytes.Buffer
	if err := s.WriteCSV(&c); err != nil {
		return err
	}
	if err := s.WriteJSONL(&j); err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(dir, SummaryCSV), c.Bytes()); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, SummaryJSONL), j.Bytes())
}

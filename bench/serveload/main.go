// Command serveload measures `omnimask serve`: latency (p50, p95) and
// throughput of POST /v1/predict at several scene sizes and numbers of
// concurrent clients, the server's peak resident memory against its memory
// budget, and requests/s against a loop of `omnimask predict` processes.
//
//	go build -o /tmp/omnimask ./cmd/omnimask
//	go run ./bench/serveload -bin /tmp/omnimask -sizes 512,1024 -clients 1,2,4 -n 8
//	go run ./bench/serveload -bin /tmp/omnimask -sizes 1024 -clients 4 -budget 2048,1000,600,min -loop 0
//
// Each budget gets a server of its own, so the peak resident memory
// (VmHWM) of each row is that budget's, over its rows so far.
// Scenes are synthetic Sentinel-2-like 4-band uint16 GeoTIFFs (as in
// bench/), sent as request bodies.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/omnimask/omnimask/internal/synth"
)

func main() {
	bin := flag.String("bin", "omnimask", "omnimask binary")
	sizes := flag.String("sizes", "512,1024", "scene sizes (pixels a side)")
	clients := flag.String("clients", "1,2,4", "concurrent clients")
	n := flag.Int("n", 8, "requests per client count and size")
	budgets := flag.String("budget", "2048", "server --memory-budget in MiB; several (2048,1000,min) start a server each; min: the least that admits one request of the scene")
	loops := flag.Int("loop", 4, "predict processes run one after another, per size, for the comparison")
	flag.Parse()
	dir, err := os.MkdirTemp("", "serveload")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	fmt.Printf("%d requests per row, load average %s\n\n", *n, loadavg())
	fmt.Println("| scene | budget | clients | p50 | p95 | requests/s | admitted at once | server peak RSS |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, size := range ints(*sizes) {
		path := filepath.Join(dir, fmt.Sprintf("s%d.tif", size))
		g := synth.New(synth.Options{Width: size, Height: size, Seed: 42, NoDataCorners: true, CloudScale: 300, Bands: []string{"blue", "green", "red", "nir"}})
		if err := g.WriteGeoTIFF(path, synth.FileOptions{}); err != nil {
			log.Fatal(err)
		}
		body, err := os.ReadFile(path)
		if err != nil {
			log.Fatal(err)
		}
		for _, bs := range strings.Split(*budgets, ",") {
			budget := 0
			if bs == "min" {
				budget = minBudget(*bin, body)
			} else if budget, err = strconv.Atoi(bs); err != nil {
				log.Fatal(err)
			}
			srv := start(*bin, budget)
			post(srv.url, body) // warm up
			est := metric(srv.url, "omnimask_memory_budget_peak_bytes")
			fmt.Printf("| %d² | %d MiB | (held before the models %d MiB, reserved for them %d MiB, one request %d MiB) | | | | | %d MiB |\n",
				size, budget, srv.held, metric(srv.url, "omnimask_memory_budget_reserved_bytes")>>20, est>>20, hwm(srv.cmd.Process.Pid)>>10)
			for _, c := range ints(*clients) {
				lat, wall := load(srv.url, body, c, *n)
				slices.Sort(lat)
				fmt.Printf("| %d² | %d MiB | %d | %.2f s | %.2f s | %.2f | %d | %d MiB |\n", size, budget, c, q(lat, 0.5), q(lat, 0.95),
					float64(len(lat))/wall.Seconds(), metric(srv.url, "omnimask_memory_budget_peak_bytes")/est, hwm(srv.cmd.Process.Pid)>>10)
			}
			srv.stop()
		}
		if *loops == 0 {
			continue
		}
		t0 := time.Now()
		for i := 0; i < *loops; i++ {
			cmd := exec.Command(*bin, "predict", path, "-o", filepath.Join(dir, "m.tif"), "--quiet")
			if b, err := cmd.CombinedOutput(); err != nil {
				log.Fatalf("%v: %s", err, b)
			}
		}
		fmt.Printf("| %d² | | predict loop | %.2f s each | | %.2f | | |\n", size, time.Since(t0).Seconds()/float64(*loops), float64(*loops)/time.Since(t0).Seconds())
	}
	fmt.Printf("\nload average %s\n", loadavg())
}

// server is a running `omnimask serve`.
type server struct {
	cmd  *exec.Cmd
	url  string
	held int64 // MiB the process held before loading the models
}

var listening = regexp.MustCompile(`http://127\.0\.0\.1:\d+|(\d+) MiB held`)

func start(bin string, budget int) *server {
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--memory-budget", strconv.Itoa(budget), "--wait", "--quiet")
	out, err := cmd.StdoutPipe()
	if err != nil {
		log.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		log.Fatalf("budget %d MiB: %v", budget, err)
	}
	s := &server{cmd: cmd}
	for _, m := range listening.FindAllStringSubmatch(line, -1) {
		if m[1] != "" {
			s.held, _ = strconv.ParseInt(m[1], 10, 64)
		} else {
			s.url = m[0]
		}
	}
	if s.url == "" {
		log.Fatalf("no address in %q", line)
	}
	return s
}

func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	s.cmd.Wait()
}

// minBudget is the least --memory-budget in MiB that admits one request of
// body: what the process held before loading the models, their
// reservation and the request's estimate, as a server with room reports
// them (plus 4 MiB: the process's start varies a little).
func minBudget(bin string, body []byte) int {
	s := start(bin, 1<<20)
	defer s.stop()
	post(s.url, body)
	b := s.held<<20 + metric(s.url, "omnimask_memory_budget_reserved_bytes") + metric(s.url, "omnimask_memory_budget_peak_bytes")
	return int((b+1<<20-1)>>20) + 4
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

// metric reads a gauge from the server's /metrics.
func metric(url, name string) int64 {
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

func load(url string, body []byte, clients, n int) ([]float64, time.Duration) {
	var mu sync.Mutex
	var lat []float64
	var wg sync.WaitGroup
	t0 := time.Now()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n/clients+boolInt(c < n%clients); i++ {
				t := time.Now()
				post(url, body)
				mu.Lock()
				lat = append(lat, time.Since(t).Seconds())
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return lat, time.Since(t0)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func post(url string, body []byte) {
	resp, err := http.Post(url+"/v1/predict", "image/tiff", bytes.NewReader(body))
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		log.Fatalf("%d: %s", resp.StatusCode, b)
	}
}

func q(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

func ints(s string) []int {
	var v []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			log.Fatal(err)
		}
		v = append(v, n)
	}
	return v
}

// hwm is a process's peak resident memory in KiB (VmHWM).
func hwm(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb
		}
	}
	return 0
}

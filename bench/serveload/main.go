// Command serveload measures `omnimask serve`: latency (p50, p95) and
// throughput of POST /v1/predict at several scene sizes and numbers of
// concurrent clients, the server's peak resident memory against its memory
// budget, and requests/s against a loop of `omnimask predict` processes.
//
//	go build -o /tmp/omnimask ./cmd/omnimask
//	go run ./bench/serveload -bin /tmp/omnimask -sizes 512,1024 -clients 1,2,4 -n 8
//
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
	budget := flag.Int("budget", 2048, "server --memory-budget in MiB")
	loops := flag.Int("loop", 4, "predict processes run one after another, per size, for the comparison")
	flag.Parse()
	dir, err := os.MkdirTemp("", "serveload")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	srv := exec.Command(*bin, "serve", "--addr", "127.0.0.1:0", "--memory-budget", strconv.Itoa(*budget), "--wait", "--quiet")
	out, err := srv.StdoutPipe()
	if err != nil {
		log.Fatal(err)
	}
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	defer func() { srv.Process.Signal(syscall.SIGTERM); srv.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		log.Fatal(err)
	}
	m := regexp.MustCompile(`http://127\.0\.0\.1:\d+`).FindString(line)
	if m == "" {
		log.Fatalf("no address in %q", line)
	}
	fmt.Printf("server %s, budget %d MiB, %d requests per row\n\n", m, *budget, *n)
	fmt.Println("| scene | clients | p50 | p95 | requests/s | server peak RSS |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, s := range ints(*sizes) {
		path := filepath.Join(dir, fmt.Sprintf("s%d.tif", s))
		g := synth.New(synth.Options{Width: s, Height: s, Seed: 42, NoDataCorners: true, CloudScale: 300, Bands: []string{"blue", "green", "red", "nir"}})
		if err := g.WriteGeoTIFF(path, synth.FileOptions{}); err != nil {
			log.Fatal(err)
		}
		body, err := os.ReadFile(path)
		if err != nil {
			log.Fatal(err)
		}
		post(m, body) // warm up
		fmt.Printf("| %d² | (one request's estimate: %d MiB) | | | | |\n", s, metric(m, "omnimask_memory_budget_peak_bytes")>>20)
		for _, c := range ints(*clients) {
			lat, wall := load(m, body, c, *n)
			slices.Sort(lat)
			fmt.Printf("| %d² | %d | %.2f s | %.2f s | %.2f | %d MiB |\n", s, c, q(lat, 0.5), q(lat, 0.95), float64(len(lat))/wall.Seconds(), hwm(srv.Process.Pid)>>10)
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
		fmt.Printf("| %d² | predict loop | %.2f s each | | %.2f | |\n", s, time.Since(t0).Seconds()/float64(*loops), float64(*loops)/time.Since(t0).Seconds())
	}
	fmt.Printf("\nserver peak RSS %d MiB with a budget of %d MiB (estimated working memory admitted at once: peak %d MiB)\n",
		hwm(srv.Process.Pid)>>10, *budget, metric(m, "omnimask_memory_budget_peak_bytes")>>20)
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

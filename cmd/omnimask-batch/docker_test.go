package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// dockerSteps returns the Dockerfile's instructions of the final stage,
// continuation lines joined.
func dockerSteps(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	cur := ""
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		cur += " " + strings.TrimSuffix(l, `\`)
		if !strings.HasSuffix(l, `\`) {
			steps = append(steps, strings.Join(strings.Fields(cur), " "))
			cur = ""
		}
	}
	last := 0
	for i, s := range steps {
		if strings.HasPrefix(s, "FROM ") {
			last = i
		}
	}
	return steps[last:]
}

// The Dockerfile installs what scripts/deps.sh expects, then runs `make
// deps` (its steps in its order: system packages, ONNX Runtime, Go
// modules), then builds; it uses the ONNX Runtime library deps.sh puts in
// place, and ends as a Beam SDK container.
func TestDockerfileFollowsDeps(t *testing.T) {
	deps, err := os.ReadFile(filepath.Join("..", "..", "scripts", "deps.sh"))
	if err != nil {
		t.Fatal(err)
	}
	ds := string(deps)
	// deps.sh's own order, which `make deps` runs: if it changes, the
	// Dockerfile's prerequisites below must be checked again.
	order := []string{"apt-get install", "npm pack", "go mod download"}
	pos := -1
	for _, s := range order {
		i := strings.Index(ds, s)
		if i < pos {
			t.Fatalf("scripts/deps.sh: %q comes before the previous step; update the Dockerfile and this test", s)
		}
		pos = i
	}
	ortLib := regexp.MustCompile(`(?m)^ORT_DIR=(\S+)\nORT_LIB=\$ORT_DIR/(\S+)$`).FindStringSubmatch(ds)
	if ortLib == nil {
		t.Fatal("scripts/deps.sh: ORT_DIR/ORT_LIB not found")
	}

	steps := dockerSteps(t)
	if !strings.HasPrefix(steps[0], "FROM debian:") {
		t.Errorf("final stage %q: want a Debian base (deps.sh installs with apt-get)", steps[0])
	}
	find := func(pattern string) int {
		re := regexp.MustCompile(pattern)
		for i, s := range steps {
			if re.MatchString(s) {
				return i
			}
		}
		t.Errorf("Dockerfile: no step matches %q", pattern)
		return -1
	}
	var (
		tools    = find(`^RUN apt-get update .*apt-get install .*\bmake\b.*\bnpm\b`)
		goTar    = find(`^RUN curl .*go\$\{GO_VERSION\}\.linux-amd64\.tar\.gz.*tar -C /usr/local`)
		goPath   = find(`^ENV PATH=/usr/local/go/bin:`)
		copySrc  = find(`^COPY \. \.$`)
		makeDeps = find(`^RUN make deps$`)
		build    = find(`^RUN make build `)
		ortEnv   = find(`^ENV ONNXRUNTIME_LIB=/usr/local/lib/` + regexp.QuoteMeta(ortLib[2]) + `$`)
		boot     = find(`^COPY --from=beam /opt/apache/beam /opt/apache/beam$`)
		entry    = find(`^ENTRYPOINT \["/opt/apache/beam/boot"\]$`)
	)
	for _, c := range []struct {
		name        string
		before, now int
	}{
		{"make and npm installed before make deps", tools, makeDeps},
		{"Go installed before make deps", goTar, makeDeps},
		{"Go on PATH before make deps", goPath, makeDeps},
		{"sources copied before make deps", copySrc, makeDeps},
		{"make deps before make build", makeDeps, build},
		{"library installed before it is named", build, ortEnv},
		{"Beam boot before the entry point", boot, entry},
	} {
		if c.before < 0 || c.now < 0 || c.before >= c.now {
			t.Errorf("%s: steps %d and %d", c.name, c.before, c.now)
		}
	}
	for i, s := range steps[:max(makeDeps, 0)] {
		if strings.Contains(s, "go mod") || strings.Contains(s, "go build") || strings.Contains(s, "libgdal") || strings.Contains(s, "onnxruntime") {
			t.Errorf("step %d %q does part of make deps' work ahead of it", i, s)
		}
	}
	if b := steps[build]; !strings.Contains(b, "bin/omnimask-batch") || !strings.Contains(b, filepath.Join(ortLib[1], ortLib[2])) {
		t.Errorf("build step %q: want it to install bin/omnimask-batch and %s/%s", b, ortLib[1], ortLib[2])
	}
	ign, err := os.ReadFile(filepath.Join("..", "..", ".dockerignore"))
	if err != nil || !strings.Contains(string(ign), ortLib[1]) {
		t.Errorf(".dockerignore must leave out %s (make deps fetches it in the image): %v", ortLib[1], err)
	}
	mk, err := os.ReadFile(filepath.Join("..", "..", "Makefile"))
	if err != nil || !regexp.MustCompile(`(?m)^build: deps\n(\t.*\n)*\t.*-o \$\(BIN\)-batch \./cmd/omnimask-batch`).Match(mk) {
		t.Errorf("Makefile: build must build ./cmd/omnimask-batch into bin/omnimask-batch (%v)", err)
	}
}

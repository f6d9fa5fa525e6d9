package gdalio

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Register leaves the process environment alone: GDAL's block cache size
// (GDAL_CACHEMAX) is the program's to set. Register runs once per process,
// so the check runs in a fresh one.
func TestRegisterLeavesEnvironment(t *testing.T) {
	const child = "OMNIMASK_GDALIO_TEST_CHILD"
	if os.Getenv(child) != "" {
		if _, set := os.LookupEnv("GDAL_CACHEMAX"); set {
			t.Fatal("GDAL_CACHEMAX set before Register")
		}
		Register()
		if v, set := os.LookupEnv("GDAL_CACHEMAX"); set {
			t.Fatalf("Register set GDAL_CACHEMAX=%s", v)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestRegisterLeavesEnvironment$", "-test.v")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GDAL_CACHEMAX=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, child+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestRegisterLeavesEnvironment") {
		t.Fatalf("child process (%v):\n%s", err, out)
	}
}

package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// TestTheProfilerServesOnlyOnLoopback: --pprof refuses an address others
// can reach, and on loopback serves the profile index.
func TestTheProfilerServesOnlyOnLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:6060", "example.com:6060", "6060"} {
		if _, stop, err := startPprof(addr, hclog.NewNullLogger()); err == nil {
			stop()
			t.Fatalf("--pprof %s was accepted", addr)
		} else if !strings.Contains(err.Error(), "--pprof") {
			t.Fatalf("--pprof %s: the error does not name the flag: %v", addr, err)
		}
	}
	bound, stop, err := startPprof("127.0.0.1:0", hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	resp, err := http.Get("http://" + bound + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "goroutine") {
		t.Fatalf("GET /debug/pprof/: %s\n%s", resp.Status, body)
	}
}

// TestBenchConsensusWritesACPUProfile: --cpuprofile leaves a profile of
// the run that go tool pprof reads (a gzipped protobuf).
func TestBenchConsensusWritesACPUProfile(t *testing.T) {
	dir := t.TempDir()
	prof := filepath.Join(dir, "cpu.prof")
	_, errOut, code := run(t, dir, "bench", "consensus", "--quick", "--modes", "A", "--sizes", "4", "--loads", "100", "--cpuprofile", prof)
	if code != 0 {
		t.Fatalf("bench consensus --cpuprofile: exit %d\n%s", code, errOut)
	}
	b, err := os.ReadFile(prof)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b || !strings.Contains(errOut, "CPU profile written to "+prof) {
		t.Fatalf("no gzipped profile at %s (%d bytes):\n%s", prof, len(b), errOut)
	}
}

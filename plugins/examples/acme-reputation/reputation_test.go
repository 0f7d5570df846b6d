package main

import (
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	sha256 "github.com/minio/sha256-simd"

	"github.com/constellation-chain/constellation/conformance"
	"github.com/constellation-chain/constellation/interfaces"
	"github.com/constellation-chain/constellation/plugins/host"
)

// In process: the quickest loop while developing.
func TestConformanceInProcess(t *testing.T) {
	conformance.RunReputation(t, Factory{})
}

// Out of process: build the binary and run the same suite through the
// plugin RPC, exactly as `constellation conformance` does.
func TestConformanceOutOfProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin binary; run without -short")
	}
	bin := filepath.Join(t.TempDir(), "acme-reputation")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("go build: %v", err)
	}
	f, err := os.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	_, err = io.Copy(h, f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sha256 %s", hex.EncodeToString(h.Sum(nil)))
	p, err := host.Load(host.LoadOptions{Kind: interfaces.KindReputation, Name: "acme-trust", Path: bin, SHA256: h.Sum(nil)})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	fac, err := p.Factory()
	if err != nil {
		t.Fatal(err)
	}
	conformance.RunReputation(t, fac.(interfaces.ReputationFactory))
}

func TestConfigDecimalsAreParsedWithoutFloats(t *testing.T) {
	for in, want := range map[string]interfaces.Score{"0.98": 980_000_000, "1": interfaces.ScoreOne, "0.000000001": 1, "0.5": 500_000_000} {
		got, err := parseFixed(in)
		if err != nil || got != want {
			t.Errorf("parseFixed(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", ".5", "1e-2", "-0.5", "0.0000000001", "abc"} {
		if _, err := parseFixed(bad); err == nil {
			t.Errorf("parseFixed(%q) accepted", bad)
		}
	}
	if _, err := (Factory{}).NewReputation([]byte(`{"decay": 1.5}`)); err == nil {
		t.Error("decay 1.5 accepted")
	}
	if _, err := (Factory{}).NewReputation([]byte(`{"decay": 0.9, "fault_penalty": 0.25}`)); err != nil {
		t.Errorf("valid config refused: %v", err)
	}
}

func TestProposingRaisesTheScoreAndFaultsCutIt(t *testing.T) {
	r, _ := Factory{}.NewReputation(nil)
	a, b := interfaces.DevStar("a"), interfaces.DevStar("b")
	r.Observe(interfaces.Observation{Height: 1, Meta: interfaces.BlockMeta{Proposers: []interfaces.StarID{a, b}}})
	if r.Score(a) != newcomer+interfaces.ScoreOne {
		t.Fatalf("score after one proposal = %d", r.Score(a))
	}
	r.Observe(interfaces.Observation{Height: 2, Meta: interfaces.BlockMeta{Faults: []interfaces.Fault{{Star: a, Kind: interfaces.FaultEquivocation}}}})
	if !(r.Score(a) < r.Score(b)) {
		t.Fatalf("a faulted but scores %d >= b's %d", r.Score(a), r.Score(b))
	}
}

func FuzzRestore(f *testing.F) {
	r, _ := Factory{}.NewReputation(nil)
	r.Observe(interfaces.Observation{Meta: interfaces.BlockMeta{Proposers: []interfaces.StarID{interfaces.DevStar("a")}}})
	snap, _ := r.Snapshot()
	f.Add(snap)
	f.Add([]byte{1, 0})
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, _ := Factory{}.NewReputation(nil)
		if r.Restore(raw) != nil {
			return
		}
		again, err := r.Snapshot()
		if err != nil || string(again) != string(raw) {
			t.Fatalf("accepted a snapshot that is not canonical: %x -> %x", raw, again)
		}
	})
}

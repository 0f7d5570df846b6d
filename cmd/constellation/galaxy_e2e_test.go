package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/constellation-chain/constellation/framework/api"
	"github.com/constellation-chain/constellation/framework/keys"
	"github.com/constellation-chain/constellation/framework/store"
	"github.com/constellation-chain/constellation/interfaces"
)

// TestTheGalaxyRotatesFromTheCLI runs the default network on ports of its
// own with rotation every 4 black holes, and star-3 and star-7, delegates
// of clusters 0 and 1, as galaxy candidates (role "galaxy-candidate"):
// they keep the galaxy's chain with no genesis share and stand for it.
// Within 200 s a galaxy rotation (every 16 black holes) seats one of them, and both stand:
// GET /v1/clusters on star-1 lists it among the galaxy's members. Stopped
// with Ctrl-C, the network's chains verify offline (the galaxy's key
// generations and handovers included) and `reputation replay` shows the
// galaxy's candidates and their streaks.
func TestTheGalaxyRotatesFromTheCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("runs an eight-process testnet")
	}
	dir := t.TempDir()
	src, errOut, code := run(t, dir, "manifest", "default")
	if code != 0 {
		t.Fatalf("manifest default: %s", errOut)
	}
	src = strings.ReplaceAll(src, "tcp/70", "tcp/75")
	src = strings.ReplaceAll(src, "127.0.0.1:80", "127.0.0.1:85")
	src = strings.Replace(src, "  genesis {\n", "  genesis {\n    rotation {\n      every = 4\n    }\n", 1)
	for _, n := range []string{"star-3", "star-7"} {
		i := strings.Index(src, `node "`+n+`"`)
		j := i + strings.Index(src[i:], "roles     = [\"star\", \"cluster\"]")
		src = src[:j] + `roles     = ["star", "cluster", "galaxy-candidate"]` + src[j+len(`roles     = ["star", "cluster"]`):]
	}
	path := filepath.Join(dir, "net.hcl")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code := run(t, dir, "manifest", "validate", path); code != 0 {
		t.Fatalf("manifest validate exit %d\n%s\n%s", code, out, errOut)
	}
	data := filepath.Join(dir, "data")
	tn := exec.Command(binary, "--log-level", "warn", "testnet", "--manifest", path, "--data", data, "--duration", "220s", "--rate", "50")
	tn.Dir = dir
	var tnOut bytes.Buffer
	tn.Stdout, tn.Stderr = &tnOut, &tnOut
	if err := tn.Start(); err != nil {
		t.Fatal(err)
	}
	defer tn.Process.Kill()
	cands := map[string]string{} // star -> node
	cl := api.NewClient("127.0.0.1:8501")
	var seated string
	for until := time.Now().Add(200 * time.Second); seated == ""; time.Sleep(2 * time.Second) {
		if time.Now().After(until) {
			tn.Process.Kill()
			tn.Wait()
			t.Fatalf("no galaxy candidate was seated within 200 s:\n%s", tnOut.String())
		}
		for _, n := range []string{"star-3", "star-7"} {
			if k, err := keys.Load(filepath.Join(dir, "keys", n+".key")); err == nil {
				cands[keys.Star(k).String()] = n
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		cs, err := cl.Clusters(ctx)
		cancel()
		if err != nil || cs.Galaxy == nil {
			continue
		}
		for _, m := range cs.Galaxy.Members {
			if n, ok := cands[m]; ok {
				seated = n
			}
		}
		if seated != "" && !slices.ContainsFunc(cs.Galaxy.Candidates, func(s string) bool { return cands[s] != "" }) {
			t.Fatalf("the galaxy seated %s, and lists no galaxy candidate: %v", seated, cs.Galaxy.Candidates)
		}
	}
	t.Logf("the galaxy seated %s", seated)
	time.Sleep(8 * time.Second) // black holes after the handover finalize transfers
	tn.Process.Signal(os.Interrupt)
	if err := tn.Wait(); err != nil {
		t.Fatalf("testnet: %v\n%s", err, tnOut.String())
	}
	genesis := filepath.Join(dir, "keys", "genesis.json")
	for _, n := range []string{"star-1", seated} {
		if out, errOut, code := run(t, dir, "chain", "verify", "--manifest", path, "--genesis", genesis, filepath.Join(data, n)); code != 0 {
			t.Fatalf("chain verify %s exit %d\n%s\n%s", n, code, out, errOut)
		}
	}
	// A light client's proof of a transfer that a black hole after the
	// galaxy's handover finalized verifies under the genesis file's galaxy
	// key: resharing kept it.
	txid, after := transferFinalizedAfterHandover(t, data)
	proof := filepath.Join(dir, "tx.proof")
	if o, e, code := run(t, dir, "proof", "--data", data, "--out", proof, txid); code != 0 {
		t.Fatalf("proof: %s %s", o, e)
	}
	vout, verr, vcode := run(t, dir, "verify", "--genesis", genesis, proof)
	m := regexp.MustCompile(`finalized by black hole (\d+)`).FindStringSubmatch(vout)
	if vcode != 0 || m == nil {
		t.Fatalf("verify of a proof finalized after the galaxy's handover at black hole %d: exit %d\n%s\n%s", after, vcode, vout, verr)
	}
	if bh, _ := strconv.ParseUint(m[1], 10, 64); bh <= after {
		t.Fatalf("the proof is of black hole %d, not after the handover at %d", bh, after)
	}
	t.Logf("a proof of black hole %s, after the galaxy's handover at %d, verifies under the genesis key", m[1], after)
	out, errOut, code := run(t, dir, "reputation", "replay", "--galaxy", filepath.Join(data, "star-1"), "--manifest", path, "--genesis", genesis)
	if code != 0 {
		t.Fatalf("reputation replay exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "galaxy: 6 candidates") && !strings.Contains(out, "of 6 candidates drawn") {
		t.Fatalf("reputation replay does not list the four genesis members and both galaxy candidates as standing for the galaxy:\n%s", out)
	}
	t.Logf("reputation replay:\n%s", out)
}

// transferFinalizedAfterHandover returns a transfer of cluster 0 (star-1's
// chain) whose checkpoint a black hole after the galaxy's first handover
// holds, and that handover's black hole.
func transferFinalizedAfterHandover(t *testing.T, data string) (string, uint64) {
	t.Helper()
	gst, err := store.Open(filepath.Join(data, "star-1", "galaxy", "chain"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer gst.Close()
	cst, err := store.Open(filepath.Join(data, "star-1", "chain"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cst.Close()
	head, _, _ := gst.Head()
	var handover uint64
	for h := uint64(1); h <= head && handover == 0; h++ {
		if b, err := gst.Block(h); err == nil && b.Meta.Handover != nil {
			handover = h
		}
	}
	if handover == 0 {
		t.Fatalf("no black hole of %d hands the galaxy over", head)
	}
	for h := head; h > handover; h-- {
		bh, err := gst.Block(h)
		if err != nil {
			t.Fatal(err)
		}
		for _, tx := range bh.Txs {
			if tx.Kind != interfaces.TxCheckpoint {
				continue
			}
			cp, err := interfaces.DecodeCheckpointPayload(tx.Payload)
			if err != nil || cp.Header.Cluster != 0 {
				continue
			}
			b, err := cst.Block(cp.Header.Height)
			if err != nil {
				continue
			}
			for _, x := range b.Txs {
				if x.Kind == interfaces.TxTransfer {
					return x.ID().String(), handover
				}
			}
		}
	}
	t.Fatalf("no transfer of cluster 0 is finalized after the galaxy's handover at black hole %d of %d", handover, head)
	return "", 0
}

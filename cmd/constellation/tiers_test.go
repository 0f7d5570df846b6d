package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/constellation-chain/constellation/builtin/honeybadger"
	"github.com/constellation-chain/constellation/builtin/lsh"
	"github.com/constellation-chain/constellation/framework/keys"
	"github.com/constellation-chain/constellation/framework/ledger"
	"github.com/constellation-chain/constellation/framework/manifest"
	"github.com/constellation-chain/constellation/framework/node"
	"github.com/constellation-chain/constellation/framework/store"
	"github.com/constellation-chain/constellation/interfaces"
)

// TestDefaultTestnetRunsTwoClustersAndAGalaxy is the hierarchy's
// end-to-end test: `constellation testnet` on the embedded default manifest
// runs eight node processes over libp2p on loopback (two clusters of four
// and a galaxy of four) under load, until fifteen new black holes exist.
// Afterwards, from the nodes' data directories alone:
//
//   - at every black hole, the balances of both clusters' chains as of the
//     checkpoints it finalized, plus the receipts debited and not yet
//     credited and the mints not yet claimed, sum to the genesis supply
//     plus what the beacons so far minted;
//   - transfers inside and across clusters were committed, and credits
//     arrived;
//   - every galaxy member holds the same black holes, and `chain verify`
//     replays every node's chains;
//   - black holes publish beacons, and `reputation replay --galaxy`
//     recomputes the delegate sets the newest one published;
//   - a proof of a finalized transaction verifies with `constellation
//     verify`, and the same proof with one byte changed does not.
func TestDefaultTestnetRunsTwoClustersAndAGalaxy(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	out, errOut, code := run(t, dir, "--log-level", "warn", "testnet", "--data", data, "--blocks", "25", "--duration", "120s", "--rate", "300")
	if code != 0 {
		t.Fatalf("testnet exit %d\n%s\n%s", code, out, errOut)
	}
	if !regexp.MustCompile(`c0: \d+ \(\d+\) \d+ tx/s \| c1: \d+ \(\d+\) \d+ tx/s \| black holes \d+ \| cross [\d.]+% \| in flight \d+`).MatchString(out) {
		t.Fatalf("no status line with both clusters, black holes, the cross share and receipts in flight:\n%s", out)
	}

	m, diags := manifest.ParseDefault()
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	gf, err := keys.LoadGenesisFile(filepath.Join(data, "keys", "genesis.json"))
	if err != nil {
		t.Fatal(err)
	}
	part, err := lsh.Factory{}.NewPartitioner(2, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := node.HierarchyFrom(gf, 2, honeybadger.Factory{}, node.CachedOwner(part))
	if err != nil {
		t.Fatal(err)
	}
	h.Mint = node.MintOf(m)
	var opened []*store.Store
	open := func(path string) *store.Store {
		st, err := store.Open(path, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		opened = append(opened, st)
		t.Cleanup(func() { st.Close() })
		return st
	}
	galaxy := open(filepath.Join(data, "star-1", "galaxy", "chain"))
	clusters := []*store.Store{open(filepath.Join(data, "star-1", "chain")), open(filepath.Join(data, "star-5", "chain"))}

	// Every galaxy member holds the same black holes.
	bhHead, bhHash, _ := galaxy.Head()
	if bhHead < 15 {
		t.Fatalf("%d black holes, want at least 15", bhHead)
	}
	for _, nm := range []string{"star-2", "star-5", "star-6"} {
		other := open(filepath.Join(data, nm, "galaxy", "chain"))
		oh, _, _ := other.Head()
		hh := min(oh, bhHead)
		a, _ := galaxy.Block(hh)
		b, err := other.Block(hh)
		if err != nil || a.Hash() != b.Hash() {
			t.Fatalf("%s's black hole %d differs from star-1's (%v)", nm, hh, err)
		}
	}
	_ = bhHash

	// Supply at every black hole.
	fin := checkSupplyAtEveryBlackHole(t, m, h, galaxy, clusters, bhHead)
	if fin.crossTxs == 0 || fin.credits == 0 || fin.beacons == 0 || fin.moves == 0 {
		t.Fatalf("%d cross-cluster transfers, %d credits, %d beacons and %d account moves were finalized; want all four", fin.crossTxs, fin.credits, fin.beacons, fin.moves)
	}
	t.Logf("finalized: %d cross-cluster receipts, %d credits, %d beacons, %d account moves", fin.crossTxs, fin.credits, fin.beacons, fin.moves)
	replayed := fin.replayed

	// A proof of a transfer in a finalized checkpoint of cluster 1.
	var txid string
	for hgt := uint64(1); hgt <= replayed[1] && txid == ""; hgt++ {
		b, _ := clusters[1].Block(hgt)
		for _, tx := range b.Txs {
			if tx.Kind == interfaces.TxTransfer {
				txid = tx.ID().String()
				break
			}
		}
	}
	if txid == "" {
		t.Fatal("no transfer in a finalized checkpoint of cluster 1")
	}
	// Every node's chains replay (chain verify opens the stores itself).
	for _, st := range opened {
		st.Close()
	}
	for i := 1; i <= 8; i++ {
		nd := filepath.Join(data, "star-"+string(rune('0'+i)))
		if o, e, code := run(t, dir, "chain", "verify", nd); code != 0 {
			t.Fatalf("chain verify %s: %s %s", nd, o, e)
		}
	}

	// The delegate sets the newest beacon published replay from the
	// galaxy's chain alone.
	if o, e, code := run(t, dir, "reputation", "replay", "--galaxy", filepath.Join(data, "star-5")); code != 0 || !strings.Contains(o, "cluster 1:") {
		t.Fatalf("reputation replay --galaxy: exit %d\n%s\n%s", code, o, e)
	}
	proof := filepath.Join(dir, "tx.proof")
	if o, e, code := run(t, dir, "proof", "--data", data, "--out", proof, txid); code != 0 {
		t.Fatalf("proof: %s %s", o, e)
	}
	raw, err := os.ReadFile(proof)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.TrimSpace(string(raw))) / 2; n > 5000 {
		t.Errorf("proof is %d bytes, want under 5 KB", n)
	}
	genesis := filepath.Join(data, "keys", "genesis.json")
	if o, e, code := run(t, dir, "verify", "--genesis", genesis, proof); code != 0 || !strings.Contains(o, "final: transaction "+txid) {
		t.Fatalf("verify of a good proof: exit %d\n%s\n%s", code, o, e)
	}
	for _, at := range []int{20, 400, len(raw)/2 - 40} {
		bad := []byte(strings.TrimSpace(string(raw)))
		if bad[at] == '0' {
			bad[at] = '1'
		} else {
			bad[at] = '0'
		}
		badPath := filepath.Join(dir, "bad.proof")
		os.WriteFile(badPath, bad, 0o644)
		if o, _, code := run(t, dir, "verify", "--genesis", genesis, badPath); code == 0 {
			t.Fatalf("a proof changed at hex digit %d verifies: %s", at, o)
		}
	}
}

// TestACandidateNodeStandsFromTheCLI runs the default network with
// rotation and a ninth node, star-9, with the candidate role for cluster
// 0: no genesis seat, no key share. It follows cluster 0's chain, stands
// once caught up, and the galaxy's registry lists it: `reputation replay`
// shows five candidates for cluster 0's four seats. Afterwards `chain
// verify` replays the rotating chains offline.
func TestACandidateNodeStandsFromTheCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a nine-process testnet")
	}
	dir := t.TempDir()
	src, errOut, code := run(t, dir, "manifest", "default")
	if code != 0 {
		t.Fatalf("manifest default: %s", errOut)
	}
	src = strings.Replace(src, "  genesis {\n", "  genesis {\n    rotation {\n      every = 4\n    }\n", 1)
	src += `
node "star-9" {
  key_file  = "keys/star-9.key"
  listen    = "/ip4/127.0.0.1/tcp/7009"
  api       = "127.0.0.1:8009"
  bootstrap = ["/ip4/127.0.0.1/tcp/7001", "/ip4/127.0.0.1/tcp/7002"]
  roles     = ["star", "candidate"]
  cluster   = 0
}
`
	path := filepath.Join(dir, "net.hcl")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	// The network runs until star-9's candidacy is in cluster 0's chain,
	// and a few seconds more for black holes to finalize it (a count of
	// black holes would depend on the machine's speed), within 150 s.
	first := exec.Command(binary, "--log-level", "warn", "testnet", "--manifest", path, "--data", data, "--duration", "150s", "--rate", "100")
	first.Dir = dir
	var firstOut bytes.Buffer
	first.Stdout, first.Stderr = &firstOut, &firstOut
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer first.Process.Kill()
	for until := time.Now().Add(120 * time.Second); ; time.Sleep(time.Second) {
		o, e, code := run(t, dir, "member", "status", "--manifest", path, "--node", "star-9")
		if code == 0 && strings.Contains(o, "stands for cluster 0's seats; membership chain at 1") {
			break
		}
		if time.Now().After(until) {
			first.Process.Kill()
			first.Wait()
			t.Fatalf("star-9 never stood within 120 s:\n%s%s\n%s", o, e, firstOut.String())
		}
	}
	time.Sleep(10 * time.Second)
	first.Process.Signal(os.Interrupt)
	if err := first.Wait(); err != nil {
		t.Fatalf("testnet: %v\n%s", err, firstOut.String())
	}
	out, errOut, code := run(t, dir, "reputation", "replay", "--galaxy", filepath.Join(data, "star-1"), "--manifest", path, "--genesis", filepath.Join(dir, "keys", "genesis.json"))
	if code != 0 {
		t.Fatalf("reputation replay exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "cluster 0: 4 of 5 candidates drawn") || !strings.Contains(out, "cluster 1: 4 of 4 candidates drawn") {
		t.Fatalf("the galaxy does not list star-9 as cluster 0's fifth candidate:\n%s", out)
	}
	// Offline, every chain replays, key generations and handovers
	// included: the candidate's follower chain, a delegate's of each
	// cluster and a galaxy member's.
	for _, n := range []string{"star-9", "star-1", "star-5"} {
		out, errOut, code = run(t, dir, "chain", "verify", "--manifest", path, "--genesis", filepath.Join(dir, "keys", "genesis.json"), filepath.Join(data, n))
		if code != 0 {
			t.Fatalf("chain verify %s exit %d\n%s\n%s", n, code, out, errOut)
		}
	}

	// The network resumes; star-9 stands down by hand, and the galaxy
	// drops it from cluster 0's candidates.
	tn := exec.Command(binary, "--log-level", "warn", "testnet", "--manifest", path, "--data", data, "--duration", "100s", "--rate", "50")
	tn.Dir = dir
	var tnOut bytes.Buffer
	tn.Stdout, tn.Stderr = &tnOut, &tnOut
	if err := tn.Start(); err != nil {
		t.Fatal(err)
	}
	defer tn.Process.Kill()
	member := func(verb string) (string, int) {
		out, errOut, code := run(t, dir, "member", verb, "--manifest", path, "--node", "star-9", "--wait", "60s")
		return out + errOut, code
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, code := member("status")
		if code == 0 && strings.Contains(out, "stands for cluster 0's seats; membership chain at 1") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("member status never answered that star-9 stands:\n%s", out)
		}
		time.Sleep(time.Second)
	}
	if out, code := member("leave"); code != 0 || !strings.Contains(out, "does not stand for cluster 0's seats; membership chain at 2") {
		t.Fatalf("member leave exit %d:\n%s", code, out)
	}
	if out, code := member("leave"); code == 0 || !strings.Contains(out, "nothing to do") {
		t.Fatalf("a second leave exit %d, want a refusal:\n%s", code, out)
	}
	if err := tn.Wait(); err != nil {
		t.Fatalf("testnet: %v\n%s", err, tnOut.String())
	}
	out, errOut, code = run(t, dir, "reputation", "replay", "--galaxy", filepath.Join(data, "star-1"), "--manifest", path, "--genesis", filepath.Join(dir, "keys", "genesis.json"))
	if code != 0 {
		t.Fatalf("after the leave, reputation replay exit %d:\n%s\n%s", code, out, errOut)
	}
	// The leave is final once a black hole takes the cluster block that
	// holds it, and the galaxy's next draw counts four candidates.
	if !strings.Contains(out, "cluster 0: 4 of 4 candidates drawn") {
		seen := regexp.MustCompile(`black holes (\d+)`).FindAllStringSubmatch(tnOut.String(), -1)
		from, to := "-", "-"
		if len(seen) > 0 {
			from, to = seen[0][1], seen[len(seen)-1][1]
		}
		t.Fatalf("after star-9's leave (black holes %s to %s), the galaxy still counts it among cluster 0's candidates:\n%s", from, to, out)
	}
}

// finalizedCounts is what checkSupplyAtEveryBlackHole saw finalized.
type finalizedCounts struct {
	crossTxs, credits, beacons, moves int
	replayed                          []uint64 // each cluster's blocks the black holes finalized
}

// checkSupplyAtEveryBlackHole replays, black hole by black hole up to
// bhHead, the cluster blocks each finalizes (clusters[c] is cluster c's
// chain, from a node that keeps it), and checks at each one that the
// clusters' balances, plus the receipts debited and not yet credited and
// the mints not yet claimed, sum to the genesis supply plus what the
// beacons so far minted.
func checkSupplyAtEveryBlackHole(t *testing.T, m *manifest.Manifest, h *node.Hierarchy, galaxy *store.Store, clusters []*store.Store, bhHead uint64) finalizedCounts {
	t.Helper()
	rules := make([]*ledger.Rules, len(clusters))
	for c := range clusters {
		var err error
		if rules[c], err = h.ReplayRules(interfaces.ClusterID(c), honeybadger.Factory{}); err != nil {
			t.Fatal(err)
		}
	}
	var total uint64
	for _, a := range m.Network.Genesis.Allocations {
		total += a.Amount
	}
	g := node.GenesisOf(m)
	k := len(clusters)
	states := make([]*ledger.MemState, k)
	for c := range k {
		var err error
		if states[c], err = ledger.NewMemState(h.GenesisOfCluster(g, interfaces.ClusterID(c))); err != nil {
			t.Fatal(err)
		}
	}
	issued := map[[3]uint64]uint64{} // (src, dst, seq) -> amount
	credited := map[[3]uint64]bool{} // (src, dst, seq)
	out := finalizedCounts{replayed: make([]uint64, k)}
	replayed := out.replayed
	byseq := map[uint64]interfaces.BeaconPayload{} // beacons by sequence
	claimed := make([]uint64, k)                   // mint claims each cluster committed
	for n := uint64(1); n <= bhHead; n++ {
		bh, err := galaxy.Block(n)
		if err != nil {
			t.Fatal(err)
		}
		for _, tx := range bh.Txs {
			if tx.Kind == interfaces.TxBeacon {
				out.beacons++
				p, err := interfaces.DecodeBeaconPayload(tx.Payload)
				if err != nil {
					t.Fatal(err)
				}
				byseq[tx.Seq] = p
				for _, m := range p.Mint {
					total += m.Amount
				}
				continue
			}
			cp, err := interfaces.DecodeCheckpointPayload(tx.Payload)
			if err != nil {
				t.Fatalf("black hole %d: %v", n, err)
			}
			c := cp.Header.Cluster
			if int(c) >= k {
				t.Fatalf("black hole %d finalizes a checkpoint of cluster %d; the test holds %d clusters' chains", n, c, k)
			}
			for replayed[c] < cp.Header.Height {
				replayed[c]++
				b, err := clusters[c].Block(replayed[c])
				if err != nil {
					t.Fatalf("cluster %d block %d: %v", c, replayed[c], err)
				}
				if err := ledger.ReplayBlockWith(states[c], b, rules[c]); err != nil {
					t.Fatalf("replay cluster %d: %v", c, err)
				}
				if rules[c].Replayed != nil {
					if err := rules[c].Replayed(b); err != nil {
						t.Fatalf("replay cluster %d: %v", c, err)
					}
				}
				for _, r := range b.Receipts {
					sum, _ := r.Total()
					issued[[3]uint64{uint64(r.Src), uint64(r.Dst), r.Seq}] = sum
					for _, x := range r.Receipts {
						if x.Kind == interfaces.ReceiptMove {
							out.moves++
						} else {
							out.crossTxs++
						}
					}
				}
				for _, t2 := range b.Txs {
					if t2.Kind == interfaces.TxMint {
						claimed[c] = max(claimed[c], t2.Seq)
					}
					if t2.Kind == interfaces.TxCredit {
						cr, _ := interfaces.DecodeCreditPayload(t2.Payload)
						credited[[3]uint64{uint64(cr.Batch.Src), uint64(cr.Batch.Dst), cr.Batch.Seq}] = true
						out.credits++
					}
				}
			}
		}
		var supply uint64
		for c := range k {
			supply += states[c].Snapshot().Supply()
		}
		for key, v := range issued {
			if !credited[key] {
				supply += v
			}
		}
		// Minted and not yet claimed by the recipient's cluster.
		for seq, p := range byseq {
			for _, m := range p.Mint {
				if c := h.Owner(m.To); seq > claimed[c] {
					supply += m.Amount
				}
			}
		}
		if supply != total {
			t.Fatalf("at black hole %d the clusters hold %d noOs (receipts and mints in flight included); genesis and the beacons so far made %d", n, supply, total)
		}
	}
	return out
}

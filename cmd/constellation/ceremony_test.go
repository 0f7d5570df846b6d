package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// ceremonyManifest is a network that is no development network (its
// groups cannot be dealt by a node), of four nodes that are cluster 0's
// delegates and the galaxy, each naming its star, with a genesis
// allocation to star-1.
func ceremonyManifest(stars []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `network "ceremony-net" {
  genesis {
    seed      = "ceremony-net"
    timestamp = 1767225600000
    allocation {
      star   = %q
      amount = 1000000000
    }
  }
}
`, stars[0])
	for i := 1; i <= 4; i++ {
		var boot []string
		for j := 1; j <= 4; j++ {
			if j != i {
				boot = append(boot, fmt.Sprintf(`"/ip4/127.0.0.1/tcp/%d"`, 7600+j))
			}
		}
		fmt.Fprintf(&b, `node "star-%d" {
  key_file  = "keys/star-%d.key"
  star      = %q
  listen    = "/ip4/127.0.0.1/tcp/%d"
  api       = "127.0.0.1:%d"
  bootstrap = [%s]
  roles     = ["star", "cluster", "galaxy"]
  cluster   = 0
}
`, i, i, stars[i-1], 7600+i, 8600+i, strings.Join(boot, ", "))
	}
	b.WriteString(`plugin "consensus" "honeybadger" {
  source = "builtin"
}
plugin "partitioner" "lsh" {
  source = "builtin"
}
plugin "reputation" "meme" {
  source = "builtin"
}
plugin "transport" "gossip" {
  source = "builtin"
}
`)
	return b.String()
}

// TestAGenesisCeremonyStartsANetworkWithoutADealer: four members make
// their cluster's and the galaxy's genesis keys by `keygen ceremony`,
// each with its own star key only, through one shared directory. Star-4
// deals but never answers (a silent member, within f = 1). Every member's
// finish prints the same transcript digests and writes the same genesis
// file; a second deal by the same member is refused; and the network
// these keys make runs: its testnet (which refuses to deal keys for a
// network that is no development one) makes black holes.
func TestAGenesisCeremonyStartsANetworkWithoutADealer(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a four-process network")
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "keys"), 0o700); err != nil {
		t.Fatal(err)
	}
	var stars []string
	for i := 1; i <= 4; i++ {
		out, errOut, code := run(t, dir, "keygen", "--out", filepath.Join("keys", fmt.Sprintf("star-%d.key", i)))
		if code != 0 {
			t.Fatalf("keygen exit %d\n%s\n%s", code, out, errOut)
		}
		stars = append(stars, strings.TrimSpace(out))
	}
	path := filepath.Join(dir, "net.hcl")
	if err := os.WriteFile(path, []byte(ceremonyManifest(stars)), 0o600); err != nil {
		t.Fatal(err)
	}
	step := func(what, nm string) string {
		t.Helper()
		out, errOut, code := run(t, dir, "keygen", "ceremony", what, "--manifest", path, "--node", nm, "--dir", "ceremony")
		if code != 0 {
			t.Fatalf("keygen ceremony %s --node %s exit %d\n%s\n%s", what, nm, code, out, errOut)
		}
		return out
	}
	for i := 1; i <= 4; i++ {
		step("deal", fmt.Sprintf("star-%d", i))
	}
	if _, errOut, code := run(t, dir, "keygen", "ceremony", "deal", "--manifest", path, "--node", "star-1", "--dir", "ceremony"); code == 0 || !strings.Contains(errOut, "already did this step") {
		t.Fatalf("a second deal by star-1: exit %d\n%s", code, errOut)
	}
	for i := 1; i <= 3; i++ {
		step("answer", fmt.Sprintf("star-%d", i))
	}
	digests := regexp.MustCompile(`(?m)^(\S+): key \S+ (\d) qualified dealings, transcript (\S+)`)
	var first string
	for i := 1; i <= 4; i++ {
		out := step("finish", fmt.Sprintf("star-%d", i))
		got := digests.FindAllStringSubmatch(out, -1)
		if len(got) != 2 {
			t.Fatalf("star-%d's finish names %d groups:\n%s", i, len(got), out)
		}
		var line string
		for _, g := range got {
			line += g[1] + " " + g[3] + "\n"
		}
		if first == "" {
			first = line
			t.Logf("star-1's finish:\n%s", out)
		} else if line != first {
			t.Fatalf("star-%d folds other transcripts:\n%s\nstar-1:\n%s", i, line, first)
		}
	}
	for i := 1; i <= 4; i++ {
		for _, tier := range []string{"cluster", "galaxy"} {
			if _, err := os.Stat(filepath.Join(dir, "keys", fmt.Sprintf("star-%d.%s.key", i, tier))); err != nil {
				t.Fatalf("no %s share for star-%d: %v", tier, i, err)
			}
		}
	}
	out, errOut, code := run(t, dir, "--log-level", "warn", "testnet", "--manifest", path, "--data", filepath.Join(dir, "data"), "--blocks", "4", "--duration", "120s", "--rate", "0")
	if code != 0 {
		t.Fatalf("testnet exit %d\n%s\n%s", code, out, errOut)
	}
	if strings.Contains(out, "dealt ") || !regexp.MustCompile(`black holes [4-9]|black holes \d\d`).MatchString(out) {
		t.Fatalf("the testnet dealt keys, or made no black holes:\n%s", out)
	}
}

func FuzzDecodeCeremonyFile(f *testing.F) {
	f.Add([]byte(`{"txs": []}`))
	f.Add([]byte(`{"txs": ["00"]}`))
	f.Add([]byte(`{"txs": ["zz"], "x": 1}`))
	f.Add([]byte(`{"txs": []} {}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		txs, err := decodeCeremonyFile(raw)
		if err == nil {
			for _, tx := range txs {
				if tx == nil {
					t.Fatal("a nil transaction decoded")
				}
			}
		}
	})
}

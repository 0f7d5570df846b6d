package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/constellation-chain/constellation/builtin/contracts/jvm"
	"github.com/constellation-chain/constellation/framework/api"
	"github.com/constellation-chain/constellation/framework/keys"
	"github.com/constellation-chain/constellation/interfaces"
	"github.com/constellation-chain/constellation/plugins/host"
)

// contractManifest is three delegates of one cluster with the contract
// runtime. Its ports (7801-7803, 8801-8803) are the contract tests' own.
func contractManifest(extra string) string {
	var b strings.Builder
	b.WriteString(`network "devnet" {
  genesis {
    seed      = "contracts-e2e"
    timestamp = 1767225600000
    allocation {
      star   = "dev:faucet"
      amount = 1000000000000
    }
  }
}
`)
	for i := 1; i <= 3; i++ {
		var boot []string
		for j := 1; j <= 3; j++ {
			if j != i {
				boot = append(boot, fmt.Sprintf(`"/ip4/127.0.0.1/tcp/%d"`, 7800+j))
			}
		}
		fmt.Fprintf(&b, `node "star-%d" {
  key_file  = "keys/star-%d.key"
  listen    = "/ip4/127.0.0.1/tcp/%d"
  api       = "127.0.0.1:%d"
  bootstrap = [%s]
  roles     = ["star", "cluster"]
}
`, i, i, 7800+i, 8800+i, strings.Join(boot, ", "))
	}
	b.WriteString(`plugin "consensus" "honeybadger" {
  source = "builtin"
  config {
    batch_size        = 200
    block_interval_ms = 200
  }
}
plugin "transport" "gossip" {
  source = "builtin"
}
plugin "contracts" "microservices" {
  source = "builtin"
  config {
    call_bound_ms = 5000
` + extra + `  }
}
`)
	return b.String()
}

// TestGoAndJavaContractsOnAThreeNodeNetwork deploys the Go vending machine on
// a three-process network, calls it through the hosts' co-signatures, and
// checks that every node holds the same contract state and balance, that
// the committed call re-executes to its result (contract verify), that a
// host whose local binary was tampered with refuses to run it, that a
// call whose read went stale is refused at submission, that a wrong result
// two colluding hosts co-signed is caught by contract verify, and that
// every node's chain re-validates offline. With the JVM toolchain present
// it also deploys the Java token (its jar carried by the deploy) and checks
// every node holds the same token state.
func TestGoAndJavaContractsOnAThreeNodeNetwork(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a three-process testnet")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "vending-machine")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = filepath.Join("..", "..", "plugins", "examples", "vending-machine")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the vending machine: %v\n%s", err, out)
	}
	// The Java token too, when this machine has the JVM toolchain: its
	// jar travels in its deploy; the hosts run it with the Java SDK.
	var tokenJar []byte
	var jvmCP []string
	extra := ""
	if tools, err := jvm.FindToolchain(); err == nil {
		sdkDir := filepath.Join(dir, "java-sdk")
		if b, err := exec.Command("sh", filepath.Join("..", "..", "plugins", "java", "build.sh"), sdkDir).CombinedOutput(); err != nil {
			t.Fatalf("build the Java SDK: %v\n%s", err, b)
		}
		jvmCP = append([]string{filepath.Join(sdkDir, "constellation-contract.jar")}, tools.Classpath...)
		if tokenJar, err = jvm.BuildJar(tools.Javac, jvmCP[:1], filepath.Join("..", "..", "plugins", "examples", "token-java", "src")); err != nil {
			t.Fatal(err)
		}
		quoted := make([]string, len(jvmCP))
		for i, p := range jvmCP {
			quoted[i] = fmt.Sprintf("%q", p)
		}
		extra = fmt.Sprintf("    jvm_classpath = [%s]\n    java = %q\n", strings.Join(quoted, ", "), tools.Java)
	} else {
		t.Logf("no JVM toolchain (%v): the Java token part is skipped", err)
	}
	// The vending machine passes the contract conformance suite.
	if out, errOut, code := run(t, dir, "conformance", "--contract", bin, "--dev"); code != 0 || !strings.Contains(out, "determinism-same-call-same-answer") {
		t.Fatalf("conformance --contract: exit %d\n%s\n%s", code, out, errOut)
	}
	path := filepath.Join(dir, "net.hcl")
	if err := os.WriteFile(path, []byte(contractManifest(extra)), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	tn := exec.Command(binary, "--log-level", "warn", "testnet", "--manifest", path, "--data", data, "--rate", "0", "--no-restart", "--duration", "90s")
	tn.Dir = dir
	tn.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var tnOut walletLog
	tn.Stdout, tn.Stderr = &tnOut, &tnOut
	if err := tn.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { tn.Wait(); close(done) }()
	defer func() {
		tn.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			syscall.Kill(-tn.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			t.Logf("testnet:\n%s", tnOut.String())
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Second)
	defer cancel()
	apis := []string{"127.0.0.1:8801", "127.0.0.1:8802", "127.0.0.1:8803"}
	clients := make([]*api.Client, len(apis))
	for i, a := range apis {
		clients[i] = api.NewClient(a)
	}
	waitUntil := func(what string, ok func() bool) {
		t.Helper()
		for !ok() {
			select {
			case <-ctx.Done():
				t.Fatalf("timed out waiting for %s", what)
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	waitUntil("every node's API and a first block", func() bool {
		for _, c := range clients {
			if st, err := c.Status(ctx); err != nil || st.Height < 1 {
				return false
			}
		}
		return true
	})
	var hosts []string
	for i := 1; i <= 3; i++ {
		k, err := keys.Load(filepath.Join(dir, "keys", fmt.Sprintf("star-%d.key", i)))
		if err != nil {
			t.Fatal(err)
		}
		hosts = append(hosts, keys.Star(k).String())
	}
	// The binary does not fit a transaction: each host finds it in its
	// contracts directory. star-3's copy is tampered with.
	raw, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		b := raw
		if i == 3 {
			b = append([]byte(nil), raw...)
			b[len(b)/2] ^= 0xff
		}
		if err := os.WriteFile(filepath.Join(data, fmt.Sprintf("star-%d", i), "contracts", interfaces.Sum(raw).String()), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}

	cli := func(args ...string) string {
		t.Helper()
		out, errOut, code := run(t, dir, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s\n%s", args, code, out, errOut)
		}
		return out
	}
	out := cli("contract", "deploy", "--api", apis[0], "--dev", "faucet", "--bundle", bin, "--name", "vending-machine",
		"--host", hosts[0], "--host", hosts[1], "--host", hosts[2], "--threshold", "2")
	m := regexp.MustCompile(`contract\s+(ed25519:[0-9a-f]{64})`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("deploy printed no contract:\n%s", out)
	}
	contract, _ := interfaces.ParseStarID(m[1])
	endorsers := []string{"--endorser", apis[0], "--endorser", apis[1]}
	out = cli(append([]string{"contract", "call", "--api", apis[0], "--dev", "faucet"}, append(endorsers, m[1], "restock", `{"item":"cola","price":3,"add":3}`)...)...)
	if !strings.Contains(out, "output 3") {
		t.Fatalf("restock:\n%s", out)
	}

	// The tampered host refuses to start the contract and co-signs nothing.
	seqOf := func(s interfaces.StarID) uint64 {
		a, err := clients[0].Account(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		return a.Seq
	}
	faucet := interfaces.DevStar("faucet")
	st, _ := clients[2].Status(ctx)
	_, err = clients[2].Endorse(ctx, interfaces.Call{Contract: contract, Caller: faucet, Seq: seqOf(faucet) + 1, Method: "buy", Input: []byte("cola"), Amount: 3, Height: st.Height})
	if err == nil || !strings.Contains(err.Error(), "sha256") {
		t.Fatalf("the tampered host's answer: %v", err)
	}

	// Bob gets noOs, then has the hosts co-sign a buy at the current height.
	bob := interfaces.DevKey("bob")
	bobStar := keys.Star(bob)
	acct, _ := clients[0].Account(ctx, faucet)
	last, _ := interfaces.ParseHash(acct.Last)
	fund, err := interfaces.NewTransfer(interfaces.DevKey("faucet"), acct.Seq+1, last, bobStar, 100)
	if err != nil {
		t.Fatal(err)
	}
	if err := clients[0].Submit(ctx, fund); err != nil {
		t.Fatal(err)
	}
	waitUntil("bob's noOs", func() bool { a, err := clients[0].Account(ctx, bobStar); return err == nil && a.Balance == 100 })
	st, _ = clients[0].Status(ctx)
	stale := interfaces.Call{Contract: contract, Caller: bobStar, Seq: 1, Method: "buy", Input: []byte("cola"), Amount: 3, Height: st.Height}
	var ens []interfaces.Endorsement
	var staleRes interfaces.CallResult
	for _, c := range clients[:2] {
		waitUntil("the host to reach the call's height", func() bool { s, err := c.Status(ctx); return err == nil && s.Height >= stale.Height })
		e, err := c.Endorse(ctx, stale)
		if err != nil {
			t.Fatalf("endorse bob's buy: %v", err)
		}
		res, en, err := e.EndorsementOf()
		if err != nil {
			t.Fatal(err)
		}
		staleRes = res
		ens = append(ens, en)
	}

	// Meanwhile the faucet buys: the stock moves on.
	out = cli(append([]string{"contract", "call", "--api", apis[0], "--dev", "faucet", "--amount", "3"}, append(endorsers, m[1], "buy", "cola")...)...)
	if !strings.Contains(out, "output cola") {
		t.Fatalf("buy:\n%s", out)
	}
	callID := regexp.MustCompile(`call\s+([0-9a-f]{64})`).FindStringSubmatch(out)
	if callID == nil {
		t.Fatalf("call printed no id:\n%s", out)
	}
	p := interfaces.CallPayload{Method: stale.Method, Input: stale.Input, Amount: stale.Amount, Height: stale.Height, Result: staleRes, Endorsements: interfaces.SortEndorsements(ens)}
	tx := &interfaces.Transaction{Sender: bobStar, Seq: 1, Kind: interfaces.TxCall, Payload: p.Encode(), Counterparty: contract}
	if err := tx.Sign(bob); err != nil {
		t.Fatal(err)
	}
	err = clients[0].Submit(ctx, tx)
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Status != 422 || !strings.Contains(ae.Message, "stale read") {
		t.Fatalf("bob's stale call: %v, want 422 naming the stale read", err)
	}

	// Every node holds the same contract state and balance.
	waitUntil("every node to hold the buy", func() bool {
		for _, c := range clients {
			v, err := c.ContractState(ctx, contract, "stock/cola")
			if err != nil || v.Text != "2" {
				return false
			}
		}
		return true
	})
	var versions []uint64
	for _, c := range clients {
		v, _ := c.ContractState(ctx, contract, "sold/cola")
		info, err := c.Contract(ctx, contract)
		if err != nil || v.Text != "1" || info.Balance != 3 {
			t.Fatalf("node state: sold %+v, contract %+v, %v", v, info, err)
		}
		versions = append(versions, v.Version)
	}
	if versions[0] != versions[1] || versions[1] != versions[2] {
		t.Fatalf("versions differ between nodes: %v", versions)
	}

	// Anyone can re-execute the committed call.
	out = cli("contract", "verify", "--api", apis[1], "--bundle", bin, callID[1])
	if !strings.HasPrefix(out, "OK:") {
		t.Fatalf("verify:\n%s", out)
	}

	// Two hosts collude: they co-sign a restock that claims a stock of
	// 1000. The ledger cannot tell (valid co-signatures, current reads),
	// but re-executing the call can.
	acct, _ = clients[0].Account(ctx, faucet)
	last, _ = interfaces.ParseHash(acct.Last)
	st, _ = clients[0].Status(ctx)
	wrong := interfaces.Call{Contract: contract, Caller: faucet, Seq: acct.Seq + 1, Method: "restock", Input: []byte(`{"item":"cola","price":3,"add":1}`), Height: st.Height}
	e, err := clients[0].Endorse(ctx, wrong)
	if err != nil {
		t.Fatal(err)
	}
	res, _, err := e.EndorsementOf()
	if err != nil {
		t.Fatal(err)
	}
	stockKey := string(interfaces.ContractKey(contract, []byte("stock/cola")))
	for i := range res.Writes {
		if string(res.Writes[i].Key) == stockKey {
			res.Writes[i].Value = []byte("1000")
		}
	}
	res.Output = []byte("1000")
	var colluders []interfaces.Endorsement
	for i := 1; i <= 2; i++ {
		k, err := keys.Load(filepath.Join(dir, "keys", fmt.Sprintf("star-%d.key", i)))
		if err != nil {
			t.Fatal(err)
		}
		en, err := interfaces.Endorse(k, wrong, res)
		if err != nil {
			t.Fatal(err)
		}
		colluders = append(colluders, en)
	}
	wp := interfaces.CallPayload{Method: wrong.Method, Input: wrong.Input, Height: wrong.Height, Result: res, Endorsements: interfaces.SortEndorsements(colluders)}
	wtx := &interfaces.Transaction{Sender: faucet, Seq: wrong.Seq, Prev: last, Kind: interfaces.TxCall, Payload: wp.Encode(), Counterparty: contract}
	if err := wtx.Sign(interfaces.DevKey("faucet")); err != nil {
		t.Fatal(err)
	}
	if err := clients[0].Submit(ctx, wtx); err != nil {
		t.Fatalf("submit the colluders' call: %v", err)
	}
	waitUntil("the colluders' call", func() bool { _, err := clients[0].Tx(ctx, wtx.ID()); return err == nil })
	vout, verr, code := run(t, dir, "contract", "verify", "--api", apis[2], "--bundle", bin, wtx.ID().String())
	if code != 1 || !strings.Contains(vout, "MISMATCH") || !strings.Contains(vout, hosts[0]) {
		t.Fatalf("verify of the wrong result: exit %d\n%s\n%s", code, vout, verr)
	}
	if !bytes.Contains([]byte(cli("contract", "inspect", "--api", apis[2], m[1], "stock/cola")), []byte(`"1000"`)) {
		t.Fatal("inspect does not show the stock")
	}

	if tokenJar != nil {
		jarPath := filepath.Join(dir, "token.jar")
		if err := os.WriteFile(jarPath, tokenJar, 0o644); err != nil {
			t.Fatal(err)
		}
		iface := javaInterface(t, jarPath, jvmCP)
		args := []string{"contract", "deploy", "--api", apis[0], "--dev", "faucet", "--runtime", "jvm", "--bundle", jarPath, "--name", "token",
			"--host", hosts[0], "--host", hosts[1], "--host", hosts[2], "--threshold", "2"}
		for _, m := range iface.Methods {
			args = append(args, "--method", m.Name+":"+m.Input+":"+m.Output)
		}
		out := cli(args...)
		tm := regexp.MustCompile(`contract\s+(ed25519:[0-9a-f]{64})`).FindStringSubmatch(out)
		if tm == nil {
			t.Fatalf("deploy printed no contract:\n%s", out)
		}
		token, _ := interfaces.ParseStarID(tm[1])
		cli(append([]string{"contract", "call", "--api", apis[0], "--dev", "faucet"}, append(endorsers, tm[1], "init", "TOK")...)...)
		out = cli(append([]string{"contract", "call", "--api", apis[0], "--dev", "faucet"}, append(endorsers, tm[1], "mint", "1000")...)...)
		if !strings.Contains(out, "output 1000") {
			t.Fatalf("mint:\n%s", out)
		}
		balKey := "bal/" + hex.EncodeToString(faucet[:])
		waitUntil("every node to hold the mint", func() bool {
			for _, c := range clients {
				v, err := c.ContractState(ctx, token, balKey)
				if err != nil || !v.Found {
					return false
				}
			}
			return true
		})
		var vals []string
		for _, c := range clients {
			v, _ := c.ContractState(ctx, token, balKey)
			vals = append(vals, v.Value+"@"+fmt.Sprint(v.Version))
		}
		if vals[0] != vals[1] || vals[1] != vals[2] {
			t.Fatalf("the token's state differs between nodes: %v", vals)
		}

		// Typed composition across the Go and the Java contract: buy
		// (string -> string) cannot feed mint (u64 -> u64); stock
		// (string -> u64) can. The composite call runs both legs on their
		// hosts and is applied as one transaction.
		out, errOut, code := run(t, dir, "contract", "compose", "--api", apis[0], "--dev", "faucet", "--leg", m[1]+".buy", "--leg", tm[1]+".mint")
		if code == 0 || !strings.Contains(errOut, `outputs "string"`) || !strings.Contains(errOut, `takes "u64"`) {
			t.Fatalf("an ill-typed composite: exit %d\n%s\n%s", code, out, errOut)
		}
		out = cli("contract", "compose", "--api", apis[0], "--dev", "faucet", "--name", "mint-the-stock", "--leg", m[1]+".stock", "--leg", tm[1]+".mint")
		cm := regexp.MustCompile(`composite\s+(ed25519:[0-9a-f]{64})`).FindStringSubmatch(out)
		if cm == nil {
			t.Fatalf("compose printed no composite:\n%s", out)
		}
		out = cli(append([]string{"contract", "call", "--api", apis[0], "--dev", "faucet"}, append(endorsers, cm[1], "cola")...)...)
		if !strings.Contains(out, "output 2000") {
			t.Fatalf("composite call (stock 1000 minted onto 1000):\n%s", out)
		}
		waitUntil("every node to hold the composite call", func() bool {
			for _, c := range clients {
				v, err := c.ContractState(ctx, token, balKey)
				if err != nil || v.Text != "2000" {
					return false
				}
			}
			return true
		})
	}

	if tokenJar != nil {
		// A Java contract that reads the clock is refused at deploy, with
		// the offending call named, before anything is signed.
		src := filepath.Join(dir, "clock-src", "com", "example", "clock")
		if err := os.MkdirAll(src, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, "Clock.java"), []byte(clockJava), 0o644); err != nil {
			t.Fatal(err)
		}
		tools, _ := jvm.FindToolchain()
		jar, err := jvm.BuildJar(tools.Javac, jvmCP[:1], filepath.Join(dir, "clock-src"))
		if err != nil {
			t.Fatal(err)
		}
		jarPath := filepath.Join(dir, "clock.jar")
		if err := os.WriteFile(jarPath, jar, 0o644); err != nil {
			t.Fatal(err)
		}
		out, errOut, code := run(t, dir, "contract", "deploy", "--api", apis[0], "--dev", "faucet", "--runtime", "jvm", "--bundle", jarPath,
			"--host", hosts[0], "--method", "now:u64:u64")
		if code == 0 || !strings.Contains(errOut, "currentTimeMillis") {
			t.Fatalf("deploy of a clock-reading jar: exit %d\n%s\n%s", code, out, errOut)
		}
	}

	// Offline, every node's chain re-validates under the contract rules.
	tn.Process.Signal(os.Interrupt)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the testnet did not stop on an interrupt")
	}
	for i := 1; i <= 3; i++ {
		out := cli("chain", "verify", "--contracts", filepath.Join(data, fmt.Sprintf("star-%d", i)))
		if !strings.Contains(out, "blocks verified") {
			t.Fatalf("chain verify star-%d:\n%s", i, out)
		}
	}
}

// javaInterface asks a Java contract jar for its interface.
func javaInterface(t *testing.T, jarPath string, cp []string) interfaces.ContractInterface {
	t.Helper()
	tools, err := jvm.FindToolchain()
	if err != nil {
		t.Fatal(err)
	}
	p, err := host.LoadContract(host.ContractOptions{Name: "token", Unchecked: true,
		Command: func() *exec.Cmd { return jvm.Command(tools.Java, jarPath, cp) }})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ci, err := p.Describe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ci
}

const clockJava = `package com.example.clock;

import chain.constellation.contract.Call;
import chain.constellation.contract.Contract;
import chain.constellation.contract.Method;

@Contract
public class Clock {
  @Method
  public long now(Call call, long n) {
    return System.currentTimeMillis() + n;
  }
}
`

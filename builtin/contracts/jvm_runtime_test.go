package contracts

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/constellation-chain/constellation/builtin/contracts/jvm"
	"github.com/constellation-chain/constellation/interfaces"
	"github.com/constellation-chain/constellation/plugins/host"
)

// memChain is committed state for Execute: full keys with versions.
type memChain map[string]struct {
	v   []byte
	ver uint64
}

func (m memChain) Block(h uint64) (interfaces.Hash, int64, error) {
	return interfaces.Sum([]byte{byte(h)}), int64(h) * 1000, nil
}

func (m memChain) Value(_ uint64, key []byte) ([]byte, uint64, bool, error) {
	e, ok := m[string(key)]
	return e.v, e.ver, ok, nil
}

// TestJVMContractRunsThroughTheRuntime deploys the Java token example as a
// jvm contract: the runtime verifies the jar, starts it with the Java SDK
// and runs calls; a jar that does not match its code hash is refused.
func TestJVMContractRunsThroughTheRuntime(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the Java SDK")
	}
	tools, err := jvm.FindToolchain()
	if err != nil {
		t.Skipf("JVM toolchain missing (%v)", err)
	}
	out := t.TempDir()
	if b, err := exec.Command("sh", filepath.Join("..", "..", "plugins", "java", "build.sh"), out).CombinedOutput(); err != nil {
		t.Fatalf("build the Java SDK: %v\n%s", err, b)
	}
	sdkJar := filepath.Join(out, "constellation-contract.jar")
	if _, err := os.Stat(sdkJar); err != nil {
		t.Fatal(err)
	}
	jar, err := jvm.BuildJar(tools.Javac, []string{sdkJar}, filepath.Join("..", "..", "plugins", "examples", "token-java", "src"))
	if err != nil {
		t.Fatal(err)
	}
	rt, err := New(Config{Dir: t.TempDir(), JVMClasspath: append([]string{sdkJar}, tools.Classpath...), Java: tools.Java})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	ctx := context.Background()
	d := interfaces.Deployment{
		Contract: interfaces.ContractStar(interfaces.DevStar("deployer"), 1),
		Deploy: interfaces.DeployPayload{Runtime: interfaces.RuntimeJVM, Name: "token", CodeHash: interfaces.Sum(jar), Bundle: jar,
			Hosts: []interfaces.StarID{interfaces.DevStar("h")}, Threshold: 1,
			Interface: interfaces.ContractInterface{Methods: []interfaces.MethodSig{{Name: "x"}}}},
	}
	// A wrong interface is refused, naming the difference.
	if err := rt.Deploy(ctx, d); err == nil {
		t.Fatal("a jar with another interface was started")
	}
	tampered := d
	tampered.Bundle = append(append([]byte(nil), jar...), 0)
	if err := rt.Deploy(ctx, tampered); err == nil {
		t.Fatal("a tampered jar was started")
	}
	d.Deploy.Interface = tokenInterface(t, rt, d)
	if err := rt.Deploy(ctx, d); err != nil {
		t.Fatal(err)
	}
	ch := memChain{}
	alice := interfaces.DevStar("alice")
	call := func(method, input string, h uint64) interfaces.CallResult {
		t.Helper()
		res, err := rt.Execute(ctx, ch, interfaces.Call{Contract: d.Contract, Caller: alice, Seq: 1, Method: method, Input: []byte(input), Height: h})
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		for _, w := range res.Writes {
			ch[string(w.Key)] = struct {
				v   []byte
				ver uint64
			}{w.Value, h + 1}
		}
		return res
	}
	call("init", "TOK", 1)
	res := call("mint", "1000", 2)
	if string(res.Output) != "1000" {
		t.Fatalf("mint output %q", res.Output)
	}
	for _, w := range res.Writes {
		if len(w.Key) < 34 || string(w.Key[:34]) != string(interfaces.ContractNamespace(d.Contract)) {
			t.Fatalf("write %x outside the namespace", w.Key)
		}
	}
}

// tokenInterface asks the jar itself for its interface.
func tokenInterface(t *testing.T, rt *Runtime, d interfaces.Deployment) interfaces.ContractInterface {
	t.Helper()
	path, err := rt.writeBundle(d.Deploy.CodeHash, d.Deploy.Bundle, ".jar", 0o644)
	if err != nil {
		t.Fatal(err)
	}
	p, err := host.LoadContract(host.ContractOptions{Name: "token", Unchecked: true,
		Command: func() *exec.Cmd { return jvm.Command(rt.cfg.Java, path, rt.cfg.JVMClasspath) }})
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

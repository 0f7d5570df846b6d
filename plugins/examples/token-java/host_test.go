package tokenjava

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/constellation-chain/constellation/builtin/contracts/jvm"
	"github.com/constellation-chain/constellation/interfaces"
	"github.com/constellation-chain/constellation/plugins/host"
)

// versioned is a host-side contract state: each key with the height that
// last wrote it.
type versioned map[string]struct {
	v       []byte
	version uint64
}

func (s versioned) Get(key []byte) ([]byte, uint64, bool, error) {
	e, ok := s[string(key)]
	return e.v, e.version, ok, nil
}

func (s versioned) apply(height uint64, writes []interfaces.KV) {
	for _, w := range writes {
		if w.Value == nil {
			delete(s, string(w.Key))
			continue
		}
		s[string(w.Key)] = struct {
			v       []byte
			version uint64
		}{w.Value, height}
	}
}

// The Java token through the node's own contract host (plugins/host), as
// the contracts runtime starts it: jvm.Command as the command, the jar
// checked by Verify rather than by an executable digest, no AutoMTLS.
func TestTokenJavaThroughHost(t *testing.T) {
	tools, sdkJar, jar := buildToken(t)
	if err := jvm.Verify(jar); err != nil {
		t.Fatal(err)
	}
	jarPath := filepath.Join(t.TempDir(), "token.jar")
	if err := os.WriteFile(jarPath, jar, 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := host.LoadContract(host.ContractOptions{
		Name: "token-java",
		Command: func() *exec.Cmd {
			return jvm.Command(tools.Java, jarPath, append([]string{sdkJar}, tools.Classpath...))
		},
		Unchecked:    true,
		StartTimeout: 30 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	iface, err := c.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := iface.Check(); err != nil {
		t.Fatalf("the Java contract's interface: %v", err)
	}
	if m, ok := iface.Method("transfer"); !ok || m.Input != "token.Transfer" || m.Output != "u64" {
		t.Fatalf("transfer = %+v, %v", m, ok)
	}

	st := versioned{}
	var alice, bob interfaces.StarID
	alice[0], bob[0] = 0xa1, 0xb0
	call := func(height uint64, caller interfaces.StarID, method, input string) (interfaces.InvokeResult, error) {
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		res, err := c.Invoke(cctx, interfaces.InvokeRequest{
			Method: method, Caller: caller, Input: []byte(input), Height: height, Timestamp: int64(height) * 1000, State: st,
		})
		if err == nil {
			st.apply(height+1, res.Writes)
		}
		return res, err
	}
	if _, err := call(1, alice, "init", "TOK"); err != nil {
		t.Fatal(err)
	}
	if _, err := call(2, alice, "mint", "1000"); err != nil {
		t.Fatal(err)
	}
	res, err := call(3, alice, "transfer", hex.EncodeToString(bob[:])+":250")
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Output) != "750" {
		t.Fatalf("transfer output %q", res.Output)
	}
	// The read set is the host's: alice's balance written at height 3 by
	// mint, bob's never written (version 0).
	want := []interfaces.ReadVersion{
		{Key: []byte("bal/" + hex.EncodeToString(alice[:])), Version: 3},
		{Key: []byte("bal/" + hex.EncodeToString(bob[:])), Version: 0},
	}
	if len(res.Reads) != len(want) {
		t.Fatalf("reads %v, want %v", res.Reads, want)
	}
	for i := range want {
		if !bytes.Equal(res.Reads[i].Key, want[i].Key) || res.Reads[i].Version != want[i].Version {
			t.Fatalf("read %d = %s@%d, want %s@%d", i, res.Reads[i].Key, res.Reads[i].Version, want[i].Key, want[i].Version)
		}
	}
	if _, err := call(4, bob, "mint", "1"); !errors.Is(err, host.ErrContractFailed) {
		t.Fatalf("bob's mint: %v, want ErrContractFailed", err)
	}
}

// The SDK's build script names the Debian package of a missing jar.
func TestBuildScriptNamesMissingPackage(t *testing.T) {
	cmd := exec.Command("sh", filepath.Join(repoRoot(t), "plugins", "java", "build.sh"), t.TempDir())
	cmd.Env = append(os.Environ(), "JAVA_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err == nil || !bytes.Contains(out, []byte("grpc-api.jar is missing: apt-get install -y libgrpc-java")) {
		t.Fatalf("build.sh with no jars: %v\n%s", err, out)
	}
}

// Run by hand (no magic cookie), the runtime says what it is and exits.
func TestRuntimeRefusesToRunByHand(t *testing.T) {
	tools, sdkJar, jar := buildToken(t)
	jarPath := filepath.Join(t.TempDir(), "token.jar")
	if err := os.WriteFile(jarPath, jar, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := jvm.Command(tools.Java, jarPath, append([]string{sdkJar}, tools.Classpath...))
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	if err == nil || !bytes.Contains(out, []byte("not meant to be run by hand")) {
		t.Fatalf("runtime without the cookie: %v\n%s", err, out)
	}
}

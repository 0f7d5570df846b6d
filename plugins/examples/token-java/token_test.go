// Package tokenjava is the Java token contract's test: it builds the Java
// SDK and the contract jar, checks the jar with the deploy-time determinism
// check, starts it as a real JVM child process through go-plugin and calls
// it over the contract gRPC protocol with a host-side state reader.
package tokenjava

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"

	"github.com/constellation-chain/constellation/builtin/contracts/jvm"
	"github.com/constellation-chain/constellation/plugins"
	"github.com/constellation-chain/constellation/plugins/pb"
)

// repoRoot finds the main module's root from the test's directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.Contains(b, []byte("module github.com/constellation-chain/constellation\n")) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("main module root not found")
		}
		dir = parent
	}
}

// buildToken builds the SDK and the token jar; it skips when the JVM
// toolchain is missing, naming the packages.
func buildToken(t *testing.T) (tools *jvm.Toolchain, sdkJar string, jar []byte) {
	t.Helper()
	tools, err := jvm.FindToolchain()
	if err != nil {
		t.Skipf("JVM toolchain missing (%v)", err)
	}
	sdkJar = buildSDK(t)
	tokenJar.once.Do(func() { tokenJar.jar, tokenJar.err = jvm.BuildJar(tools.Javac, []string{sdkJar}, "src") })
	if tokenJar.err != nil {
		t.Fatal(tokenJar.err)
	}
	return tools, sdkJar, tokenJar.jar
}

// tokenJar is the token contract's jar, built once for the package's tests.
var tokenJar struct {
	once sync.Once
	jar  []byte
	err  error
}

var sdk struct {
	once sync.Once
	dir  string
	jar  string
	err  error
}

// buildSDK runs plugins/java/build.sh once for the package's tests.
func buildSDK(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	sdk.once.Do(func() {
		sdk.dir, sdk.err = os.MkdirTemp("", "constellation-java-sdk-")
		if sdk.err != nil {
			return
		}
		build := exec.Command("sh", filepath.Join(root, "plugins", "java", "build.sh"), sdk.dir)
		if b, err := build.CombinedOutput(); err != nil {
			sdk.err = fmt.Errorf("plugins/java/build.sh: %v\n%s", err, b)
		}
		sdk.jar = filepath.Join(sdk.dir, "constellation-contract.jar")
	})
	if sdk.err != nil {
		t.Fatal(sdk.err)
	}
	return sdk.jar
}

// cpuTicks is a process's user plus system CPU time in clock ticks
// (USER_HZ, 100 a second on Linux), from /proc; the check is skipped where
// there is no /proc.
func cpuTicks(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Skipf("no /proc to measure CPU: %v", err)
	}
	// Fields after the command name, which is in parentheses.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	var u, s int64
	fmt.Sscan(f[11], &u)
	fmt.Sscan(f[12], &s)
	return u + s
}

func TestMain(m *testing.M) {
	code := m.Run()
	if sdk.dir != "" {
		os.RemoveAll(sdk.dir)
	}
	os.Exit(code)
}

// stateHost is the host side of the state: committed values, and the keys each
// invocation read (what a host records to build the read set).
type stateHost struct {
	mu    sync.Mutex
	state map[string][]byte
	reads map[uint64][]string
	next  uint64
}

func newHost() *stateHost {
	return &stateHost{state: map[string][]byte{}, reads: map[uint64][]string{}}
}

func star(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

type result struct {
	out    string
	err    string
	writes []*pb.KV
	events []*pb.Event
	reads  []string
}

// invoke runs one call over the Invoke stream, answering the contract's
// state reads from h, and commits the writes of a successful call.
func (h *stateHost) invoke(t *testing.T, c pb.ContractClient, caller []byte, method, input string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h.mu.Lock()
	h.next++
	inv := h.next
	h.mu.Unlock()
	stream, err := c.Invoke(ctx)
	if err != nil {
		t.Fatalf("%s: open stream: %v", method, err)
	}
	err = stream.Send(&pb.HostMessage{Msg: &pb.HostMessage_Invoke{Invoke: &pb.InvokeRequest{
		Invocation: inv, Contract: star(0xcc), CodeHash: star(0xdd), Method: method,
		Caller: caller, Input: []byte(input), Height: 7, Timestamp: 1_700_000_000_000, Beacon: star(0xbb),
	}}})
	if err != nil {
		t.Fatalf("%s: send invoke: %v", method, err)
	}
	for {
		m, err := stream.Recv()
		if err != nil {
			t.Fatalf("%s: recv: %v", method, err)
		}
		switch x := m.Msg.(type) {
		case *pb.ContractMessage_Get:
			if x.Get.Invocation != inv {
				t.Fatalf("%s: state read names invocation %d, want %d", method, x.Get.Invocation, inv)
			}
			h.mu.Lock()
			key := string(x.Get.Key)
			h.reads[inv] = append(h.reads[inv], key)
			v, ok := h.state[key]
			h.mu.Unlock()
			if err := stream.Send(&pb.HostMessage{Msg: &pb.HostMessage_State{State: &pb.StateGetResponse{Value: v, Ok: ok}}}); err != nil {
				t.Fatalf("%s: send state: %v", method, err)
			}
		case *pb.ContractMessage_Result:
			_ = stream.CloseSend()
			r := x.Result
			res := result{out: string(r.Output), err: r.Error, writes: r.Writes, events: r.Events}
			h.mu.Lock()
			res.reads = h.reads[inv]
			if r.Error == "" {
				for _, w := range r.Writes {
					if w.Delete {
						delete(h.state, string(w.Key))
					} else {
						h.state[string(w.Key)] = w.Value
					}
				}
			}
			h.mu.Unlock()
			return res
		default:
			t.Fatalf("%s: empty contract message", method)
		}
	}
}

// startContract writes jar to a file and starts it as a JVM child process
// through go-plugin (gRPC, no AutoMTLS: the Java side serves plain TCP on
// loopback), checking health and dispensing the Contract client.
func startContract(t *testing.T, tools *jvm.Toolchain, sdkJar string, jar []byte) (*plugin.Client, pb.ContractClient) {
	t.Helper()
	jarPath := filepath.Join(t.TempDir(), "contract.jar")
	if err := os.WriteFile(jarPath, jar, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := jvm.Command(tools.Java, jarPath, append([]string{sdkJar}, tools.Classpath...))
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  plugins.HandshakeConfig,
		Plugins:          plugins.VersionedPlugins[plugins.ProtocolVersion],
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		StartTimeout:     30 * time.Second,
		Logger:           hclog.New(&hclog.LoggerOptions{Name: "contract-jvm", Level: hclog.Warn, Output: os.Stderr}),
	})
	t.Cleanup(client.Kill)
	rpc, err := client.Client()
	if err != nil {
		t.Fatalf("start the JVM contract: %v", err)
	}
	if err := rpc.Ping(); err != nil {
		t.Fatalf("health check: %v", err)
	}
	raw, err := rpc.Dispense(plugins.NameContracts)
	if err != nil {
		t.Fatal(err)
	}
	return client, pb.NewContractClient(raw.(*plugins.ClientConn).Conn)
}

func TestTokenJavaOverRPC(t *testing.T) {
	start := time.Now()
	tools, sdkJar, jar := buildToken(t)
	if err := jvm.Verify(jar); err != nil {
		t.Fatalf("the token contract fails the determinism check: %v", err)
	}
	client, c := startContract(t, tools, sdkJar, jar)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	iface, err := c.Describe(ctx, &pb.Empty{})
	if err != nil {
		t.Fatalf("Describe: %v", err)
	}
	var sigs []string
	for _, m := range iface.Methods {
		sigs = append(sigs, m.Name+":"+m.InputType+"->"+m.OutputType)
	}
	want := "balance:string->u64 init:string->string mint:u64->u64 supply:string->u64 transfer:token.Transfer->u64"
	if got := strings.Join(sigs, " "); got != want {
		t.Fatalf("Describe = %s\nwant       %s", got, want)
	}

	h := newHost()
	alice, bob := star(0xa1), star(0xb0)
	ah, bh := hex.EncodeToString(alice), hex.EncodeToString(bob)
	expect := func(r result, out, errPart string) {
		t.Helper()
		if errPart != "" {
			if !strings.Contains(r.err, errPart) {
				t.Fatalf("error %q, want one containing %q", r.err, errPart)
			}
			return
		}
		if r.err != "" || r.out != out {
			t.Fatalf("got output %q error %q, want output %q", r.out, r.err, out)
		}
	}

	r := h.invoke(t, c, alice, "init", "TOK")
	expect(r, "TOK", "")
	if len(r.events) != 1 || r.events[0].Topic != "init" {
		t.Fatalf("init events = %v", r.events)
	}
	expect(h.invoke(t, c, bob, "init", "BAD"), "", "already initialized")
	expect(h.invoke(t, c, bob, "mint", "5"), "", "only the owner mints")
	expect(h.invoke(t, c, alice, "mint", "007"), "", "not a canonical decimal u64")

	r = h.invoke(t, c, alice, "mint", "1000")
	expect(r, "1000", "")
	// The host saw the reads: the owner, the balance and the supply.
	gotReads := append([]string(nil), r.reads...)
	sort.Strings(gotReads)
	if fmt.Sprint(gotReads) != fmt.Sprint([]string{"bal/" + ah, "owner", "supply"}) {
		t.Fatalf("mint read %v", r.reads)
	}
	var keys []string
	for _, w := range r.writes {
		keys = append(keys, string(w.Key)+"="+string(w.Value))
	}
	if fmt.Sprint(keys) != fmt.Sprint([]string{"bal/" + ah + "=1000", "supply=1000"}) {
		t.Fatalf("mint writes %v (want sorted by key)", keys)
	}

	expect(h.invoke(t, c, alice, "transfer", bh+":300"), "700", "")
	expect(h.invoke(t, c, bob, "balance", bh), "300", "")
	expect(h.invoke(t, c, alice, "balance", ah), "700", "")
	expect(h.invoke(t, c, bob, "transfer", ah+":500"), "", "balance 300 is less than 500")
	expect(h.invoke(t, c, bob, "transfer", "zz:1"), "", "64 hex digits")
	expect(h.invoke(t, c, bob, "supply", ""), "1000", "")
	expect(h.invoke(t, c, bob, "burn", ""), "", `no method "burn"`)
	r = h.invoke(t, c, bob, "balance", ah)
	if len(r.reads) != 1 || r.reads[0] != "bal/"+ah {
		t.Fatalf("balance read %v, want exactly bal/%s", r.reads, ah)
	}
	if string(h.state["bal/"+bh]) != "300" || string(h.state["bal/"+ah]) != "700" {
		t.Fatalf("committed state %q", h.state)
	}

	client.Kill() // go-plugin's controller Shutdown, then the process exits
	if !client.Exited() {
		t.Fatal("the JVM did not exit after Kill")
	}
	t.Logf("built, verified, started and called in %v", time.Since(start).Round(time.Millisecond))
}

// A variant of the token that reads the clock is refused at deploy, with
// the call named.
func TestTokenJavaReadingTheClockIsRefused(t *testing.T) {
	tools, err := jvm.FindToolchain()
	if err != nil {
		t.Skipf("JVM toolchain missing (%v)", err)
	}
	sdkJar := buildSDK(t)
	src, err := os.ReadFile(filepath.Join("src", "com", "example", "token", "Token.java"))
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(src), "long bal = add(st.getU64(balanceKey(owner)), amount);",
		"long bal = add(st.getU64(balanceKey(owner)), amount + (System.currentTimeMillis() % 2));", 1)
	if bad == string(src) {
		t.Fatal("the mint line to tamper with is gone from Token.java")
	}
	dir := filepath.Join(t.TempDir(), "com", "example", "token")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Token.java"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	jar, err := jvm.BuildJar(tools.Javac, []string{sdkJar}, filepath.Dir(filepath.Dir(filepath.Dir(dir))))
	if err != nil {
		t.Fatal(err)
	}
	err = jvm.Verify(jar)
	want := "com/example/token/Token.mint: invokestatic java/lang/System.currentTimeMillis()J at pc "
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "clocks are not deterministic") {
		t.Fatalf("Verify = %v\nwant an error containing %q", err, want)
	}
}

// A call that never ends is stopped when the host gives up on it (its
// bound), the process stays healthy, static fields do not carry state from
// one call to the next, and identity hash codes are constant.
func TestJavaRuntimeBoundsAndStatics(t *testing.T) {
	tools, err := jvm.FindToolchain()
	if err != nil {
		t.Skipf("JVM toolchain missing (%v)", err)
	}
	sdkJar := buildSDK(t)
	jar, err := jvm.BuildJar(tools.Javac, []string{sdkJar}, filepath.Join("testdata", "loop"))
	if err != nil {
		t.Fatal(err)
	}
	if err := jvm.Verify(jar); err != nil {
		t.Fatal(err)
	}
	client, c := startContract(t, tools, sdkJar, jar)
	h := newHost()
	for i := 0; i < 3; i++ {
		if r := h.invoke(t, c, star(1), "count", "0"); r.out != "1" || r.err != "" {
			t.Fatalf("call %d: count = %q (error %q), want 1: static state leaked between calls", i, r.out, r.err)
		}
	}
	if r := h.invoke(t, c, star(1), "ident", ""); r.out != "java.lang.Object@1 1 1" {
		t.Fatalf("ident = %q (error %q), want every identity hash 1 (jvm.JVMFlags)", r.out, r.err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	stream, err := c.Invoke(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&pb.HostMessage{Msg: &pb.HostMessage_Invoke{Invoke: &pb.InvokeRequest{
		Invocation: 99, Method: "spin", Input: []byte("1"), Caller: star(1), Contract: star(2), CodeHash: star(3), Beacon: star(4),
	}}}); err != nil {
		t.Fatal(err)
	}
	if m, err := stream.Recv(); err == nil {
		t.Fatalf("spin answered %v; want the bound to cut it off", m)
	}
	// The runtime stopped the spinning thread: the JVM goes idle (less than
	// a third of a core over a second, where a live spin burns a whole one)
	// and calls still run, promptly.
	time.Sleep(500 * time.Millisecond)
	if rc := client.ReattachConfig(); rc != nil && rc.Pid > 0 {
		before := cpuTicks(t, rc.Pid)
		time.Sleep(time.Second)
		used := cpuTicks(t, rc.Pid) - before
		t.Logf("JVM CPU in the second after the bound: %d ticks (pid %d)", used, rc.Pid)
		if used > 33 {
			t.Fatalf("the JVM used %d of 100 CPU ticks in a second after the bound: the spin was not stopped", used)
		}
	}
	start := time.Now()
	if r := h.invoke(t, c, star(1), "count", "0"); r.out != "1" {
		t.Fatalf("after the bound: count = %q (error %q)", r.out, r.err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("a call after the bound took %v", d)
	}
}

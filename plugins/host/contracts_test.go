package host

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/constellation-chain/constellation/interfaces"
)

type versionedState map[string]struct {
	v       []byte
	version uint64
}

func (m versionedState) Get(k []byte) ([]byte, uint64, bool, error) {
	e, ok := m[string(k)]
	return e.v, e.version, ok, nil
}

func loadToyContract(t *testing.T, mod func(*ContractOptions)) (*Contract, *testLogger) {
	t.Helper()
	path, sum := pluginBinary(t, interfaces.KindContracts)
	logs := &testLogger{}
	opts := ContractOptions{
		Name:         "toy",
		Command:      func() *exec.Cmd { return exec.Command(path) },
		SHA256:       sum,
		AutoMTLS:     true,
		Logger:       hclog.New(&hclog.LoggerOptions{Name: "host", Output: logs, Level: hclog.Debug}),
		StartTimeout: 20 * time.Second,
	}
	if mod != nil {
		mod(&opts)
	}
	c, err := LoadContract(opts)
	if err != nil {
		t.Fatalf("load the toy contract: %v", err)
	}
	t.Cleanup(func() {
		c.Close()
		if t.Failed() {
			t.Logf("host log:\n%s", logs.String())
		}
	})
	return c, logs
}

func toyCall(method, input string, st interfaces.ContractState) interfaces.InvokeRequest {
	return interfaces.InvokeRequest{Contract: interfaces.DevStar("toy"), CodeHash: interfaces.Sum([]byte("toy")), Method: method, Caller: interfaces.DevStar("a"), Input: []byte(input), Height: 3, State: st}
}

func TestContractReadSetIsRecordedByTheHostWithVersions(t *testing.T) {
	c, _ := loadToyContract(t, nil)
	ctx := context.Background()
	desc, err := c.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := desc.Method("get"); !ok || len(desc.Methods) != 5 {
		t.Fatalf("describe = %+v", desc)
	}
	st := versionedState{"balance": {[]byte("42"), 7}}
	res, err := c.Invoke(ctx, toyCall("get", "balance", st))
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Output) != "42" || len(res.Events) != 1 {
		t.Fatalf("get = %+v", res)
	}
	if len(res.Reads) != 1 || string(res.Reads[0].Key) != "balance" || res.Reads[0].Version != 7 {
		t.Fatalf("reads = %+v, want balance@7", res.Reads)
	}
	res, err = c.Invoke(ctx, toyCall("get", "nothing", st))
	if err != nil || string(res.Output) != "<missing>" || len(res.Reads) != 1 || res.Reads[0].Version != 0 {
		t.Fatalf("get of a missing key = %+v, %v", res, err)
	}
	res, err = c.Invoke(ctx, toyCall("put", "k=v", st))
	if err != nil || len(res.Writes) != 1 || string(res.Writes[0].Value) != "v" || len(res.Reads) != 0 {
		t.Fatalf("put = %+v, %v", res, err)
	}
}

func TestContractFailureAndPanicAreContractLevelErrors(t *testing.T) {
	c, _ := loadToyContract(t, nil)
	for _, m := range []string{"fail", "panic", "nosuch"} {
		_, err := c.Invoke(context.Background(), toyCall(m, "", versionedState{}))
		if !errors.Is(err, ErrContractFailed) {
			t.Errorf("%s: err = %v, want ErrContractFailed", m, err)
		}
	}
	// The process survived them.
	if _, err := c.Invoke(context.Background(), toyCall("put", "a=b", versionedState{})); err != nil {
		t.Fatal(err)
	}
}

func TestContractLoopingForeverIsStoppedAtTheHostsBound(t *testing.T) {
	c, _ := loadToyContract(t, nil)
	// More often than a crashing process may restart: a stop at the bound
	// is the host's doing, not a crash.
	for i := 0; i <= DefaultMaxRestarts; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		_, err := c.Invoke(ctx, toyCall("loop", "", versionedState{}))
		cancel()
		if !errors.Is(err, ErrContractBound) {
			t.Fatalf("call %d: err = %v, want ErrContractBound", i, err)
		}
	}
	// The next call gets a fresh process.
	res, err := c.Invoke(context.Background(), toyCall("put", "a=b", versionedState{}))
	if err != nil || len(res.Writes) != 1 {
		t.Fatalf("after the bound: %+v, %v", res, err)
	}
}

func TestContractWithAnotherDigestIsNotStarted(t *testing.T) {
	path, _ := pluginBinary(t, interfaces.KindContracts)
	_, err := LoadContract(ContractOptions{Name: "toy", Command: func() *exec.Cmd { return exec.Command(path) }, SHA256: make([]byte, 32)})
	if err == nil || !strings.Contains(err.Error(), "refusing to start it") {
		t.Fatalf("err = %v, want a refusal naming the digests", err)
	}
}

// BenchmarkContractCallOverRPC measures one call of the toy contract that
// reads one key through the host: a stream, a state round trip, a result.
func BenchmarkContractCallOverRPC(b *testing.B) {
	path, sum := pluginBinary(b, interfaces.KindContracts)
	c, err := LoadContract(ContractOptions{Name: "toy", Command: func() *exec.Cmd { return exec.Command(path) }, SHA256: sum, AutoMTLS: true})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	st := versionedState{"balance": {[]byte("42"), 7}}
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Invoke(ctx, toyCall("get", "balance", st)); err != nil {
			b.Fatal(err)
		}
	}
}

package host

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	sha256 "github.com/minio/sha256-simd"

	"github.com/constellation-chain/constellation/conformance"
	"github.com/constellation-chain/constellation/interfaces"
	"github.com/constellation-chain/constellation/plugins"
	"github.com/constellation-chain/constellation/plugins/internal/testplugin"
)

// The test binary doubles as the plugin binary: started through a link
// named testplugin-KIND it serves that toy plugin instead of running tests.
func TestMain(m *testing.M) {
	testplugin.MaybeServe()
	os.Exit(m.Run())
}

var (
	digestOnce sync.Once
	selfPath   string
	selfDigest []byte
	digestErr  error
)

// pluginBinary returns a fresh directory's link to the test binary that
// serves kind, and the binary's sha256.
func pluginBinary(t testing.TB, kind interfaces.Kind) (string, []byte) {
	t.Helper()
	digestOnce.Do(func() {
		selfPath, digestErr = os.Executable()
		if digestErr != nil {
			return
		}
		var d string
		d, digestErr = fileDigest(selfPath)
		if digestErr == nil {
			selfDigest, digestErr = hex.DecodeString(d)
		}
	})
	if digestErr != nil {
		t.Fatalf("locate the test binary: %v", digestErr)
	}
	path := filepath.Join(t.TempDir(), testplugin.BinaryPrefix+string(kind))
	if err := os.Symlink(selfPath, path); err != nil {
		t.Fatalf("link the plugin binary: %v", err)
	}
	return path, selfDigest
}

// testLogger collects the host's logs (including the plugin's re-logged
// lines) for assertions and prints them on failure.
type testLogger struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *testLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *testLogger) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func load(t *testing.T, kind interfaces.Kind, mod func(*LoadOptions)) (*Plugin, *testLogger) {
	t.Helper()
	path, sum := pluginBinary(t, kind)
	logs := &testLogger{}
	opts := LoadOptions{
		Kind: kind, Name: "toy", Path: path, SHA256: sum,
		Logger:       hclog.New(&hclog.LoggerOptions{Name: "host", Output: logs, Level: hclog.Debug}),
		StartTimeout: 20 * time.Second,
	}
	if mod != nil {
		mod(&opts)
	}
	p, err := Load(opts)
	if err != nil {
		t.Fatalf("load %s plugin: %v", kind, err)
	}
	t.Cleanup(func() {
		p.Close()
		if t.Failed() {
			t.Logf("host log:\n%s", logs.String())
		}
	})
	return p, logs
}

func members(n int) []interfaces.StarID {
	out := make([]interfaces.StarID, n)
	for i := range out {
		out[i] = interfaces.DevStar(string(rune('a' + i)))
	}
	// DevStar ids are random-looking; the config wants them sorted.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Less(out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// network drives one consensus instance per member, delivering every
// message at once in a fixed order.
type network struct {
	t       *testing.T
	members []interfaces.StarID
	nodes   []interfaces.Consensus
	decided [][]interfaces.Decision
	// batched delivers all queued messages for one member in one StepAll
	// call (one StepMany round trip out of process).
	batched bool
}

func newNetwork(t *testing.T, f interfaces.ConsensusFactory, n int, params []byte) *network {
	t.Helper()
	nw := &network{t: t, members: members(n), decided: make([][]interfaces.Decision, n)}
	for i, self := range nw.members {
		c, err := f.NewConsensus(interfaces.ConsensusConfig{Self: self, Members: nw.members, Epoch: 5, Params: params})
		if err != nil {
			t.Fatalf("new consensus for member %d: %v", i, err)
		}
		nw.nodes = append(nw.nodes, c)
	}
	return nw
}

// deliver routes out (produced by member from) until the network is quiet.
func (nw *network) deliver(from int, out interfaces.Output) error {
	type msg struct {
		from, to int
		payload  []byte
	}
	var queue []msg
	push := func(from int, out interfaces.Output) {
		nw.decided[from] = append(nw.decided[from], out.Decisions...)
		for _, m := range out.Messages {
			for to, s := range nw.members {
				if to != from && (m.To == interfaces.Broadcast || m.To == s) {
					queue = append(queue, msg{from, to, m.Payload})
				}
			}
		}
	}
	push(from, out)
	for steps := 0; len(queue) > 0; steps++ {
		if steps > 10000 {
			return errors.New("network did not go quiet")
		}
		m := queue[0]
		queue = queue[1:]
		if !nw.batched {
			o, err := nw.nodes[m.to].Step(nw.members[m.from], m.payload)
			if err != nil {
				return err
			}
			push(m.to, o)
			continue
		}
		batch := []interfaces.Inbound{{From: nw.members[m.from], Payload: m.payload}}
		rest := queue[:0:0]
		for _, q := range queue {
			if q.to == m.to {
				batch = append(batch, interfaces.Inbound{From: nw.members[q.from], Payload: q.payload})
			} else {
				rest = append(rest, q)
			}
		}
		queue = rest
		o, err := interfaces.StepAll(nw.nodes[m.to], batch)
		if err != nil {
			return err
		}
		push(m.to, o)
	}
	return nil
}

func (nw *network) round(contribs ...[]byte) error {
	for i, c := range contribs {
		out, err := nw.nodes[i].Propose(c)
		if err != nil {
			return err
		}
		if err := nw.deliver(i, out); err != nil {
			return err
		}
	}
	return nil
}

func TestPluginInfoRoundTripsThroughRPC(t *testing.T) {
	for _, want := range []interfaces.PluginInfo{
		testplugin.Consensus{}.Info(), testplugin.Reputation{}.Info(),
		testplugin.Partitioner{}.Info(),
	} {
		p, _ := load(t, want.Kind, nil)
		if got := p.Info(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: info over RPC = %+v, want %+v", want.Kind, got, want)
		}
		f, err := p.Factory()
		if err != nil {
			t.Fatalf("%s: factory: %v", want.Kind, err)
		}
		if !reflect.DeepEqual(f.Info(), want) {
			t.Errorf("%s: factory info = %+v, want %+v", want.Kind, f.Info(), want)
		}
	}
}

func TestConsensusOutOfProcessDecidesLikeInProcess(t *testing.T) {
	p, logs := load(t, interfaces.KindConsensus, nil)
	f, err := p.Factory()
	if err != nil {
		t.Fatal(err)
	}
	cf, ok := f.(interfaces.ConsensusFactory)
	if !ok {
		t.Fatalf("factory %T is not a ConsensusFactory", f)
	}
	if _, ok := f.(interfaces.KeyDealer); !ok {
		t.Errorf("the toy consensus deals keys, but the factory %T is not a KeyDealer", f)
	}
	remote := newNetwork(t, cf, 3, nil)
	local := newNetwork(t, testplugin.Consensus{}, 3, nil)
	for r := 0; r < 4; r++ {
		in := [][]byte{[]byte{byte(r), 'a'}, []byte{byte(r), 'b'}, {}}
		if err := remote.round(in...); err != nil {
			t.Fatalf("round %d out of process: %v", r, err)
		}
		if err := local.round(in...); err != nil {
			t.Fatalf("round %d in process: %v", r, err)
		}
	}
	if !reflect.DeepEqual(remote.decided, local.decided) {
		t.Fatalf("decisions differ:\nout of process %+v\nin process     %+v", remote.decided, local.decided)
	}
	if len(remote.decided[0]) != 4 || remote.decided[0][0].Epoch != 5 {
		t.Fatalf("want 4 decisions from epoch 5, got %+v", remote.decided[0])
	}
	if got := remote.nodes[0].Epoch(); got != 9 {
		t.Errorf("Epoch() = %d after four proposals from epoch 5, want 9", got)
	}
	for _, n := range remote.nodes {
		if err := n.(io.Closer).Close(); err != nil {
			t.Errorf("close instance: %v", err)
		}
	}
	if !strings.Contains(logs.String(), "plugin loaded") {
		t.Errorf("host log lacks the load line:\n%s", logs.String())
	}
}

// TestStepManyIsOneRoundTripWithStepsSemantics delivers batches of
// messages through StepMany out of process and checks the decisions equal
// those of the same batches stepped one by one in process.
func TestStepManyIsOneRoundTripWithStepsSemantics(t *testing.T) {
	p, _ := load(t, interfaces.KindConsensus, nil)
	f, err := p.Factory()
	if err != nil {
		t.Fatal(err)
	}
	remote := newNetwork(t, f.(interfaces.ConsensusFactory), 3, nil)
	remote.batched = true
	if _, ok := remote.nodes[0].(interfaces.BatchStepper); !ok {
		t.Fatalf("the RPC client %T does not batch", remote.nodes[0])
	}
	local := newNetwork(t, testplugin.Consensus{}, 3, nil)
	local.batched = true // StepAll falls back to Step in process
	for r := 0; r < 4; r++ {
		in := [][]byte{{byte(r), 'a'}, {byte(r), 'b'}, {}}
		if err := remote.round(in...); err != nil {
			t.Fatalf("round %d out of process: %v", r, err)
		}
		if err := local.round(in...); err != nil {
			t.Fatalf("round %d in process: %v", r, err)
		}
	}
	if !reflect.DeepEqual(remote.decided, local.decided) || len(remote.decided[0]) != 4 {
		t.Fatalf("decisions differ:\nout of process %+v\nin process     %+v", remote.decided, local.decided)
	}
}

func TestPluginLogsAreRelabelledUnderThePluginName(t *testing.T) {
	p, logs := load(t, interfaces.KindConsensus, func(o *LoadOptions) { o.Name = "my-engine" })
	_ = p
	// go-plugin's server logs its start-up through the plugin's hclog JSON
	// logger; the host must re-log it under consensus/my-engine.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && !strings.Contains(logs.String(), "host.consensus/my-engine") {
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "host.consensus/my-engine") {
		t.Fatalf("no log line under host.consensus/my-engine:\n%s", logs.String())
	}
}

func TestChecksumMismatchIsRefusedNamingPathAndDigests(t *testing.T) {
	path, sum := pluginBinary(t, interfaces.KindReputation)
	wrong := make([]byte, 32)
	_, err := Load(LoadOptions{Kind: interfaces.KindReputation, Name: "toy", Path: path, SHA256: wrong})
	if err == nil {
		t.Fatal("a binary with the wrong checksum was loaded")
	}
	for _, want := range []string{"checksum mismatch", path, hex.EncodeToString(wrong), hex.EncodeToString(sum)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestMissingChecksumIsRefusedUnlessDev(t *testing.T) {
	path, _ := pluginBinary(t, interfaces.KindReputation)
	_, err := Load(LoadOptions{Kind: interfaces.KindReputation, Name: "toy", Path: path})
	if err == nil || !strings.Contains(err.Error(), "no sha256 checksum") || !strings.Contains(err.Error(), "--dev") {
		t.Fatalf("loading without a checksum: err = %v, want a refusal mentioning the checksum and --dev", err)
	}
	p, err := Load(LoadOptions{Kind: interfaces.KindReputation, Name: "toy", Path: path, Dev: true})
	if err != nil {
		t.Fatalf("dev mode should load an unchecked binary: %v", err)
	}
	p.Close()
}

func TestKindMismatchIsRefused(t *testing.T) {
	path, sum := pluginBinary(t, interfaces.KindReputation)
	_, err := Load(LoadOptions{Kind: interfaces.KindPartitioner, Name: "toy", Path: path, SHA256: sum})
	if err == nil || !strings.Contains(err.Error(), "is a reputation plugin") {
		t.Fatalf("err = %v, want a kind mismatch", err)
	}
}

func TestCrashedConsensusPluginIsRestartedAndReplayed(t *testing.T) {
	p, _ := load(t, interfaces.KindConsensus, nil)
	f, _ := p.Factory()
	remote := newNetwork(t, f.(interfaces.ConsensusFactory), 3, nil)
	local := newNetwork(t, testplugin.Consensus{}, 3, nil)
	inputs := [][][]byte{
		{[]byte("r0a"), []byte("r0b"), []byte("r0c")},
		{[]byte("r1a"), testplugin.CrashPayload, []byte("r1c")},
		{[]byte("r2a"), []byte("r2b"), []byte("r2c")},
	}
	for r, in := range inputs {
		if err := remote.round(in...); err != nil {
			t.Fatalf("round %d out of process: %v", r, err)
		}
		if err := local.round(in...); err != nil {
			t.Fatalf("round %d in process: %v", r, err)
		}
	}
	if p.Restarts() != 1 {
		t.Fatalf("restarts = %d, want 1", p.Restarts())
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(p.opts.Path), "crashed-once")); err != nil {
		t.Fatalf("the plugin did not crash: %v", err)
	}
	if !reflect.DeepEqual(remote.decided, local.decided) {
		t.Fatalf("decisions after replay differ:\nout of process %+v\nin process     %+v", remote.decided, local.decided)
	}
}

func TestCrashBeyondRestartBudgetIsPermanentAndExplained(t *testing.T) {
	p, _ := load(t, interfaces.KindConsensus, func(o *LoadOptions) { o.MaxRestarts = -1 })
	f, _ := p.Factory()
	c, err := f.(interfaces.ConsensusFactory).NewConsensus(interfaces.ConsensusConfig{Self: members(1)[0], Members: members(1)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Propose(testplugin.CrashPayload)
	var crash *CrashError
	if !errors.As(err, &crash) {
		t.Fatalf("err = %v (%T), want a *CrashError", err, err)
	}
	if !crash.Permanent || !strings.Contains(crash.ExitStatus, "exit status 3") {
		t.Errorf("crash = %+v, want permanent with exit status 3", crash)
	}
	if !strings.Contains(err.Error(), "crashing on purpose") {
		t.Errorf("crash error lacks the stderr tail: %v", err)
	}
	if _, err := c.Propose([]byte("x")); err == nil {
		t.Error("a call after a permanent crash succeeded")
	}
}

func TestKilledReputationPluginIsRestartedWithItsState(t *testing.T) {
	p, _ := load(t, interfaces.KindReputation, nil)
	f, _ := p.Factory()
	r, err := f.(interfaces.ReputationFactory).NewReputation(nil)
	if err != nil {
		t.Fatal(err)
	}
	ms := members(4)
	for h := uint64(1); h <= 3; h++ {
		if err := r.Observe(interfaces.Observation{Height: h, Meta: interfaces.BlockMeta{Proposers: ms[:h], Members: ms}}); err != nil {
			t.Fatalf("observe %d: %v", h, err)
		}
	}
	before := r.Score(ms[0])
	p.mu.Lock()
	pid := p.proc.cmd.Process
	p.mu.Unlock()
	if err := pid.Kill(); err != nil {
		t.Fatal(err)
	}
	after := r.Score(ms[0])
	if err := r.(interface{ Err() error }).Err(); err != nil {
		t.Fatalf("score after the kill failed: %v", err)
	}
	if after != before || before != interfaces.ScoreOne/2+3*interfaces.ScoreOne {
		t.Fatalf("score before kill %d, after restart %d, want both %d", before, after, interfaces.ScoreOne/2+3*interfaces.ScoreOne)
	}
	if p.Restarts() != 1 {
		t.Errorf("restarts = %d, want 1", p.Restarts())
	}
}

func TestWrongAnswersAreErrorsNotPanics(t *testing.T) {
	t.Run("consensus decisions out of epoch order", func(t *testing.T) {
		p, _ := load(t, interfaces.KindConsensus, nil)
		f, _ := p.Factory()
		ms := members(1)
		c, err := f.(interfaces.ConsensusFactory).NewConsensus(interfaces.ConsensusConfig{Self: ms[0], Members: ms, Params: []byte(`{"garbage":"epoch"}`)})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Propose([]byte("x"))
		if !errors.Is(err, ErrBadAnswer) || !strings.Contains(err.Error(), "epoch order") {
			t.Fatalf("err = %v, want ErrBadAnswer about epoch order", err)
		}
		if _, err := c.Propose([]byte("y")); !errors.Is(err, ErrBadAnswer) {
			t.Fatalf("the instance kept working after a wrong answer: %v", err)
		}
	})
	t.Run("reputation selects a non-candidate", func(t *testing.T) {
		p, _ := load(t, interfaces.KindReputation, nil)
		f, _ := p.Factory()
		r, err := f.(interfaces.ReputationFactory).NewReputation([]byte(`{"garbage":"select"}`))
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.Select(members(5), 2, interfaces.Hash{1})
		if !errors.Is(err, ErrBadAnswer) || !strings.Contains(err.Error(), "not a candidate") {
			t.Fatalf("err = %v, want ErrBadAnswer naming a non-candidate", err)
		}
	})
	t.Run("reputation panics", func(t *testing.T) {
		p, _ := load(t, interfaces.KindReputation, nil)
		f, _ := p.Factory()
		r, err := f.(interfaces.ReputationFactory).NewReputation([]byte(`{"garbage":"panic"}`))
		if err != nil {
			t.Fatal(err)
		}
		if s := r.Score(members(1)[0]); s != 0 {
			t.Errorf("score from a panicking plugin = %d, want 0", s)
		}
		if err := r.(interface{ Err() error }).Err(); !errors.Is(err, ErrBadAnswer) || !strings.Contains(err.Error(), "panicked") {
			t.Fatalf("Err() = %v, want ErrBadAnswer about the panic", err)
		}
		if p.Restarts() != 0 {
			t.Errorf("a recovered panic restarted the plugin")
		}
	})
	t.Run("partitioner assigns a missing cluster", func(t *testing.T) {
		p, _ := load(t, interfaces.KindPartitioner, nil)
		f, _ := p.Factory()
		pt, err := f.(interfaces.PartitionerFactory).NewPartitioner(4, []byte(`{"garbage":"cluster"}`))
		if err != nil {
			t.Fatal(err)
		}
		tx, err := interfaces.NewTransfer(interfaces.DevKey("a"), 1, interfaces.Hash{}, interfaces.DevStar("b"), 5)
		if err != nil {
			t.Fatal(err)
		}
		if c := pt.Assign(tx); c != 0 {
			t.Errorf("assign = %d, want the fallback 0", c)
		}
		if err := pt.(interface{ Err() error }).Err(); !errors.Is(err, ErrBadAnswer) {
			t.Fatalf("Err() = %v, want ErrBadAnswer", err)
		}
	})
}

func TestPartitionerAssignsAndLearnsOverRPC(t *testing.T) {
	p, _ := load(t, interfaces.KindPartitioner, nil)
	f, _ := p.Factory()
	pt, err := f.(interfaces.PartitionerFactory).NewPartitioner(3, nil)
	if err != nil {
		t.Fatal(err)
	}
	local, _ := testplugin.Partitioner{}.NewPartitioner(3, nil)
	var txs []*interfaces.Transaction
	for i := 0; i < 8; i++ {
		tx, err := interfaces.NewTransfer(interfaces.DevKey(string(rune('a'+i))), 1, interfaces.Hash{}, interfaces.DevStar("z"), 1)
		if err != nil {
			t.Fatal(err)
		}
		txs = append(txs, tx)
		if got, want := pt.Assign(tx), local.Assign(tx); got != want {
			t.Errorf("tx %d: assigned %d over RPC, %d in process", i, got, want)
		}
	}
	b := &interfaces.Block{Header: interfaces.BlockHeader{Height: 1, Prev: interfaces.GenesisHash("t")}, Txs: txs}
	b.Seal()
	if err := pt.Learn(b); err != nil {
		t.Fatalf("learn: %v", err)
	}
	if pt.Clusters() != 3 {
		t.Errorf("clusters = %d, want 3", pt.Clusters())
	}
}

func TestDealKeysReadsTheHostsRandomnessInOrder(t *testing.T) {
	p, _ := load(t, interfaces.KindConsensus, nil)
	f, _ := p.Factory()
	d := f.(interfaces.KeyDealer)
	ms := members(4)
	seed := [32]byte{7}
	got, err := d.DealKeys(ms, 1, rand.NewChaCha8(seed))
	if err != nil {
		t.Fatal(err)
	}
	want, err := testplugin.Consensus{}.DealKeys(ms, 1, rand.NewChaCha8(seed))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("keys dealt out of process %x differ from in process %x", got, want)
	}
	// Dealing again reuses the process's callback connection.
	if _, err := d.DealKeys(ms, 1, rand.NewChaCha8(seed)); err != nil {
		t.Fatalf("second deal: %v", err)
	}
}

func TestDebugModePrintsAReattachLineTheHostCanUse(t *testing.T) {
	path, _ := pluginBinary(t, interfaces.KindReputation)
	cmd := exec.Command(path)
	cmd.Env = append(os.Environ(), plugins.EnvDebug+"=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
		}
	}()
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var reattach string
	timeout := time.After(20 * time.Second)
	for reattach == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("the plugin exited without printing a reattach line")
			}
			if v, found := strings.CutPrefix(l, plugins.EnvReattach+"="); found {
				reattach = v
			}
		case <-timeout:
			t.Fatal("no reattach line within 20s")
		}
	}
	if _, err := Load(LoadOptions{Kind: interfaces.KindReputation, Name: "toy", Reattach: reattach}); err == nil || !strings.Contains(err.Error(), "dev") {
		t.Fatalf("reattaching without dev mode: err = %v, want a refusal", err)
	}
	p, err := Load(LoadOptions{Kind: interfaces.KindReputation, Name: "toy", Reattach: reattach, Dev: true})
	if err != nil {
		t.Fatalf("reattach: %v", err)
	}
	defer p.Close()
	f, _ := p.Factory()
	r, err := f.(interfaces.ReputationFactory).NewReputation(nil)
	if err != nil {
		t.Fatal(err)
	}
	if s := r.Score(members(1)[0]); s != interfaces.ScoreOne/2 {
		t.Fatalf("score over a reattached plugin = %d, want %d", s, interfaces.ScoreOne/2)
	}
}

// Sanity: the digest helper agrees with sha256-simd over the same bytes.
func TestFileDigestIsSHA256(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte("abc"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := fileDigest(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("abc"))
	if got != hex.EncodeToString(sum[:]) {
		t.Fatalf("digest %s, want %x", got, sum)
	}
}

// The reputation conformance suite passes against a plugin served out of
// process, exactly as `constellation conformance --kind reputation` runs it.
func TestToyReputationPassesConformanceOutOfProcess(t *testing.T) {
	p, _ := load(t, interfaces.KindReputation, nil)
	f, err := p.Factory()
	if err != nil {
		t.Fatal(err)
	}
	conformance.RunReputation(t, f.(interfaces.ReputationFactory))
}

// The consensus conformance suite passes against the toy engine served out
// of process (capabilities the toy does not claim are skipped).
func TestToyConsensusPassesConformanceOutOfProcess(t *testing.T) {
	p, _ := load(t, interfaces.KindConsensus, nil)
	f, err := p.Factory()
	if err != nil {
		t.Fatal(err)
	}
	conformance.RunConsensus(t, f.(interfaces.ConsensusFactory))
}

// benchmarkPropose measures one Propose (a single-member toy engine decides
// at once, so each call returns one message and one decision).
func benchmarkPropose(b *testing.B, f interfaces.ConsensusFactory) {
	ms := members(1)
	c, err := f.NewConsensus(interfaces.ConsensusConfig{Self: ms[0], Members: ms})
	if err != nil {
		b.Fatal(err)
	}
	payload := bytes.Repeat([]byte{0xab}, 1024)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Propose(payload); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkProposeInProcess(b *testing.B) { benchmarkPropose(b, testplugin.Consensus{}) }

func BenchmarkProposeOutOfProcess(b *testing.B) {
	path := filepath.Join(b.TempDir(), testplugin.BinaryPrefix+string(interfaces.KindConsensus))
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	if err := os.Symlink(self, path); err != nil {
		b.Fatal(err)
	}
	p, err := Load(LoadOptions{Kind: interfaces.KindConsensus, Name: "toy", Path: path, Dev: true})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	f, _ := p.Factory()
	benchmarkPropose(b, f.(interfaces.ConsensusFactory))
}

func TestHungPluginIsKilledAndReported(t *testing.T) {
	p, _ := load(t, interfaces.KindReputation, func(o *LoadOptions) {
		o.MaxRestarts = -1
		o.CallTimeout = 300 * time.Millisecond
	})
	f, _ := p.Factory()
	r, err := f.(interfaces.ReputationFactory).NewReputation([]byte(`{"garbage":"hang"}`))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if s := r.Score(members(1)[0]); s != 0 {
		t.Errorf("score from a hung plugin = %d, want 0", s)
	}
	var crash *CrashError
	if err := r.(interface{ Err() error }).Err(); !errors.As(err, &crash) || !strings.Contains(crash.ExitStatus, "not answering") {
		t.Fatalf("Err() = %v, want a CrashError saying the plugin stopped answering", err)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("detecting the hang took %v", el)
	}
}

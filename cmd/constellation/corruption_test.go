package main

import (
	"bytes"
	"context"
	encbin "encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/constellation-chain/constellation/framework/api"
)

// The corruption and disk-full tests run one Star Cluster of four
// delegates, star-1 to star-4, on loopback ports 7901-7904 (peer to
// peer) and 8901-8904 (API), which no other test uses. star-4 is the node
// whose storage is damaged.

// stackTrace matches what a Go crash prints; no storage fault may end in
// one.
var stackTrace = regexp.MustCompile(`goroutine \d|panic:|fatal error:|SIGSEGV`)

// corruptionManifest is recoveryManifest moved to ports 7901-7904 and
// 8901-8904.
func corruptionManifest(t *testing.T) string {
	t.Helper()
	src := recoveryManifest(t)
	src = strings.ReplaceAll(src, "tcp/770", "tcp/790")
	src = strings.ReplaceAll(src, "127.0.0.1:870", "127.0.0.1:890")
	if regexp.MustCompile(`tcp/77\d\d|:87\d\d`).MatchString(src) {
		t.Fatalf("corruptionManifest left a port of the recovery test:\n%s", src)
	}
	return src
}

// corruptionNet is a stopped network's directory: the manifest, the keys
// beside it and each star's data directory in data/star-N, left by a
// SIGKILL of every node under load, so that star-4's log holds the open
// epochs. Its files are only read; cases copy what they damage.
type corruptionNet struct {
	dir      string
	manifest string
	height   uint64 // star-4's stored head
}

func (n *corruptionNet) data(star int) string {
	return filepath.Join(n.dir, "data", fmt.Sprintf("star-%d", star))
}

var (
	corruptionOnce sync.Once
	corruptionBase *corruptionNet
	corruptionErr  error
)

// buildCorruptionNet runs the four-delegate testnet with load until its
// chain passes height 20, SIGKILLs every node, and splits star-4's log
// into three segments (see splitLog). It runs once per test binary; its
// directory is under TestMain's, which removes it.
func buildCorruptionNet(t *testing.T) *corruptionNet {
	t.Helper()
	corruptionOnce.Do(func() {
		corruptionBase, corruptionErr = startCorruptionNet(t)
	})
	if corruptionErr != nil {
		t.Fatal(corruptionErr)
	}
	return corruptionBase
}

func startCorruptionNet(t *testing.T) (*corruptionNet, error) {
	dir := filepath.Join(filepath.Dir(binary), "corruption-net")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	n := &corruptionNet{dir: dir, manifest: filepath.Join(dir, "net.hcl")}
	if err := os.WriteFile(n.manifest, []byte(corruptionManifest(t)), 0o600); err != nil {
		return nil, err
	}
	tn := exec.Command(binary, "--log-level", "warn", "testnet", "--no-restart", "--manifest", n.manifest, "--data", filepath.Join(dir, "data"), "--rate", "200")
	tn.Dir = dir
	var out, errOut lockedBuffer
	tn.Stdout, tn.Stderr = &out, &errOut
	dieWithParent(tn)
	if err := tn.Start(); err != nil {
		return nil, err
	}
	started := regexp.MustCompile(`star-(\d) +started \(pid (\d+)`)
	pids := func() []int {
		var ps []int
		for _, m := range started.FindAllStringSubmatch(out.String(), -1) {
			p, _ := strconv.Atoi(m[2])
			ps = append(ps, p)
		}
		return ps
	}
	star4 := func() int {
		for _, m := range started.FindAllStringSubmatch(out.String(), -1) {
			if m[1] == "4" {
				p, _ := strconv.Atoi(m[2])
				return p
			}
		}
		return 0
	}
	stop := func() {
		for _, p := range pids() {
			syscall.Kill(p, syscall.SIGKILL)
		}
		tn.Process.Kill()
		tn.Wait()
	}
	// Kill once the chain is past height 20 and star-4's log holds
	// enough records for every case (right after a block it may hold
	// few). star-4 is frozen (SIGSTOP) while its log is counted, so that
	// it cannot commit a block and compact the log between the count and
	// the kill.
	c1 := api.NewClient("127.0.0.1:8901")
	records := 0
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if p := star4(); p != 0 && statusHeight(c1) >= 20 {
			syscall.Kill(p, syscall.SIGSTOP)
			waitStopped(p)
			if records = logRecords(filepath.Join(n.data(4), "wal")); records >= 12 {
				break // killed frozen, below
			}
			syscall.Kill(p, syscall.SIGCONT)
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("the testnet reached no height 20 with 12 records in star-4's log in 60 s (%d records):\n%s\n%s", records, tail2(out.String(), 30), errOut.String())
		}
	}
	if len(pids()) != 4 {
		stop()
		return nil, fmt.Errorf("want 4 node pids in the testnet's output:\n%s", out.String())
	}
	// Under load, not at a clean stop: the log holds the open epochs.
	stop()
	if err := splitLog(filepath.Join(n.data(4), "wal")); err != nil {
		return nil, fmt.Errorf("%w\n--- testnet:\n%s\n%s", err, tail2(out.String(), 20), errOut.String())
	}
	h, err := chainHeight(n.data(4))
	if err != nil {
		return nil, err
	}
	n.height = h
	return n, nil
}

// waitStopped waits, up to a second, until every thread of process pid is
// stopped (state T in /proc/pid/task/*/stat): a SIGSTOP takes effect
// once a thread in a system call returns from it.
func waitStopped(pid int) {
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		stats, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
		all := len(stats) > 0
		for _, st := range stats {
			b, _ := os.ReadFile(st)
			// The state follows the command name's closing parenthesis.
			if i := bytes.LastIndexByte(b, ')'); i < 0 || i+2 >= len(b) || (b[i+2] != 'T' && b[i+2] != 't') {
				all = false
				break
			}
		}
		if all {
			return
		}
	}
}

// chainHeight reads a data directory's head with `chain head`.
func chainHeight(data string) (uint64, error) {
	out, err := exec.Command(binary, "chain", "head", data).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("chain head %s: %v\n%s", data, err, out)
	}
	var h uint64
	if _, err := fmt.Sscanf(string(out), "height %d", &h); err != nil {
		return 0, fmt.Errorf("chain head %s printed %q", data, out)
	}
	return h, nil
}

func statusHeight(c *api.Client) uint64 {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := c.Status(ctx)
	if err != nil {
		return 0
	}
	return st.Height
}

// walRecords returns the offsets and lengths of the records in a log
// segment, by the format in framework/wal (an 8-byte header whose first
// four bytes are the length of the rest).
func walRecords(raw []byte) (offs []int, lens []int) {
	for off := 0; off+8 <= len(raw); {
		n := 8 + int(encbin.BigEndian.Uint32(raw[off:]))
		if off+n > len(raw) {
			break
		}
		offs, lens = append(offs, off), append(lens, n)
		off += n
	}
	return offs, lens
}

// logRecords counts the whole records in a log's segments.
func logRecords(dir string) int {
	segs, _ := walSegments(dir)
	n := 0
	for _, s := range segs {
		b, _ := os.ReadFile(s)
		offs, _ := walRecords(b)
		n += len(offs)
	}
	return n
}

// walSegments lists a log's segment files, oldest first.
func walSegments(dir string) ([]string, error) {
	segs, err := filepath.Glob(filepath.Join(dir, "*.wal"))
	sort.Strings(segs) // zero-padded numbers
	return segs, err
}

// splitLog rewrites a log as the same records, in the same order, in
// three segments ending at the newest segment's number. A node killed
// under load rarely leaves more than one segment; three let every case
// meet an older segment as well as the newest.
func splitLog(dir string) error {
	segs, err := walSegments(dir)
	if err != nil || len(segs) == 0 {
		return fmt.Errorf("star-4 left no log segments in %s (%v)", dir, err)
	}
	var all []byte
	for _, s := range segs {
		b, err := os.ReadFile(s)
		if err != nil {
			return err
		}
		all = append(all, b...)
	}
	offs, lens := walRecords(all)
	if len(offs) < 9 {
		return fmt.Errorf("star-4's log holds %d whole records; the cases need 9", len(offs))
	}
	last, err := strconv.ParseUint(strings.TrimSuffix(filepath.Base(segs[len(segs)-1]), ".wal"), 10, 64)
	if err != nil || last < 3 {
		return fmt.Errorf("newest segment %s: %v", segs[len(segs)-1], err)
	}
	for _, s := range segs {
		if err := os.Remove(s); err != nil {
			return err
		}
	}
	end := offs[len(offs)-1] + lens[len(lens)-1]
	cuts := []int{0, offs[len(offs)/3], offs[2*len(offs)/3], end}
	for i := range 3 {
		name := filepath.Join(dir, fmt.Sprintf("%016d.wal", last-2+uint64(i)))
		if err := os.WriteFile(name, all[cuts[i]:cuts[i+1]], 0o600); err != nil {
			return err
		}
	}
	return nil
}

// copyDir copies the tree at src to dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(to, 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// flip inverts one byte of a file (four bits of it where inverting all
// would leave a zero, which at the end of a log reads as a torn tail).
func flip(t *testing.T, path string, at int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if b[at] == 0xff {
		b[at] ^= 0x0f
	} else {
		b[at] ^= 0xff
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// refused runs the binary with args, which must fail within 60 s with
// exactly one error line and no stack trace, and returns that line.
func refused(t *testing.T, dir string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = dir
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	dieWithParent(cmd)
	start := time.Now()
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%v ran for 60 s; it should have refused the damaged storage\n%s\n%s", args, o.String(), e.String())
	}
	if err == nil {
		t.Fatalf("%v exited 0 on damaged storage\n%s\n%s", args, tail2(o.String(), 10), e.String())
	}
	if stackTrace.MatchString(e.String() + o.String()) {
		t.Fatalf("%v printed a stack trace:\n%s", args, e.String())
	}
	var lines []string
	for _, l := range strings.Split(e.String(), "\n") {
		if strings.HasPrefix(l, "Error: ") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 {
		t.Fatalf("%v: want one error line, got %d:\n%s", args, len(lines), e.String())
	}
	t.Logf("%s %s (%.1f s): %s", args[2], args[3], time.Since(start).Seconds(), lines[0])
	return lines[0]
}

// says fails the test unless line holds every one of want.
func says(t *testing.T, line string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(line, w) {
			t.Fatalf("the error line does not say %q:\n%s", w, line)
		}
	}
}

// star4 is a copy of star-4's data directory for one case.
func star4(t *testing.T, n *corruptionNet) string {
	t.Helper()
	d := filepath.Join(t.TempDir(), "star-4")
	copyDir(t, n.data(4), d)
	return d
}

func nodeRunArgs(n *corruptionNet, data string) []string {
	return []string{"--log-level", "warn", "node", "run", "--manifest", n.manifest, "--node", "star-4", "--data", data}
}

// TestDamagedStorageEndsInOneClearError is the corruption matrix: every
// damage to a stopped node's log or chain that a crash cannot cause makes
// `node run` (and `chain verify`, for the chain) exit non-zero with one
// error line that names the file, the offset where there is one, and the
// way to recover, never a stack trace; a torn tail, which a crash does
// cause, is cut and the node starts.
func TestDamagedStorageEndsInOneClearError(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a four-node testnet and a node per case")
	}
	n := buildCorruptionNet(t)
	segs, err := walSegments(filepath.Join(n.data(4), "wal"))
	if err != nil || len(segs) != 3 {
		t.Fatalf("want 3 log segments, got %v (%v)", segs, err)
	}

	t.Run("the undamaged copy starts", func(t *testing.T) {
		startsAndStops(t, n, star4(t, n))
	})

	// A flipped byte in each segment's first, middle and last record.
	// In the last record of the newest segment too it is damage, not a
	// torn tail: the record is whole, and a crash never leaves a whole
	// record whose checksum fails.
	for i, seg := range segs {
		raw, _ := os.ReadFile(seg)
		offs, lens := walRecords(raw)
		newest := i == len(segs)-1
		for _, r := range []struct {
			name string
			rec  int
			at   int // byte of the record
		}{
			{"first record", 0, min(8+41+1, lens[0]-1)},
			{"middle record", len(offs) / 2, lens[len(offs)/2] / 2},
			{"last record", len(offs) - 1, lens[len(offs)-1] - 1},
			{"last record's checksum", len(offs) - 1, 5},
		} {
			if r.name == "last record's checksum" && !newest {
				continue
			}
			what := fmt.Sprintf("segment %d of %d (older)", i+1, len(segs))
			if newest {
				what = fmt.Sprintf("segment %d of %d (the newest)", i+1, len(segs))
			}
			t.Run(fmt.Sprintf("flipped byte in %s of %s", r.name, what), func(t *testing.T) {
				d := star4(t, n)
				target := filepath.Join(d, "wal", filepath.Base(seg))
				flip(t, target, offs[r.rec]+r.at)
				line := refused(t, d, nodeRunArgs(n, d)...)
				says(t, line, target, fmt.Sprintf("offset %d", offs[r.rec]), "constellation node repair --data "+d)
			})
		}
	}

	// A segment cut mid-record: at the end of the newest segment that is
	// a torn tail, cut and started from; in an older one it is damage.
	for i, seg := range segs {
		raw, _ := os.ReadFile(seg)
		offs, lens := walRecords(raw)
		last := offs[len(offs)-1]
		cut := last + lens[len(lens)-1]/2
		if i == len(segs)-1 {
			t.Run("the newest segment cut mid-record (a torn tail) starts", func(t *testing.T) {
				d := star4(t, n)
				if err := os.Truncate(filepath.Join(d, "wal", filepath.Base(seg)), int64(cut)); err != nil {
					t.Fatal(err)
				}
				startsAndStops(t, n, d)
			})
			continue
		}
		t.Run(fmt.Sprintf("older segment %d of %d cut mid-record", i+1, len(segs)), func(t *testing.T) {
			d := star4(t, n)
			target := filepath.Join(d, "wal", filepath.Base(seg))
			if err := os.Truncate(target, int64(cut)); err != nil {
				t.Fatal(err)
			}
			line := refused(t, d, nodeRunArgs(n, d)...)
			says(t, line, target, fmt.Sprintf("offset %d", last), "constellation node repair --data "+d)
		})
	}

	t.Run("older segment missing", func(t *testing.T) {
		d := star4(t, n)
		if err := os.Remove(filepath.Join(d, "wal", filepath.Base(segs[1]))); err != nil {
			t.Fatal(err)
		}
		line := refused(t, d, nodeRunArgs(n, d)...)
		says(t, line, filepath.Join(d, "wal"), "missing", "constellation node repair --data "+d)
	})

	t.Run("deleted log directory", func(t *testing.T) {
		d := star4(t, n)
		if err := os.RemoveAll(filepath.Join(d, "wal")); err != nil {
			t.Fatal(err)
		}
		line := refused(t, d, nodeRunArgs(n, d)...)
		says(t, line, filepath.Join(d, "wal")+" is missing", "constellation node repair --data "+d)
	})

	// The chain database: `node run` and `chain verify` alike.
	chainCase := func(name string, damage func(t *testing.T, db string)) {
		t.Run(name, func(t *testing.T) {
			d := star4(t, n)
			db := filepath.Join(d, "chain", "chain.db")
			damage(t, db)
			for _, args := range [][]string{nodeRunArgs(n, d), {"--log-level", "warn", "chain", "verify", d}} {
				line := refused(t, d, args...)
				says(t, line, db, "to recover", "restore", "resync")
			}
		})
	}
	chainCase("chain.db cut to half its size", func(t *testing.T, db string) {
		st, err := os.Stat(db)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(db, st.Size()/2); err != nil {
			t.Fatal(err)
		}
	})
	chainCase("flipped bytes in every data page", func(t *testing.T, db string) {
		pages := leafValues(t, db)
		if len(pages) < 3 {
			t.Fatalf("chain.db has %d leaf pages", len(pages))
		}
		for _, at := range pages {
			flip(t, db, at)
		}
		t.Logf("flipped a value byte in each of %d leaf pages", len(pages))
	})
	chainCase("zeroed meta pages", func(t *testing.T, db string) {
		f, err := os.OpenFile(db, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteAt(make([]byte, 2*os.Getpagesize()), 0); err != nil {
			t.Fatal(err)
		}
	})
}

// leafValues returns, for every leaf page in use in the database, the
// file offset of a byte in the middle of its first value, by bbolt's page
// layout (a 16-byte page header, then 16-byte leaf elements of flags, pos,
// ksize and vsize, pos counted from the element).
func leafValues(t *testing.T, path string) []int {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var leaves []int
	size := db.Info().PageSize
	err = db.View(func(tx *bolt.Tx) error {
		for id := 2; ; {
			p, err := tx.Page(id)
			if err != nil || p == nil {
				return err
			}
			if p.Type == "leaf" && p.Count > 0 {
				leaves = append(leaves, id)
			}
			id += 1 + p.OverflowCount // an overflow's pages have no header
		}
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var offs []int
	for _, id := range leaves {
		elem := id*size + 16
		pos := int(encbin.LittleEndian.Uint32(raw[elem+4:]))
		ksize := int(encbin.LittleEndian.Uint32(raw[elem+8:]))
		vsize := int(encbin.LittleEndian.Uint32(raw[elem+12:]))
		if vsize == 0 {
			continue
		}
		at := elem + pos + ksize + vsize/2
		if at < len(raw) {
			offs = append(offs, at)
		}
	}
	return offs
}

// startsAndStops runs star-4 on data alone: it must open its storage and
// serve its API at its stored height, then stop cleanly on SIGINT.
func startsAndStops(t *testing.T, n *corruptionNet, data string) {
	t.Helper()
	p := startNode(t, n, 4, data)
	c := api.NewClient("127.0.0.1:8904")
	for deadline := time.Now().Add(30 * time.Second); statusHeight(c) < n.height; time.Sleep(200 * time.Millisecond) {
		if p.exited() || time.Now().After(deadline) {
			p.stop(t)
			t.Fatalf("star-4 did not start and serve height %d within 30 s:\n%s", n.height, p.errOut.String())
		}
	}
	t.Logf("star-4 started and serves height %d", statusHeight(c))
	if code := p.stop(t); code != 0 {
		t.Fatalf("star-4 exited %d on SIGINT:\n%s", code, p.errOut.String())
	}
}

// nodeProc is one `node run` process of the corruption network.
type nodeProc struct {
	cmd         *exec.Cmd
	out, errOut lockedBuffer
	done        chan struct{}
	code        int
}

func startNode(t *testing.T, n *corruptionNet, star int, data string) *nodeProc {
	t.Helper()
	p := &nodeProc{done: make(chan struct{})}
	p.cmd = exec.Command(binary, "--log-level", "warn", "node", "run", "--manifest", n.manifest, "--node", fmt.Sprintf("star-%d", star), "--data", data)
	p.cmd.Dir = n.dir
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.errOut
	dieWithParent(p.cmd)
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := p.cmd.Wait()
		if ee, ok := err.(*exec.ExitError); ok {
			p.code = ee.ExitCode()
		} else if err != nil {
			p.code = -1
		}
		close(p.done)
	}()
	t.Cleanup(func() { p.cmd.Process.Kill(); <-p.done })
	return p
}

func (p *nodeProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait waits up to d for the process to end and returns its exit code;
// ok is false if it still runs.
func (p *nodeProc) wait(d time.Duration) (code int, ok bool) {
	select {
	case <-p.done:
		return p.code, true
	case <-time.After(d):
		return 0, false
	}
}

// stop interrupts the process and waits up to 20 s for it, then kills
// it; it returns the exit code.
func (p *nodeProc) stop(t *testing.T) int {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGINT)
	if code, ok := p.wait(20 * time.Second); ok {
		return code
	}
	p.cmd.Process.Kill()
	<-p.done
	t.Errorf("a node did not stop within 20 s of SIGINT")
	return -1
}

// startPeers starts star-1 to star-3 on copies of their data directories
// and waits until they produce blocks past star-4's height.
func startPeers(t *testing.T, n *corruptionNet) []*nodeProc {
	t.Helper()
	root := t.TempDir()
	var peers []*nodeProc
	for i := 1; i <= 3; i++ {
		d := filepath.Join(root, fmt.Sprintf("star-%d", i))
		copyDir(t, n.data(i), d)
		peers = append(peers, startNode(t, n, i, d))
	}
	c1 := api.NewClient("127.0.0.1:8901")
	for deadline := time.Now().Add(40 * time.Second); statusHeight(c1) < n.height+5; time.Sleep(250 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("star-1 to star-3 made no progress past height %d in 40 s:\n%s", n.height, peers[0].errOut.String())
		}
	}
	return peers
}

// catchesUp waits until star-4 serves star-1's height (within one block).
func catchesUp(t *testing.T, p *nodeProc, within time.Duration) {
	t.Helper()
	c1, c4 := api.NewClient("127.0.0.1:8901"), api.NewClient("127.0.0.1:8904")
	for deadline := time.Now().Add(within); ; time.Sleep(250 * time.Millisecond) {
		h1, h4 := statusHeight(c1), statusHeight(c4)
		if h4 > 0 && h4+1 >= h1 {
			t.Logf("star-4 at height %d, star-1 at %d", h4, h1)
			return
		}
		if p.exited() || time.Now().After(deadline) {
			t.Fatalf("star-4 did not catch up within %s (height %d, star-1 at %d):\n%s", within, h4, h1, p.errOut.String())
		}
	}
}

// TestNodeRepairMovesADamagedLogAsideAndTheNodeCatchesUp: `node repair`
// without --discard-open-epochs changes nothing; with it, and --wait-for
// a peer, it waits until the peer's chain is past the epochs the damaged
// log names, moves the log to wal.damaged-* unchanged, and the node then
// starts and catches up with the others.
func TestNodeRepairMovesADamagedLogAsideAndTheNodeCatchesUp(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a four-node network")
	}
	n := buildCorruptionNet(t)
	d := star4(t, n)
	segs, _ := walSegments(filepath.Join(d, "wal"))
	flip(t, segs[0], 8+41+1)
	before, _ := os.ReadFile(segs[0])

	out, errOut, code := run(t, n.dir, "node", "repair", "--data", d)
	if code == 0 || !strings.Contains(out, "DAMAGED") || !strings.Contains(errOut, "--discard-open-epochs") || stackTrace.MatchString(out+errOut) {
		t.Fatalf("repair without the flag: exit %d\n%s\n%s", code, out, errOut)
	}
	if now, _ := os.ReadFile(segs[0]); !bytes.Equal(now, before) {
		t.Fatal("repair without --discard-open-epochs changed the log")
	}
	t.Logf("repair without the flag:\n%s%s", out, errOut)

	peers := startPeers(t, n)
	start := time.Now()
	out, errOut, code = run(t, n.dir, "node", "repair", "--data", d, "--discard-open-epochs", "--wait-for", "127.0.0.1:8901", "--wait-timeout", "60s")
	if code != 0 {
		t.Fatalf("repair: exit %d\n%s\n%s", code, out, errOut)
	}
	t.Logf("repair (%.1f s):\n%s", time.Since(start).Seconds(), out)
	moved, _ := filepath.Glob(filepath.Join(d, "wal.damaged-*"))
	if len(moved) != 1 {
		t.Fatalf("want one wal.damaged-* directory, got %v", moved)
	}
	if kept, _ := os.ReadFile(filepath.Join(moved[0], filepath.Base(segs[0]))); !bytes.Equal(kept, before) {
		t.Fatal("the damaged log was not kept as it was")
	}
	p := startNode(t, n, 4, d)
	catchesUp(t, p, 40*time.Second)
	for _, q := range append(peers, p) {
		q.stop(t)
	}
}

// TestNodeRepairRefusesWhatItCannotRepair: no directory, a directory with
// no chain, a stray argument and a running node are refused with a clear
// error; a sound log is left alone.
func TestNodeRepairRefusesWhatItCannotRepair(t *testing.T) {
	if testing.Short() {
		t.Skip("uses the corruption network's data")
	}
	n := buildCorruptionNet(t)
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--data", filepath.Join(dir, "nothing")}, "is not a node data directory"},
		{[]string{"--data", dir}, "holds no chain"},
		{[]string{"--data", dir, "extra"}, "takes no arguments"},
	} {
		_, errOut, code := run(t, dir, append([]string{"node", "repair"}, c.args...)...)
		if code == 0 || !strings.Contains(errOut, c.want) || stackTrace.MatchString(errOut) {
			t.Fatalf("repair %v: exit %d, want an error saying %q:\n%s", c.args, code, c.want, errOut)
		}
	}
	d := star4(t, n)
	out, errOut, code := run(t, dir, "node", "repair", "--data", d, "--discard-open-epochs")
	if code != 0 || !strings.Contains(out, "is sound") {
		t.Fatalf("repair of a sound log: exit %d\n%s\n%s", code, out, errOut)
	}
	if moved, _ := filepath.Glob(filepath.Join(d, "wal.damaged-*")); len(moved) != 0 {
		t.Fatalf("repair moved a sound log: %v", moved)
	}
	p := startNode(t, n, 4, d)
	for deadline := time.Now().Add(30 * time.Second); statusHeight(api.NewClient("127.0.0.1:8904")) == 0; time.Sleep(200 * time.Millisecond) {
		if p.exited() || time.Now().After(deadline) {
			t.Fatalf("star-4 did not start:\n%s", p.errOut.String())
		}
	}
	_, errOut, code = run(t, dir, "node", "repair", "--data", d, "--discard-open-epochs")
	if code == 0 || !strings.Contains(errOut, "in use by another process") {
		t.Fatalf("repair of a running node's directory: exit %d\n%s", code, errOut)
	}
	p.stop(t)
}

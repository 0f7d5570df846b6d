package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/constellation-chain/constellation/framework/api"
)

// TestAFullDiskStopsTheNodeCleanlyAndItCatchesUpAfter: star-4 runs with
// its data directory on a small file system of its own while star-1 to
// star-3 produce blocks; a ballast file fills that file system. The node
// stops, non-zero, with one error line that says there is no space left
// and names the file it was writing, and no stack trace. With the ballast
// gone it starts again on the same directory and catches up with the
// others.
func TestAFullDiskStopsTheNodeCleanlyAndItCatchesUpAfter(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a four-node network")
	}
	if runtime.GOOS != "linux" {
		t.Skip("mounts a tmpfs to fill, which is Linux only")
	}
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=24m"); err != nil {
		t.Skipf("cannot mount a 24 MiB tmpfs to fill (needs root, or CAP_SYS_ADMIN): %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(mnt, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", mnt, err)
		}
	})
	n := buildCorruptionNet(t)
	data := filepath.Join(mnt, "star-4")
	copyDir(t, n.data(4), data)

	peers := startPeers(t, n)
	p := startNode(t, n, 4, data)
	catchesUp(t, p, 40*time.Second)

	// Fill the file system to the last byte. (Leaving room does not
	// fill it soon: bbolt rewrites pages it freed and the log deletes a
	// segment for each it starts, so a chain without load grows slowly.)
	// The node writes while the ballast grows, so the free space read
	// before it is a moment old: grow it in steps until the file system
	// refuses one, then in pages until it refuses a page.
	var fs syscall.Statfs_t
	ballast := filepath.Join(mnt, "ballast")
	f, err := os.Create(ballast)
	if err != nil {
		t.Fatal(err)
	}
	var size int64
	for _, step := range []int64{1 << 20, 4096} {
		for {
			err := syscall.Fallocate(int(f.Fd()), 0, size, step)
			if err == syscall.ENOSPC {
				break
			}
			if err != nil {
				f.Close()
				t.Fatalf("fallocate the ballast at %d bytes: %v", size, err)
			}
			size += step
		}
	}
	f.Close()
	filled := time.Now()

	code, ok := p.wait(30 * time.Second)
	if !ok {
		syscall.Statfs(mnt, &fs)
		p.stop(t)
		t.Fatalf("star-4 still ran 30 s after its disk was filled (%d bytes free):\n%s", int64(fs.Bavail)*fs.Bsize, p.errOut.String())
	}
	errOut := p.errOut.String()
	if code == 0 {
		t.Fatalf("star-4 exited 0 on a full disk:\n%s", errOut)
	}
	if stackTrace.MatchString(errOut) {
		t.Fatalf("star-4 printed a stack trace on a full disk:\n%s", errOut)
	}
	var lines []string
	for _, l := range strings.Split(errOut, "\n") {
		if strings.HasPrefix(l, "Error: ") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 {
		t.Fatalf("want one error line, got %d:\n%s", len(lines), errOut)
	}
	says(t, lines[0], "no space left on device", data, "is full", "free space")
	t.Logf("star-4 stopped %.1f s after the disk was filled, exit %d: %s", time.Since(filled).Seconds(), code, lines[0])

	// The others go on without it; it has blocks to catch up on.
	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	stopped, err := chainHeight(data)
	if err != nil {
		t.Fatal(err)
	}
	c1 := api.NewClient("127.0.0.1:8901")
	for deadline := time.Now().Add(30 * time.Second); statusHeight(c1) < stopped+10; time.Sleep(250 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("star-1 to star-3 did not go on from height %d without star-4:\n%s", stopped, peers[0].errOut.String())
		}
	}
	p = startNode(t, n, 4, data)
	catchesUp(t, p, 40*time.Second)
	if h := statusHeight(api.NewClient("127.0.0.1:8904")); h < stopped+10 {
		t.Fatalf("star-4 is at height %d, stopped at %d", h, stopped)
	}
	t.Logf("star-4 had stopped at height %d", stopped)
	for _, q := range append(peers, p) {
		q.stop(t)
	}
}

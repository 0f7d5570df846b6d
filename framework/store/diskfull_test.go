package store

import (
	"errors"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestAFullDiskFailsTheCommitWithAClearErrorAndLosesNothing: on a file
// system that fills up, the commit that finds no room fails with an error
// that names the file and says the disk is full; once there is room again
// the store reopens at the last block that was stored, verifies, and
// takes the block that failed. It mounts a small tmpfs, which needs root
// on Linux.
func TestAFullDiskFailsTheCommitWithAClearErrorAndLosesNothing(t *testing.T) {
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=256k"); err != nil {
		t.Skipf("cannot mount a small tmpfs to fill (needs root on Linux): %v", err)
	}
	defer syscall.Unmount(mnt, syscall.MNT_DETACH)
	dir := filepath.Join(mnt, "chain")
	s := openInit(t, dir)
	rng := rand.New(rand.NewPCG(7, 7))
	var full error
	for i := 0; i < 2000 && full == nil; i++ {
		b, ch := buildNext(t, s, rng, 50)
		full = s.CommitBlock(b, ch)
	}
	stored, _, _ := s.Head()
	s.Close()
	if !errors.Is(full, syscall.ENOSPC) {
		t.Fatalf("the commit that filled the disk gave %v, want ENOSPC", full)
	}
	path := filepath.Join(dir, FileName)
	if !strings.Contains(full.Error(), path) || !strings.Contains(full.Error(), "is full") {
		t.Fatalf("the error does not name %s and say the disk is full: %v", path, full)
	}
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", syscall.MS_REMOUNT, "size=8m"); err != nil {
		t.Fatalf("make room: %v", err)
	}
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("reopen after the disk had room again: %v", err)
	}
	defer s.Close()
	if h, _, _ := s.Head(); h != stored {
		t.Fatalf("reopened at height %d, the last stored block was %d", h, stored)
	}
	if err := s.Verify(); err != nil {
		t.Fatal(err)
	}
	commitN(t, s, rng, 2, 50)
}

package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	bolt "go.etcd.io/bbolt"
)

// TestFileCutShortIsAClearError: a chain.db cut to half its size (the
// outside report: SIGSEGV in bbolt and a stack trace) is refused at Open
// with the sizes, not read until the memory map faults.
func TestFileCutShortIsAClearError(t *testing.T) {
	dir := t.TempDir()
	s := openInit(t, dir)
	if err := s.view(func(tx *bolt.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	// Grow the database past its first pages, as a running chain does.
	if err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketBlocks)
		for i := range 64 {
			if err := b.Put(u64(uint64(1000+i)), make([]byte, 16<<10)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	path := filepath.Join(dir, FileName)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, st.Size()/2); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(dir, Options{})
	if err == nil {
		s2.Close()
		t.Fatal("Open accepted a file cut to half its size")
	}
	if !(strings.Contains(err.Error(), "cut short") || errors.Is(err, ErrDamaged)) || !strings.Contains(err.Error(), path) {
		t.Fatalf("error does not say what and where: %v", err)
	}
}

// TestFaultInAReadIsAnError: a read that touches memory outside any
// mapping (what a damaged page reference does to bbolt's memory map) ends
// the read with an error instead of the process.
func TestFaultInAReadIsAnError(t *testing.T) {
	s := openInit(t, t.TempDir())
	defer s.Close()
	page := os.Getpagesize()
	mem, err := syscall.Mmap(-1, 0, page, syscall.PROT_READ, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Skipf("mmap: %v", err)
	}
	addr := unsafe.Pointer(&mem[0])
	if err := syscall.Munmap(mem); err != nil {
		t.Fatal(err)
	}
	err = s.view(func(*bolt.Tx) error {
		_ = *(*byte)(addr) // unmapped: a fault
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("view = %v, want an error saying the file may be corrupt", err)
	}
	if err := s.view(func(*bolt.Tx) error { return nil }); err != nil {
		t.Fatalf("the store is unusable after a recovered fault: %v", err)
	}
}

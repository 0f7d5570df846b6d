package contracts

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/constellation-chain/constellation/interfaces"
)

func TestFindBundleFindsByContentNotByName(t *testing.T) {
	dir := t.TempDir()
	b := []byte("a bundle")
	if err := os.WriteFile(filepath.Join(dir, "whatever"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	// A file named by the hash whose content is something else is skipped.
	if err := os.WriteFile(filepath.Join(dir, interfaces.Sum(b).String()), []byte("tampered"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := FindBundle(dir, interfaces.Sum(b))
	if err != nil || string(got) != "a bundle" {
		t.Fatalf("FindBundle = %q, %v", got, err)
	}
	if _, err := FindBundle(dir, interfaces.Sum([]byte("other"))); err == nil || !strings.Contains(err.Error(), "sha256") {
		t.Fatalf("missing bundle: %v", err)
	}
}

func TestDeployRefusesAMismatchAndAJVMBundleWithoutAJVM(t *testing.T) {
	rt, err := New(Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	d := interfaces.Deployment{
		Contract: interfaces.DevStar("c"),
		Deploy: interfaces.DeployPayload{Runtime: interfaces.RuntimeGo, CodeHash: interfaces.Sum([]byte("real")),
			Interface: interfaces.ContractInterface{Methods: []interfaces.MethodSig{{Name: "m"}}},
			Hosts:     []interfaces.StarID{interfaces.DevStar("h")}, Threshold: 1},
		Bundle: []byte("tampered"),
	}
	if err := rt.Deploy(context.Background(), d); !errors.Is(err, ErrBundleMismatch) {
		t.Fatalf("err = %v, want ErrBundleMismatch", err)
	}
	d.Deploy.Runtime = interfaces.RuntimeJVM
	d.Bundle = []byte("real")
	if err := rt.Deploy(context.Background(), d); err == nil || !strings.Contains(err.Error(), "no jvm contracts") {
		t.Fatalf("jvm without a class path: %v", err)
	}
	if rt.Running(d.Contract) {
		t.Fatal("a refused contract runs")
	}
}

func TestParamsRefuseUnknownFieldsAndBoundsOutOfRange(t *testing.T) {
	if _, err := ParseParams([]byte(`{"call_bound_ms": 0}`)); err == nil {
		t.Error("a zero bound was accepted")
	}
	if _, err := ParseParams([]byte(`{"timeout": 5}`)); err == nil {
		t.Error("an unknown field was accepted")
	}
	p, err := ParseParams(nil)
	if err != nil || p.CallBoundMS != DefaultCallBound.Milliseconds() {
		t.Fatalf("defaults: %+v, %v", p, err)
	}
}

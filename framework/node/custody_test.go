package node_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/constellation-chain/constellation/builtin/honeybadger"
	"github.com/constellation-chain/constellation/framework/node"
	"github.com/constellation-chain/constellation/interfaces"
)

// groupOf is a cluster's members and dealt keys, able to certify.
type groupOf struct {
	members []interfaces.StarID
	keys    [][]byte
	key     []byte
}

func dealGroup(t *testing.T, names []string, seed byte) groupOf {
	t.Helper()
	var ms []interfaces.StarID
	for _, n := range names {
		ms = append(ms, interfaces.DevStar(n))
	}
	slices.SortFunc(ms, interfaces.CompareStars)
	f := honeybadger.Factory{}
	ks, err := f.DealKeys(ms, 0, rand.NewChaCha8([32]byte{seed}))
	if err != nil {
		t.Fatal(err)
	}
	gk, err := f.GroupKey(ks[0])
	if err != nil {
		t.Fatal(err)
	}
	return groupOf{members: ms, keys: ks, key: gk}
}

// certify threshold-signs the certificate message of hash under inst.
func (g groupOf) certify(t *testing.T, inst interfaces.InstanceID, hash interfaces.Hash) []byte {
	t.Helper()
	msg := interfaces.CertificateMessage(inst, hash)
	var shares []interfaces.SignatureShare
	var signer interfaces.ThresholdSigner
	for i, m := range g.members {
		c, err := honeybadger.Factory{}.NewConsensus(interfaces.ConsensusConfig{Self: m, Members: g.members, Keys: g.keys[i], BatchSize: 1})
		if err != nil {
			t.Fatal(err)
		}
		signer = c.(interfaces.ThresholdSigner)
		sh, err := signer.SignShare(msg)
		if err != nil {
			t.Fatal(err)
		}
		shares = append(shares, interfaces.SignatureShare{Member: m, Share: sh})
	}
	sig, err := signer.CombineShares(msg, shares)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// The galaxy follows a rotating cluster's keys through the handovers its
// checkpoints carry: a checkpoint certified by the next membership's key is
// refused until the galaxy has finalized the checkpoint that handed the key
// over, and accepted after; the old key then no longer certifies later
// heights, and earlier heights still check under it.
func TestGalaxyFollowsAClusterKeyThroughItsHandover(t *testing.T) {
	const seed = "custody-test"
	old := dealGroup(t, []string{"a", "b", "c", "d"}, 1)
	next := dealGroup(t, []string{"a", "b", "c", "e"}, 2)
	oldInst := interfaces.NewInstanceID(seed, "cluster/0", 0, old.members)
	h := &node.Hierarchy{
		Seed:     seed,
		Clusters: []node.GroupKey{{Name: "cluster/0", Members: old.members, Instance: oldInst, Key: old.key}},
		Verifier: honeybadger.Factory{},
	}
	const firstEpoch = 20
	checkpoint := func(height uint64, meta interfaces.BlockMeta, g groupOf, inst interfaces.InstanceID) interfaces.CheckpointPayload {
		b := &interfaces.Block{Header: interfaces.BlockHeader{Height: height, Epoch: height - 1, Cluster: 0}, Meta: meta}
		b.Seal()
		return interfaces.Checkpoint(b, g.certify(t, inst, b.Hash()))
	}
	handing := checkpoint(19, interfaces.BlockMeta{Members: old.members, Handover: &interfaces.Handover{FirstEpoch: firstEpoch, Members: next.members, GroupKey: next.key}}, old, oldInst)
	if err := h.VerifyCheckpoint(&handing); err != nil {
		t.Fatalf("the handing-over checkpoint, certified by the current key: %v", err)
	}
	nextInst := interfaces.NewInstanceID(seed, "cluster/0", firstEpoch, next.members)
	after := checkpoint(20, interfaces.BlockMeta{Members: next.members}, next, nextInst)
	if err := h.VerifyCheckpoint(&after); err == nil {
		t.Fatal("a checkpoint under a key no finalized handover named was accepted")
	}
	bh := &interfaces.Block{Txs: []*interfaces.Transaction{interfaces.CheckpointTx(handing)}}
	if err := h.ObserveHandovers(bh); err != nil {
		t.Fatal(err)
	}
	if err := h.VerifyCheckpoint(&after); err != nil {
		t.Fatalf("after the handover was finalized, the next key's checkpoint: %v", err)
	}
	stale := checkpoint(21, interfaces.BlockMeta{Members: old.members}, old, oldInst)
	if err := h.VerifyCheckpoint(&stale); err == nil {
		t.Fatal("the retired key still certifies heights after its handover")
	}
	if err := h.VerifyCheckpoint(&handing); err != nil {
		t.Fatalf("a height before the handover no longer checks under the key of its time: %v", err)
	}
}

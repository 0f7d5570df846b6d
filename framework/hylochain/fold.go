// Package hylochain is the HyloChain fold: a pure function from one
// consensus decision, the parent block and a read view of the ledger state
// to the next block and its state changes. It does no I/O and reads no
// clock, so every honest member folds the same decision into the same
// block, byte for byte, and a restarted member folds it again identically.
//
// Data flow: group (decision) → Fold → ledger + store (the caller commits
// block and changes in one transaction) → events.
//
// What the block commits to, and why each part is agreed:
//
//   - transactions: the union of the decided contributions' transactions in
//     decided order (contributions in the order consensus fixed, each in its
//     proposer's order), deduplicated, then applied by the ledger's rules;
//   - the timestamp: the median of the contributions' timestamps, never
//     below the parent's;
//   - proposers and members: from the decision and the instance;
//   - faults: those carried in the decided contributions whose evidence
//     verifies against the instance (interfaces.VerifyFault), one per
//     (star, kind, epoch), sorted;
//   - latency: per member, the lower median of the latencies the decided
//     contributions report for it (see medianLatency).
package hylochain

import (
	"errors"
	"fmt"
	"slices"

	"github.com/constellation-chain/constellation/framework/ledger"
	"github.com/constellation-chain/constellation/interfaces"
)

// Instance is the consensus instance whose decisions are folded.
type Instance struct {
	ID      interfaces.InstanceID
	Cluster interfaces.ClusterID
	// Members are the instance's members, sorted.
	Members []interfaces.StarID
	// Checker verifies fault evidence under the engine's rules; nil admits
	// no fault.
	Checker interfaces.FaultChecker
	// Rules are the hierarchy's rules for this chain (nil: one cluster).
	Rules *ledger.Rules
}

// Parent is what the fold needs of the block before: its ledger reference
// and its timestamp (the genesis timestamp before block 1).
type Parent struct {
	Ref       ledger.Parent
	Timestamp int64
}

// Result is one folded block and what the caller needs besides it.
type Result struct {
	Block   *interfaces.Block
	Changes *ledger.Changes
	// Rejected counts decided transactions the ledger refused; Refused are
	// those of them that can never apply (bad signature, shape), for the
	// pool to forget. Insufficient balance and sequence gaps may apply
	// later and are not in Refused.
	Rejected int
	Refused  []*interfaces.Transaction
	// RefusedWhy is the ledger's error for each of Refused.
	RefusedWhy []error
	// Short are the decided transactions the ledger refused because
	// their sender's balance was short: they may apply later, once the
	// sender is paid, and the pool gives them a bounded number of blocks.
	Short []*interfaces.Transaction
	// Duplicates counts transactions more than one member proposed.
	Duplicates int
	// Undecodable names proposers whose contribution did not decode; they
	// count as not having proposed.
	Undecodable []interfaces.StarID
	// BadEvidence counts faults carried in contributions whose evidence did
	// not verify; they are left out of the block.
	BadEvidence int
}

// Fold turns decision d into the block after parent. view is the ledger
// state as of parent; it is only read. The error is for a failure of the
// view (a storage error), never for the decision's contents: whatever a
// Byzantine proposer put in its contribution is refused by rule, the same
// way on every member.
func Fold(inst Instance, view ledger.View, parent Parent, d interfaces.Decision) (*Result, error) {
	res := &Result{}
	var (
		txs       []*interfaces.Transaction
		stamps    []int64
		proposers []interfaces.StarID
		reports   [][]uint32
		faults    []interfaces.Fault
		seen      = map[interfaces.Hash]struct{}{}
	)
	for _, c := range d.Contributions {
		batch, err := interfaces.DecodeTxBatch(c.Data)
		if err != nil {
			res.Undecodable = append(res.Undecodable, c.Proposer)
			continue
		}
		proposers = append(proposers, c.Proposer)
		stamps = append(stamps, batch.Timestamp)
		if len(batch.Latency) == len(inst.Members) {
			reports = append(reports, batch.Latency)
		}
		faults = append(faults, batch.Faults...)
		for _, tx := range batch.Txs {
			id := tx.ID()
			if _, dup := seen[id]; dup {
				res.Duplicates++
				continue
			}
			seen[id] = struct{}{}
			txs = append(txs, tx)
		}
	}
	ts := max(median(stamps), parent.Timestamp)

	b := ledger.NewBuilder(view, inst.Cluster, parent.Ref).WithRules(inst.Rules)
	// What the pool never saw (other proposers' transactions that gossip
	// did not bring first) is verified here in batches, not one by one.
	b.Preverify(txs)
	// A transaction that arrives before its sender's previous one (they
	// came in different contributions) gets one more try after the first
	// pass.
	var retry []*interfaces.Transaction
	full := false
	for pass := 0; pass < 2 && !full; pass++ {
		for _, tx := range txs {
			err := b.Apply(tx)
			if err == nil {
				continue
			}
			if errors.Is(err, ledger.ErrBlockFull) {
				full = true // the rest stay in the pool for a later block
				break
			}
			if !errors.Is(err, ledger.ErrInvalidTx) {
				return nil, fmt.Errorf("apply decided transaction: %w", err)
			}
			if pass == 0 && errors.Is(err, ledger.ErrSequenceGap) {
				retry = append(retry, tx)
				continue
			}
			res.Rejected++
			if errors.Is(err, ledger.ErrInsufficientBalance) {
				res.Short = append(res.Short, tx)
			}
			if !errors.Is(err, ledger.ErrInsufficientBalance) && !errors.Is(err, ledger.ErrSequenceGap) && !errors.Is(err, ledger.ErrReceiptsFull) && !errors.Is(err, ledger.ErrNotYet) {
				res.Refused = append(res.Refused, tx)
				res.RefusedWhy = append(res.RefusedWhy, err)
			}
		}
		txs, retry = retry, nil
	}

	admitted, bad := AdmitFaults(inst, faults)
	res.BadEvidence = bad
	meta := interfaces.BlockMeta{
		Proposers:     proposers,
		Members:       inst.Members,
		Faults:        admitted,
		LatencyMillis: medianLatency(len(inst.Members), reports),
	}
	res.Block, res.Changes = b.Finish(d.Epoch, ts, meta)
	return res, nil
}

// FaultKey identifies a fault for deduplication: one star is docked once
// per kind and epoch however many members report it.
type FaultKey struct {
	Star  interfaces.StarID
	Kind  interfaces.FaultKind
	Epoch uint64
}

// KeyOf returns f's key.
func KeyOf(f interfaces.Fault) FaultKey { return FaultKey{f.Star, f.Kind, f.Epoch} }

// CompareFaultKeys orders fault keys by star, kind and epoch: the order
// of BlockMeta.Faults.
func CompareFaultKeys(a, b FaultKey) int {
	if c := interfaces.CompareStars(a.Star, b.Star); c != 0 {
		return c
	}
	if a.Kind != b.Kind {
		return int(a.Kind) - int(b.Kind)
	}
	switch {
	case a.Epoch < b.Epoch:
		return -1
	case a.Epoch > b.Epoch:
		return 1
	}
	return 0
}

// AdmitFaults keeps the faults whose evidence verifies against inst, the
// first of each key in the order given, sorted by key; bad counts the
// ones refused. Faults against non-members are refused too.
func AdmitFaults(inst Instance, faults []interfaces.Fault) (admitted []interfaces.Fault, bad int) {
	have := map[FaultKey]bool{}
	for _, f := range faults {
		k := KeyOf(f)
		if have[k] {
			continue
		}
		if _, member := slices.BinarySearchFunc(inst.Members, f.Star, interfaces.CompareStars); !member {
			bad++
			continue
		}
		if err := interfaces.VerifyFault(inst.ID, inst.Checker, f); err != nil {
			bad++
			continue
		}
		have[k] = true
		admitted = append(admitted, f)
	}
	slices.SortFunc(admitted, func(a, b interfaces.Fault) int { return CompareFaultKeys(KeyOf(a), KeyOf(b)) })
	return admitted, bad
}

func median(v []int64) int64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

// medianLatency aggregates the proposers' latency reports into one value
// per member: the lower median of the reports, where a report of 0 ("not
// heard") sorts above every latency. With k ≥ 2f+1 reports of which at
// most f lie, the lower median is at index ⌊(k−1)/2⌋ ≥ f, so at least one
// honest report is at or below it and, as k−1−⌊(k−1)/2⌋ ≥ f, at least one
// honest report is at or above it: f liars cannot move it outside the range
// the honest members reported. When the median is "not heard", the result
// is 0. With no reports the result is nil.
func medianLatency(members int, reports [][]uint32) []uint32 {
	if len(reports) == 0 {
		return nil
	}
	out := make([]uint32, members)
	col := make([]uint64, len(reports))
	for j := range out {
		for i, r := range reports {
			v := uint64(r[j])
			if v == 0 {
				v = 1 << 32 // not heard: above every latency
			}
			col[i] = v
		}
		slices.Sort(col)
		if m := col[(len(col)-1)/2]; m < 1<<32 {
			out[j] = uint32(m)
		}
	}
	return out
}

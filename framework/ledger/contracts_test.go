package ledger_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/constellation-chain/constellation/framework/ledger"
	"github.com/constellation-chain/constellation/framework/ledger/ledgertest"
	"github.com/constellation-chain/constellation/interfaces"
)

// contractChain is a one-cluster chain with contracts on: a MemState and
// the committed transactions, which LoadTx serves.
type contractChain struct {
	t     *testing.T
	w     *ledgertest.World
	st    *ledger.MemState
	txs   map[interfaces.Hash]*interfaces.Transaction
	rules *ledger.Rules
	hosts []int // world indexes of the hosts, in the deploy's (sorted) order
}

const (
	deployer = 0
	caller   = 1
)

func newContractChain(t *testing.T) *contractChain {
	w := ledgertest.NewWorld("contracts", 5, 1000)
	c := &contractChain{t: t, w: w, st: mustState(t, w.Genesis), txs: map[interfaces.Hash]*interfaces.Transaction{}}
	c.rules = &ledger.Rules{Contracts: &ledger.ContractRules{LoadTx: func(id interfaces.Hash) (*interfaces.Transaction, error) {
		tx, ok := c.txs[id]
		if !ok {
			return nil, fmt.Errorf("%w: %s", ledger.ErrTxNotCommitted, id.Short())
		}
		return tx, nil
	}}}
	c.hosts = []int{2, 3, 4}
	slices.SortFunc(c.hosts, func(a, b int) int { return interfaces.CompareStars(w.Stars[a], w.Stars[b]) })
	return c
}

func (c *contractChain) builder() *ledger.Builder {
	return ledger.NewBuilder(c.st, 0, c.st.Parent()).WithRules(c.rules)
}

// block applies txs in one block and commits it; it returns each
// transaction's Apply error (refused ones are left out of the block).
func (c *contractChain) block(txs ...*interfaces.Transaction) []error {
	c.t.Helper()
	b := c.builder()
	errs := make([]error, len(txs))
	for i, tx := range txs {
		errs[i] = b.Apply(tx)
	}
	blk, ch := b.Finish(c.st.Parent().Height+1, int64(c.st.Parent().Height+1)*1000, interfaces.BlockMeta{})
	// Every node re-validates the block the same way.
	if _, err := ledger.VerifyBlockWith(c.st, c.st.Parent(), blk, c.rules); err != nil {
		c.t.Fatalf("re-validating the block: %v", err)
	}
	if err := c.st.Commit(blk, ch); err != nil {
		c.t.Fatal(err)
	}
	for _, tx := range blk.Txs {
		c.txs[tx.ID()] = tx
	}
	return errs
}

func (c *contractChain) sign(from int, kind interfaces.TxKind, counterparty interfaces.StarID, payload []byte, seqOffset uint64) *interfaces.Transaction {
	c.t.Helper()
	seq, last, _ := c.st.ChainHead(c.w.Stars[from])
	if seqOffset > 0 {
		last = interfaces.Hash{} // filled by the caller for chained transactions
	}
	tx := &interfaces.Transaction{Sender: c.w.Stars[from], Seq: seq + 1 + seqOffset, Prev: last, Kind: kind, Payload: payload, Counterparty: counterparty}
	if err := tx.Sign(c.w.Keys[from]); err != nil {
		c.t.Fatal(err)
	}
	return tx
}

func (c *contractChain) deploy(threshold uint16) interfaces.StarID {
	c.t.Helper()
	bundle := []byte("vending machine bundle")
	p := interfaces.DeployPayload{
		Runtime: interfaces.RuntimeGo, Name: "vending", CodeHash: interfaces.Sum(bundle), Bundle: bundle,
		Interface: interfaces.ContractInterface{Methods: []interfaces.MethodSig{{Name: "buy", Input: "string", Output: "string"}}},
		Threshold: threshold,
	}
	for _, h := range c.hosts {
		p.Hosts = append(p.Hosts, c.w.Stars[h])
	}
	tx := c.sign(deployer, interfaces.TxDeploy, interfaces.StarID{}, p.Encode(), 0)
	if err := c.block(tx)[0]; err != nil {
		c.t.Fatalf("deploy: %v", err)
	}
	return interfaces.ContractStar(tx.Sender, tx.Seq)
}

// call builds the caller's next call with the given result, endorsed by
// the hosts at the given indexes of c.hosts.
func (c *contractChain) call(contract interfaces.StarID, amount uint64, r interfaces.CallResult, endorsers ...int) (*interfaces.Transaction, *interfaces.CallPayload) {
	c.t.Helper()
	seq, last, _ := c.st.ChainHead(c.w.Stars[caller])
	p := &interfaces.CallPayload{Method: "buy", Input: []byte("cola"), Amount: amount, Height: c.st.Parent().Height, Result: r}
	tx := &interfaces.Transaction{Sender: c.w.Stars[caller], Seq: seq + 1, Prev: last, Kind: interfaces.TxCall, Counterparty: contract}
	for _, i := range endorsers {
		en, err := interfaces.Endorse(c.w.Keys[c.hosts[i]], p.Call(tx), p.Result)
		if err != nil {
			c.t.Fatal(err)
		}
		p.Endorsements = append(p.Endorsements, en)
	}
	p.Endorsements = interfaces.SortEndorsements(p.Endorsements)
	tx.Payload = p.Encode()
	if err := tx.Sign(c.w.Keys[caller]); err != nil {
		c.t.Fatal(err)
	}
	return tx, p
}

func (c *contractChain) value(contract interfaces.StarID, key string) (string, uint64, bool) {
	c.t.Helper()
	v, ver, ok, err := ledger.ContractValue(c.st.ChainHead, c.rules.Contracts.LoadTx, interfaces.ContractKey(contract, []byte(key)))
	if err != nil {
		c.t.Fatal(err)
	}
	return string(v), ver, ok
}

func stockResult(contract interfaces.StarID, readVersion uint64, stock string) interfaces.CallResult {
	k := interfaces.ContractKey(contract, []byte("stock/cola"))
	return interfaces.CallResult{
		Output: []byte("cola"),
		Writes: []interfaces.KV{{Key: k, Value: []byte(stock)}},
		Reads:  []interfaces.ReadVersion{{Key: k, Version: readVersion}},
		Events: []interfaces.Event{{Topic: "sold", Data: []byte("cola")}},
	}
}

func TestContractCallWithThresholdCoSignaturesAppliesItsWritesAndPayment(t *testing.T) {
	c := newContractChain(t)
	vm := c.deploy(2)
	tx, _ := c.call(vm, 3, stockResult(vm, 0, "9"), 0, 2)
	if err := c.block(tx)[0]; err != nil {
		t.Fatalf("call: %v", err)
	}
	v, ver, ok := c.value(vm, "stock/cola")
	if !ok || v != "9" || ver != c.st.Parent().Height {
		t.Fatalf("stock = %q@%d (%v), want 9@%d", v, ver, ok, c.st.Parent().Height)
	}
	if bal, _ := c.st.Balance(vm); bal != 3 {
		t.Fatalf("contract balance %d, want 3", bal)
	}
	if bal, _ := c.st.Balance(c.w.Stars[caller]); bal != 997 {
		t.Fatalf("caller balance %d, want 997", bal)
	}
	// The next call reads the new version.
	tx, _ = c.call(vm, 3, stockResult(vm, ver, "8"), 1, 2)
	if err := c.block(tx)[0]; err != nil {
		t.Fatalf("second call: %v", err)
	}
	if v, _, _ := c.value(vm, "stock/cola"); v != "8" {
		t.Fatalf("stock = %q, want 8", v)
	}
}

func TestContractCallWithTooFewCoSignaturesIsRefused(t *testing.T) {
	c := newContractChain(t)
	vm := c.deploy(2)
	tx, _ := c.call(vm, 3, stockResult(vm, 0, "9"), 1)
	if err := c.block(tx)[0]; !errors.Is(err, ledger.ErrEndorsement) {
		t.Fatalf("err = %v, want ErrEndorsement", err)
	}
	if _, _, ok := c.value(vm, "stock/cola"); ok {
		t.Fatal("a refused call wrote state")
	}
	if bal, _ := c.st.Balance(c.w.Stars[caller]); bal != 1000 {
		t.Fatalf("a refused call moved noOs: caller has %d", bal)
	}
}

func TestContractCallCoSignedByAStarThatIsNotAHostIsRefused(t *testing.T) {
	c := newContractChain(t)
	vm := c.deploy(1)
	tx, p := c.call(vm, 0, stockResult(vm, 0, "9"))
	en, _ := interfaces.Endorse(c.w.Keys[deployer], p.Call(tx), p.Result)
	p.Endorsements = []interfaces.Endorsement{en}
	tx.Payload = p.Encode()
	_ = tx.Sign(c.w.Keys[caller])
	if err := c.block(tx)[0]; !errors.Is(err, ledger.ErrEndorsement) {
		t.Fatalf("err = %v, want ErrEndorsement", err)
	}
}

func TestContractCallWithATamperedResultIsRefused(t *testing.T) {
	c := newContractChain(t)
	vm := c.deploy(2)
	tx, p := c.call(vm, 3, stockResult(vm, 0, "9"), 0, 1)
	// The caller keeps the co-signatures but changes what is written.
	p.Result.Writes[0].Value = []byte("9999")
	tx.Payload = p.Encode()
	_ = tx.Sign(c.w.Keys[caller])
	if err := c.block(tx)[0]; !errors.Is(err, ledger.ErrEndorsement) {
		t.Fatalf("err = %v, want ErrEndorsement", err)
	}
}

func TestContractCallWhoseReadWentStaleIsRefused(t *testing.T) {
	c := newContractChain(t)
	vm := c.deploy(2)
	first, _ := c.call(vm, 3, stockResult(vm, 0, "9"), 0, 1)
	if err := c.block(first)[0]; err != nil {
		t.Fatal(err)
	}
	// A second call executed against the state before the first: it read
	// stock at version 0, which is no longer current.
	seq, last, _ := c.st.ChainHead(c.w.Stars[caller])
	p := &interfaces.CallPayload{Method: "buy", Input: []byte("cola"), Amount: 3, Height: 1, Result: stockResult(vm, 0, "9")}
	tx := &interfaces.Transaction{Sender: c.w.Stars[caller], Seq: seq + 1, Prev: last, Kind: interfaces.TxCall, Counterparty: vm}
	for _, i := range []int{0, 1} {
		en, _ := interfaces.Endorse(c.w.Keys[c.hosts[i]], p.Call(tx), p.Result)
		p.Endorsements = append(p.Endorsements, en)
	}
	p.Endorsements = interfaces.SortEndorsements(p.Endorsements)
	tx.Payload = p.Encode()
	_ = tx.Sign(c.w.Keys[caller])
	if err := c.block(tx)[0]; !errors.Is(err, ledger.ErrStaleRead) {
		t.Fatalf("err = %v, want ErrStaleRead", err)
	}
	if bal, _ := c.st.Balance(vm); bal != 3 {
		t.Fatalf("contract balance %d, want 3 (the stale call paid nothing)", bal)
	}
}

func TestTwoCallsReadingTheSameVersionInOneBlockOnlyTheFirstApplies(t *testing.T) {
	c := newContractChain(t)
	vm := c.deploy(2)
	a, _ := c.call(vm, 0, stockResult(vm, 0, "9"), 0, 1)
	// The same caller's next transaction, executed against the same state.
	p := &interfaces.CallPayload{Method: "buy", Input: []byte("cola"), Height: c.st.Parent().Height, Result: stockResult(vm, 0, "9")}
	b := &interfaces.Transaction{Sender: c.w.Stars[caller], Seq: a.Seq + 1, Prev: a.ID(), Kind: interfaces.TxCall, Counterparty: vm}
	for _, i := range []int{1, 2} {
		en, _ := interfaces.Endorse(c.w.Keys[c.hosts[i]], p.Call(b), p.Result)
		p.Endorsements = append(p.Endorsements, en)
	}
	p.Endorsements = interfaces.SortEndorsements(p.Endorsements)
	b.Payload = p.Encode()
	_ = b.Sign(c.w.Keys[caller])
	errs := c.block(a, b)
	if errs[0] != nil || !errors.Is(errs[1], ledger.ErrStaleRead) {
		t.Fatalf("errs = %v, want nil then ErrStaleRead", errs)
	}
}

func TestContractWriteOutsideItsNamespaceIsRefused(t *testing.T) {
	c := newContractChain(t)
	vm := c.deploy(2)
	other := interfaces.DevStar("another contract")
	r := stockResult(vm, 0, "9")
	r.Writes = append(r.Writes, interfaces.KV{Key: interfaces.ContractKey(other, []byte("balance/alice")), Value: []byte("1000000")})
	slices.SortFunc(r.Writes, func(a, b interfaces.KV) int { return compareBytes(a.Key, b.Key) })
	// Even with every host's co-signature.
	tx, _ := c.call(vm, 0, r, 0, 1, 2)
	if err := c.block(tx)[0]; !errors.Is(err, ledger.ErrOutsideNamespace) {
		t.Fatalf("err = %v, want ErrOutsideNamespace", err)
	}
}

func TestContractCallOfAnUnknownContractIsRefused(t *testing.T) {
	c := newContractChain(t)
	vm := interfaces.ContractStar(c.w.Stars[deployer], 7)
	tx, _ := c.call(vm, 0, stockResult(vm, 0, "9"), 0, 1)
	if err := c.block(tx)[0]; !errors.Is(err, ledger.ErrUnknownContract) {
		t.Fatalf("err = %v, want ErrUnknownContract", err)
	}
}

func TestDeployWithABundleThatDoesNotMatchItsHashIsRefused(t *testing.T) {
	c := newContractChain(t)
	p := interfaces.DeployPayload{
		Runtime: interfaces.RuntimeGo, CodeHash: interfaces.Sum([]byte("the real bundle")), Bundle: []byte("a tampered bundle"),
		Interface: interfaces.ContractInterface{Methods: []interfaces.MethodSig{{Name: "buy"}}},
		Hosts:     []interfaces.StarID{c.w.Stars[2]}, Threshold: 1,
	}
	tx := c.sign(deployer, interfaces.TxDeploy, interfaces.StarID{}, p.Encode(), 0)
	if err := c.block(tx)[0]; !errors.Is(err, ledger.ErrMalformed) {
		t.Fatalf("err = %v, want ErrMalformed", err)
	}
}

func compareBytes(a, b []byte) int { return slices.Compare(a, b) }

func TestCheckContractRefusesAtSubmissionWhatApplyWouldRefuse(t *testing.T) {
	c := newContractChain(t)
	vm := c.deploy(2)
	tx, _ := c.call(vm, 0, stockResult(vm, 0, "9"), 0)
	if err := c.builder().CheckContract(tx); !errors.Is(err, ledger.ErrEndorsement) {
		t.Fatalf("err = %v, want ErrEndorsement", err)
	}
	tx, _ = c.call(vm, 0, stockResult(vm, 0, "9"), 0, 1)
	if err := c.builder().CheckContract(tx); err != nil {
		t.Fatalf("a valid call: %v", err)
	}
	// Contracts off: nothing to check.
	if err := ledger.NewBuilder(c.st, 0, c.st.Parent()).CheckContract(tx); err != nil {
		t.Fatal(err)
	}
}

// Any star may be named as a call's counterparty; one that is no contract
// (here an account with a chain of its own) is a refused call, never a
// failure of the ledger (which would stop block building).
func TestCallOfAStarThatIsNoContractIsARefusedCall(t *testing.T) {
	c := newContractChain(t)
	c.deploy(2)
	acct := c.w.Stars[deployer] // has a chain head: its deploy
	tx, _ := c.call(acct, 0, stockResult(acct, 0, "9"), 0, 1)
	err := c.block(tx)[0]
	if !errors.Is(err, ledger.ErrUnknownContract) {
		t.Fatalf("err = %v, want ErrUnknownContract", err)
	}
}

func (c *contractChain) deployIface(methods ...interfaces.MethodSig) interfaces.StarID {
	c.t.Helper()
	bundle := []byte(fmt.Sprint("bundle ", methods))
	p := interfaces.DeployPayload{Runtime: interfaces.RuntimeGo, CodeHash: interfaces.Sum(bundle), Bundle: bundle,
		Interface: interfaces.ContractInterface{Methods: methods}.Normalize(), Threshold: 2}
	for _, h := range c.hosts {
		p.Hosts = append(p.Hosts, c.w.Stars[h])
	}
	tx := c.sign(deployer, interfaces.TxDeploy, interfaces.StarID{}, p.Encode(), 0)
	if err := c.block(tx)[0]; err != nil {
		c.t.Fatalf("deploy: %v", err)
	}
	return interfaces.ContractStar(tx.Sender, tx.Seq)
}

func (c *contractChain) compose(legs ...interfaces.CompositeLeg) (interfaces.StarID, error) {
	c.t.Helper()
	tx := c.sign(deployer, interfaces.TxDeploy, interfaces.StarID{}, interfaces.CompositePayload{Name: "escrow", Legs: legs}.Encode(), 0)
	return interfaces.ContractStar(tx.Sender, tx.Seq), c.block(tx)[0]
}

// compositeCall builds the caller's next call of composite comp with the
// legs' results, each endorsed by the first two hosts.
func (c *contractChain) compositeCall(comp interfaces.StarID, legs []interfaces.CompositeLeg, input string, results ...interfaces.CallResult) *interfaces.Transaction {
	c.t.Helper()
	seq, last, _ := c.st.ChainHead(c.w.Stars[caller])
	p := interfaces.CompositeCallPayload{Input: []byte(input), Height: c.st.Parent().Height}
	for _, r := range results {
		p.Legs = append(p.Legs, interfaces.CompositeLegResult{Result: r})
	}
	tx := &interfaces.Transaction{Sender: c.w.Stars[caller], Seq: seq + 1, Prev: last, Kind: interfaces.TxCall, Counterparty: comp}
	for i := range p.Legs {
		for _, h := range c.hosts[:2] {
			en, _ := interfaces.Endorse(c.w.Keys[h], p.LegCall(tx, legs, i), p.Legs[i].Result)
			p.Legs[i].Endorsements = append(p.Legs[i].Endorsements, en)
		}
		p.Legs[i].Endorsements = interfaces.SortEndorsements(p.Legs[i].Endorsements)
	}
	tx.Payload = p.Encode()
	_ = tx.Sign(c.w.Keys[caller])
	return tx
}

func TestIllTypedCompositeIsRefusedNamingBothTypes(t *testing.T) {
	c := newContractChain(t)
	vm := c.deployIface(interfaces.MethodSig{Name: "buy", Input: "string", Output: "string"})
	tok := c.deployIface(interfaces.MethodSig{Name: "mint", Input: "u64", Output: "u64"})
	_, err := c.compose(interfaces.CompositeLeg{Contract: vm, Method: "buy"}, interfaces.CompositeLeg{Contract: tok, Method: "mint"})
	if !errors.Is(err, ledger.ErrIllTyped) || !strings.Contains(err.Error(), `"string"`) || !strings.Contains(err.Error(), `"u64"`) {
		t.Fatalf("err = %v, want ErrIllTyped naming string and u64", err)
	}
}

func TestCompositeCallAppliesAllLegsOrNone(t *testing.T) {
	c := newContractChain(t)
	vm := c.deployIface(interfaces.MethodSig{Name: "stock", Input: "string", Output: "u64"})
	tok := c.deployIface(interfaces.MethodSig{Name: "mint", Input: "u64", Output: "u64"})
	legs := []interfaces.CompositeLeg{{Contract: vm, Method: "stock"}, {Contract: tok, Method: "mint"}}
	comp, err := c.compose(legs...)
	if err != nil {
		t.Fatal(err)
	}
	k1 := interfaces.ContractKey(vm, []byte("asked"))
	k2 := interfaces.ContractKey(tok, []byte("supply"))
	leg1 := interfaces.CallResult{Output: []byte("5"), Writes: []interfaces.KV{{Key: k1, Value: []byte("1")}}, Reads: []interfaces.ReadVersion{{Key: k1}}}
	leg2 := interfaces.CallResult{Output: []byte("5"), Writes: []interfaces.KV{{Key: k2, Value: []byte("5")}}, Reads: []interfaces.ReadVersion{{Key: k2}}}
	if err := c.block(c.compositeCall(comp, legs, "cola", leg1, leg2))[0]; err != nil {
		t.Fatalf("composite call: %v", err)
	}
	if v, _, ok := c.value(vm, "asked"); !ok || v != "1" {
		t.Fatalf("leg 1 not applied: %q", v)
	}
	if v, _, ok := c.value(tok, "supply"); !ok || v != "5" {
		t.Fatalf("leg 2 not applied: %q", v)
	}
	// Again, with leg 2's read now stale: leg 1 (valid on its own) must
	// not apply either.
	leg1b := interfaces.CallResult{Output: []byte("5"), Writes: []interfaces.KV{{Key: k1, Value: []byte("2")}}, Reads: []interfaces.ReadVersion{{Key: k1, Version: c.st.Parent().Height}}}
	err = c.block(c.compositeCall(comp, legs, "cola", leg1b, leg2))[0]
	if !errors.Is(err, ledger.ErrStaleRead) {
		t.Fatalf("err = %v, want ErrStaleRead", err)
	}
	if v, _, _ := c.value(vm, "asked"); v != "1" {
		t.Fatalf("leg 1 of a refused composite call was applied: %q", v)
	}
	// Leg 2 must take leg 1's output: co-signatures over another input fail.
	leg1c := leg1b
	leg1c.Output = []byte("6")
	tx := c.compositeCall(comp, legs, "cola", leg1c, leg2)
	var p interfaces.CompositeCallPayload
	p, _ = interfaces.DecodeCompositeCallPayload(tx.Payload)
	p.Legs[0].Result.Output = []byte("7") // the caller changes what leg 2 was fed
	tx.Payload = p.Encode()
	_ = tx.Sign(c.w.Keys[caller])
	if err := c.block(tx)[0]; !errors.Is(err, ledger.ErrEndorsement) {
		t.Fatalf("err = %v, want ErrEndorsement", err)
	}
}

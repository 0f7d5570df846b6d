package ledger

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/constellation-chain/constellation/interfaces"
)

// Contracts in the ledger: validate, the last step of execute, co-sign,
// order, validate.
//
// With Rules.Contracts set, TxDeploy and TxCall gain effects:
//
//   - A deploy (DeployPayload) records the contract: the chain head of its
//     star, ContractStar(sender, seq), becomes (1, the deploy's id). The
//     contract lives in the cluster whose chain ordered its deploy, its home
//     cluster: only that chain knows it, so only that chain orders its
//     calls.
//   - A call (CallPayload, counterparty the contract) is applied only if,
//     in this order: the contract is known here; the method is in its
//     interface; the call's state height is committed; the endorsements
//     are valid signatures over (call, result) by distinct listed hosts and
//     at least the threshold of them (ErrEndorsement); every write and read
//     is under the contract's namespace (ErrOutsideNamespace); every read
//     version is still current (ErrStaleRead); the caller can pay Amount.
//     Then Amount moves from the caller to the contract's account and each
//     written key's head, ContractKeyStar(key), becomes (this block's
//     height, the call's id): its version is the height that last wrote it
//     and its value is in that call's payload.
//
// A refused call is refused like any invalid transaction: it is not in the
// block and changes nothing; the error says why (the pool gives it to the
// submitter; a call refused in a block is dropped there).
//
// Contract state is thus kept in the ledger's existing state (chain heads,
// committed by the state root) plus the committed calls themselves, which
// Rules.Contracts.LoadTx reads back.

// Errors of contract transactions; each also matches ErrInvalidTx.
var (
	// ErrUnknownContract: the call names a contract this chain never
	// deployed (it may live in another cluster).
	ErrUnknownContract = fmt.Errorf("%w: unknown contract", ErrInvalidTx)
	// ErrEndorsement: too few valid co-signatures from the contract's
	// hosts, or one that does not verify over the call and its result (a
	// tampered result).
	ErrEndorsement = fmt.Errorf("%w: endorsement", ErrInvalidTx)
	// ErrOutsideNamespace: the result writes or reads a key outside the
	// contract's own namespace.
	ErrOutsideNamespace = fmt.Errorf("%w: outside the contract's namespace", ErrInvalidTx)
	// ErrStaleRead: a key the call read has been written since the height
	// it executed against (multi-version concurrency control).
	ErrStaleRead = fmt.Errorf("%w: stale read", ErrInvalidTx)
)

// ContractRules turns on contract semantics (see above). Every honest node
// of a network must agree on whether they are on: it changes which blocks
// are valid.
type ContractRules struct {
	// LoadTx returns a committed transaction by id: the store's (or a test
	// double's). It is only asked for transactions the state names (a
	// contract's deploy).
	LoadTx func(id interfaces.Hash) (*interfaces.Transaction, error)
}

// ContractKeyStar is the pseudo-account whose chain head versions the
// state key key (a full key, ContractKey): Seq is the height of the block
// that last wrote it, Last the id of the call that did.
func ContractKeyStar(key []byte) interfaces.StarID {
	return interfaces.StarID(interfaces.DomainSum("constellation/contract-key/v1", key))
}

func (b *Builder) contractsOn() bool { return b.rules != nil && b.rules.Contracts != nil }

// contractShape decodes a deploy's or a call's payload when contracts are
// on.
func (b *Builder) contractShape(tx *interfaces.Transaction, sh *shape) error {
	if !b.contractsOn() {
		return nil
	}
	switch tx.Kind {
	case interfaces.TxDeploy:
		if !tx.Counterparty.IsZero() {
			return errors.New("deploy names a counterparty")
		}
		if interfaces.IsComposite(tx.Payload) {
			p, err := interfaces.DecodeCompositePayload(tx.Payload)
			if err != nil {
				return err
			}
			sh.composite = &p
			return nil
		}
		p, err := interfaces.DecodeDeployPayload(tx.Payload)
		if err != nil {
			return err
		}
		sh.deploy = &p
	case interfaces.TxCall:
		if len(tx.CounterSig) != 0 {
			return errors.New("call carries a counter-signature; a contract's hosts endorse in the payload")
		}
		if interfaces.IsComposite(tx.Payload) {
			p, err := interfaces.DecodeCompositeCallPayload(tx.Payload)
			if err != nil {
				return err
			}
			sh.compositeCall = &p
			return nil
		}
		p, err := interfaces.DecodeCallPayload(tx.Payload)
		if err != nil {
			return err
		}
		sh.call = &p
	}
	return nil
}

// Deployed returns the deploy of contract c as of the block being built
// (committed state plus this block), and whether there is one.
func (b *Builder) Deployed(c interfaces.StarID) (interfaces.DeployPayload, bool, error) {
	if d, ok := b.deploys[c]; ok {
		return d, true, nil
	}
	seq, last, err := b.ChainHead(c)
	if err != nil || seq == 0 {
		return interfaces.DeployPayload{}, false, err
	}
	if !b.contractsOn() || b.rules.Contracts.LoadTx == nil {
		return interfaces.DeployPayload{}, false, errors.New("no way to load a committed deploy")
	}
	return LoadDeploy(b.rules.Contracts.LoadTx, c, last)
}

// ErrTxNotCommitted is returned (wrapped) by a LoadTx for an id no
// committed transaction has.
var ErrTxNotCommitted = errors.New("transaction not committed")

// LoadDeploy loads and decodes the deploy of contract c, whose id is c's
// chain head. ok is false, with no error, when c is no contract: any star
// may be named as a counterparty, and its head may name something else
// (its own last transaction, a checkpoint, a placement). An error means the
// state could not be read.
func LoadDeploy(load func(interfaces.Hash) (*interfaces.Transaction, error), c interfaces.StarID, id interfaces.Hash) (interfaces.DeployPayload, bool, error) {
	tx, err := load(id)
	if errors.Is(err, ErrTxNotCommitted) {
		return interfaces.DeployPayload{}, false, nil
	}
	if err != nil {
		return interfaces.DeployPayload{}, false, fmt.Errorf("load the deploy of contract %s: %w", c.Short(), err)
	}
	if tx == nil || tx.ID() != id || tx.Kind != interfaces.TxDeploy || interfaces.ContractStar(tx.Sender, tx.Seq) != c || interfaces.IsComposite(tx.Payload) {
		return interfaces.DeployPayload{}, false, nil
	}
	p, err := interfaces.DecodeDeployPayload(tx.Payload)
	if err != nil {
		// The ledger accepted it, so this is not a deploy it made.
		return interfaces.DeployPayload{}, false, nil
	}
	return p, true, nil
}

// applyDeploy records a deploy in fx.
func (b *Builder) applyDeploy(fx *effects, tx *interfaces.Transaction, id interfaces.Hash) error {
	c := interfaces.ContractStar(tx.Sender, tx.Seq)
	h, err := fx.head(c)
	if err != nil {
		return fmt.Errorf("read contract head: %w", err)
	}
	if h.Seq != 0 {
		return fmt.Errorf("%w: contract %s is deployed already", ErrMalformed, c.Short())
	}
	fx.heads[c] = Head{Star: c, Seq: 1, Last: id}
	return nil
}

// applyCall validates a call and records its effects in fx.
func (b *Builder) applyCall(fx *effects, tx *interfaces.Transaction, id interfaces.Hash, p *interfaces.CallPayload) error {
	c := tx.Counterparty
	d, ok, err := b.Deployed(c)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: %s is not deployed in cluster %d (calls are ordered by the contract's home cluster)", ErrUnknownContract, c.Short(), b.cluster)
	}
	return b.applyLeg(fx, tx, id, d, p.Call(tx), p.Result, p.Endorsements)
}

// applyLeg validates one contract's part of a call (all of a plain call,
// one leg of a composite's) and records its effects in fx.
func (b *Builder) applyLeg(fx *effects, tx *interfaces.Transaction, id interfaces.Hash, d interfaces.DeployPayload, call interfaces.Call, res interfaces.CallResult, ens []interfaces.Endorsement) error {
	c := call.Contract
	if _, ok := d.Interface.Method(call.Method); !ok {
		return fmt.Errorf("%w: contract %s has no method %q", ErrMalformed, c.Short(), call.Method)
	}
	if call.Height > b.parent.Height {
		return fmt.Errorf("%w: the call executed against height %d, the last committed block is %d", ErrMalformed, call.Height, b.parent.Height)
	}
	if err := checkEndorsements(d, call, res, ens); err != nil {
		return err
	}
	ns := interfaces.ContractNamespace(c)
	for _, w := range res.Writes {
		if len(w.Key) <= len(ns) || !bytes.HasPrefix(w.Key, ns) {
			return fmt.Errorf("%w: write of key %x, the namespace of contract %s is %x", ErrOutsideNamespace, w.Key, c.Short(), ns)
		}
	}
	for _, r := range res.Reads {
		if len(r.Key) <= len(ns) || !bytes.HasPrefix(r.Key, ns) {
			return fmt.Errorf("%w: read of key %x, the namespace of contract %s is %x", ErrOutsideNamespace, r.Key, c.Short(), ns)
		}
		h, err := fx.head(ContractKeyStar(r.Key))
		if err != nil {
			return fmt.Errorf("read the version of key %x: %w", r.Key, err)
		}
		if h.Seq != r.Version {
			return fmt.Errorf("%w: key %q of contract %s was read at version %d, it is at version %d now", ErrStaleRead, r.Key[len(ns):], c.Short(), r.Version, h.Seq)
		}
	}
	if call.Amount > 0 {
		bal, err := fx.balance(tx.Sender)
		if err != nil {
			return fmt.Errorf("read caller balance: %w", err)
		}
		if bal < call.Amount {
			return fmt.Errorf("%w: the call pays %d, the caller has %d", ErrInsufficientBalance, call.Amount, bal)
		}
		fx.balances[tx.Sender] = bal - call.Amount
		if err := fx.credit(interfaces.Receipt{To: c, Amount: call.Amount, Tx: id}); err != nil {
			return err
		}
	}
	for _, w := range res.Writes {
		ks := ContractKeyStar(w.Key)
		fx.heads[ks] = Head{Star: ks, Seq: b.Height(), Last: id}
	}
	return nil
}

// ErrIllTyped: a composite's legs do not fit (a method missing, or one
// leg's output type is not the next one's input type).
var ErrIllTyped = fmt.Errorf("%w: ill-typed composite", ErrInvalidTx)

// composite returns the composite deployed as star c, and whether there
// is one.
func (b *Builder) compositeOf(c interfaces.StarID) (interfaces.CompositePayload, bool, error) {
	if p, ok := b.composites[c]; ok {
		return p, true, nil
	}
	seq, last, err := b.ChainHead(c)
	if err != nil || seq == 0 {
		return interfaces.CompositePayload{}, false, err
	}
	tx, err := b.rules.Contracts.LoadTx(last)
	if errors.Is(err, ErrTxNotCommitted) {
		return interfaces.CompositePayload{}, false, nil
	}
	if err != nil {
		return interfaces.CompositePayload{}, false, err
	}
	if tx == nil || tx.ID() != last || tx.Kind != interfaces.TxDeploy || interfaces.ContractStar(tx.Sender, tx.Seq) != c || !interfaces.IsComposite(tx.Payload) {
		return interfaces.CompositePayload{}, false, nil
	}
	p, err := interfaces.DecodeCompositePayload(tx.Payload)
	if err != nil {
		return interfaces.CompositePayload{}, false, nil
	}
	return p, true, nil
}

// legDeploys returns the deploys of a composite's legs.
func (b *Builder) legDeploys(p interfaces.CompositePayload) ([]interfaces.DeployPayload, error) {
	out := make([]interfaces.DeployPayload, len(p.Legs))
	for i, l := range p.Legs {
		d, ok, err := b.Deployed(l.Contract)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%w: leg %d: %s is not a contract deployed in cluster %d", ErrUnknownContract, i, l.Contract.Short(), b.cluster)
		}
		out[i] = d
	}
	return out, nil
}

// applyComposite type-checks a composite's deploy and records it.
func (b *Builder) applyComposite(fx *effects, tx *interfaces.Transaction, id interfaces.Hash, p *interfaces.CompositePayload) error {
	ds, err := b.legDeploys(*p)
	if err != nil {
		return err
	}
	ifaces := make([]interfaces.ContractInterface, len(ds))
	for i, d := range ds {
		ifaces[i] = d.Interface
	}
	if err := interfaces.CheckComposition(p.Legs, ifaces); err != nil {
		return fmt.Errorf("%w: %v", ErrIllTyped, err)
	}
	return b.applyDeploy(fx, tx, id)
}

// applyCompositeCall validates every leg of a composite call and records
// all of their effects in fx, or none: fx is committed only when every
// check of the transaction passed.
func (b *Builder) applyCompositeCall(fx *effects, tx *interfaces.Transaction, id interfaces.Hash, p *interfaces.CompositeCallPayload) error {
	comp, ok, err := b.compositeOf(tx.Counterparty)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: %s is no composite deployed in cluster %d", ErrUnknownContract, tx.Counterparty.Short(), b.cluster)
	}
	if len(p.Legs) != len(comp.Legs) {
		return fmt.Errorf("%w: the call has %d legs, the composite %d", ErrMalformed, len(p.Legs), len(comp.Legs))
	}
	ds, err := b.legDeploys(comp)
	if err != nil {
		return err
	}
	for i, l := range p.Legs {
		if err := b.applyLeg(fx, tx, id, ds[i], p.LegCall(tx, comp.Legs, i), l.Result, l.Endorsements); err != nil {
			return fmt.Errorf("leg %d (%s.%s): %w", i, comp.Legs[i].Contract.Short(), comp.Legs[i].Method, err)
		}
	}
	return nil
}

// checkEndorsements checks that at least d.Threshold distinct hosts of d
// signed the call and its result, and that every endorsement given does.
func checkEndorsements(d interfaces.DeployPayload, call interfaces.Call, res interfaces.CallResult, ens []interfaces.Endorsement) error {
	valid := 0
	for _, en := range ens {
		if _, listed := slicesBinarySearchStar(d.Hosts, en.Host); !listed {
			return fmt.Errorf("%w: %s is not a host of contract %s", ErrEndorsement, en.Host.Short(), call.Contract.Short())
		}
		if !en.Verify(call, res) {
			return fmt.Errorf("%w: host %s's co-signature does not cover this call and result (a tampered result?)", ErrEndorsement, en.Host.Short())
		}
		valid++
	}
	if valid < int(d.Threshold) {
		return fmt.Errorf("%w: %d co-signatures, contract %s needs %d of its %d hosts", ErrEndorsement, valid, call.Contract.Short(), d.Threshold, len(d.Hosts))
	}
	return nil
}

func slicesBinarySearchStar(s []interfaces.StarID, x interfaces.StarID) (int, bool) {
	lo, hi := 0, len(s)
	for lo < hi {
		m := (lo + hi) / 2
		switch c := interfaces.CompareStars(s[m], x); {
		case c == 0:
			return m, true
		case c < 0:
			lo = m + 1
		default:
			hi = m
		}
	}
	return lo, false
}

// ContractValue reads contract state through a chain-head lookup and a
// committed-transaction loader: the value of full key key, its version
// (the height that last wrote it; 0 if never) and whether it has a value.
// Hosts execute calls against it.
func ContractValue(head func(interfaces.StarID) (uint64, interfaces.Hash, error), load func(interfaces.Hash) (*interfaces.Transaction, error), key []byte) ([]byte, uint64, bool, error) {
	seq, last, err := head(ContractKeyStar(key))
	if err != nil || seq == 0 {
		return nil, 0, false, err
	}
	tx, err := load(last)
	if err != nil {
		return nil, 0, false, fmt.Errorf("load the call that wrote key %x: %w", key, err)
	}
	if tx == nil || tx.ID() != last || tx.Kind != interfaces.TxCall {
		return nil, 0, false, fmt.Errorf("transaction %s did not write key %x", last.Short(), key)
	}
	for _, w := range CallWrites(tx) {
		if bytes.Equal(w.Key, key) {
			return w.Value, seq, w.Value != nil, nil
		}
	}
	return nil, 0, false, fmt.Errorf("call %s does not write key %x", last.Short(), key)
}

// LoadTxFrom returns a committed-transaction loader over a store's
// transaction index and blocks (store.Store.TxHeight and Block).
func LoadTxFrom(txHeight func(interfaces.Hash) (uint64, bool, error), block func(uint64) (*interfaces.Block, error)) func(interfaces.Hash) (*interfaces.Transaction, error) {
	return func(id interfaces.Hash) (*interfaces.Transaction, error) {
		h, ok, err := txHeight(id)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%w: %s", ErrTxNotCommitted, id.Short())
		}
		b, err := block(h)
		if err != nil {
			return nil, err
		}
		for _, tx := range b.Txs {
			if tx.ID() == id {
				return tx, nil
			}
		}
		return nil, fmt.Errorf("block %d does not hold transaction %s", h, id.Short())
	}
}

// CheckContract runs the contract checks of a deploy or a call against
// the state the builder sees, without the chain-order and signature checks
// and without applying anything, so that a node can refuse a call that
// cannot apply (too few co-signatures, a stale read, a write outside the
// namespace) when it is submitted instead of dropping it from a block. It
// returns nil for other kinds and when contracts are off.
func (b *Builder) CheckContract(tx *interfaces.Transaction) error {
	if !b.contractsOn() || tx == nil || (tx.Kind != interfaces.TxDeploy && tx.Kind != interfaces.TxCall) {
		return nil
	}
	var sh shape
	if err := b.contractShape(tx, &sh); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if tx.Counterparty.IsZero() && tx.Kind == interfaces.TxCall {
		return fmt.Errorf("%w: call names no contract as counterparty", ErrMalformed)
	}
	switch {
	case sh.call != nil:
		return b.applyCall(b.effects(), tx, tx.ID(), sh.call)
	case sh.compositeCall != nil:
		return b.applyCompositeCall(b.effects(), tx, tx.ID(), sh.compositeCall)
	case sh.composite != nil:
		return b.applyComposite(b.effects(), tx, tx.ID(), sh.composite)
	}
	return nil
}

// CallWrites returns the writes a committed call made: its result's, or
// every leg's for a composite's (nil for anything else).
func CallWrites(tx *interfaces.Transaction) []interfaces.KV {
	if tx == nil || tx.Kind != interfaces.TxCall {
		return nil
	}
	if interfaces.IsComposite(tx.Payload) {
		p, err := interfaces.DecodeCompositeCallPayload(tx.Payload)
		if err != nil {
			return nil
		}
		var out []interfaces.KV
		for _, l := range p.Legs {
			out = append(out, l.Result.Writes...)
		}
		return out
	}
	p, err := interfaces.DecodeCallPayload(tx.Payload)
	if err != nil {
		return nil
	}
	return p.Result.Writes
}

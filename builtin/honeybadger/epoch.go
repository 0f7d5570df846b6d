package honeybadger

import (
	"errors"

	"github.com/constellation-chain/constellation/builtin/honeybadger/tcrypto"
	"github.com/constellation-chain/constellation/interfaces"
)

// epoch is one HoneyBadger epoch: the asynchronous common subset (N
// reliable broadcasts and N binary agreements, HoneyBadgerBFT §4.4,
// after Ben-Or, Kelmer and Rabin) followed by threshold decryption of the
// agreed ciphertexts (§4.5). It implements protoEnv for its sub-protocols.
type epoch struct {
	eng  *Engine
	num  uint64
	rbcs []*rbc
	abas []*aba

	rbcSeen []bool // RBC delivery already fed to the agreement
	abaSeen []bool // agreement decision already counted
	ones    int
	abaDone int
	zeroed  bool // N−f agreements output 1: the rest got input 0

	acsDone    bool
	decStarted bool
	included   []bool // ABA_j decided 1
	dropped    []bool // included but undecryptable or ⊥: left out by all honest members
	cts        []*tcrypto.Ciphertext
	decShares  []map[int][]byte // per proposer, keyed by sender
	decBad     []bitset
	plain      [][]byte
	plainDone  []bool
	pending    int

	// ownCT is this member's own ciphertext and ownValue its encoding: if
	// reliable broadcast delivers exactly these bytes, the ciphertext needs
	// no validity check (this member made it).
	ownCT    *tcrypto.Ciphertext
	ownValue []byte

	done     bool
	decision interfaces.Decision
}

func newEpoch(eng *Engine, num uint64) *epoch {
	n := eng.n
	ep := &epoch{
		eng:     eng,
		num:     num,
		rbcs:    make([]*rbc, n),
		abas:    make([]*aba, n),
		rbcSeen: make([]bool, n),
		abaSeen: make([]bool, n),
	}
	for j := range n {
		ep.rbcs[j] = newRBC(ep, eng.hs, eng.cd, num, uint32(j), n, eng.f, eng.self)
		ep.abas[j] = newABA(ep, eng.coin, num, uint32(j), n, eng.f, eng.self)
	}
	return ep
}

func (ep *epoch) broadcast(m *Message)    { ep.eng.broadcast(m) }
func (ep *epoch) send(to int, m *Message) { ep.eng.send(to, m) }
func (ep *epoch) fault(from int, kind interfaces.FaultKind, m *Message) {
	ep.eng.fault(from, kind, ep.num, m)
}
func (ep *epoch) equivocation(from int, first, second *Message) {
	ep.eng.equivocation(from, ep.num, first, second)
}

// propose starts this member's reliable broadcast of value (already
// encrypted when encryption is on).
func (ep *epoch) propose(value []byte) error {
	if ep.done {
		return nil // the subset was agreed without this member; nothing to add
	}
	if err := ep.rbcs[ep.eng.self].propose(value); err != nil {
		return err
	}
	ep.afterRBC(ep.eng.self)
	return nil
}

// handle routes one message of this epoch from member from.
func (ep *epoch) handle(from int, m *Message) {
	if ep.done {
		return
	}
	if m.Type != MsgDec && int(m.Instance) >= ep.eng.n {
		ep.fault(from, interfaces.FaultMalformed, m)
		return
	}
	switch m.Type {
	case MsgVal, MsgEcho, MsgReady:
		ep.rbcs[m.Instance].handle(from, m)
		ep.afterRBC(int(m.Instance))
	case MsgBval, MsgAux, MsgConf, MsgCoin, MsgTerm:
		ep.abas[m.Instance].handle(from, m)
		ep.afterABA(int(m.Instance))
	case MsgDec:
		ep.handleDec(from, m)
	}
}

func (ep *epoch) afterRBC(j int) {
	if ep.rbcSeen[j] || !ep.rbcs[j].delivered {
		return
	}
	ep.rbcSeen[j] = true
	ep.abas[j].input(1)
	ep.afterABA(j)
	ep.maybeACS()
}

func (ep *epoch) afterABA(j int) {
	a := ep.abas[j]
	if ep.abaSeen[j] || !a.decided {
		return
	}
	ep.abaSeen[j] = true
	ep.abaDone++
	if a.decision == 1 {
		ep.ones++
		if ep.ones >= ep.eng.n-ep.eng.f && !ep.zeroed {
			ep.zeroed = true
			for k, b := range ep.abas {
				if !b.hasInput && !b.decided {
					b.input(0)
					ep.afterABA(k)
				}
			}
		}
	}
	ep.maybeACS()
}

// maybeACS completes the common subset once every agreement has decided
// and every broadcast agreed on has delivered (totality guarantees it
// will).
func (ep *epoch) maybeACS() {
	if ep.acsDone || ep.abaDone < ep.eng.n {
		return
	}
	for j, a := range ep.abas {
		if a.decision == 1 && !ep.rbcs[j].delivered {
			return
		}
	}
	ep.acsDone = true
	n := ep.eng.n
	ep.included = make([]bool, n)
	ep.dropped = make([]bool, n)
	ep.plain = make([][]byte, n)
	ep.plainDone = make([]bool, n)
	for j, a := range ep.abas {
		if a.decision != 1 {
			continue
		}
		ep.included[j] = true
		if !ep.rbcs[j].valid {
			ep.drop(j, dropNotCodeword)
			continue
		}
		if ep.eng.cs == nil {
			ep.plain[j] = ep.rbcs[j].value
			ep.plainDone[j] = true
		}
	}
	if ep.eng.cs == nil {
		ep.finish()
		return
	}
	ep.startDecryption()
}

// Reasons a proposal is dropped, recorded in the fault's evidence.
const (
	dropNotCodeword = 1 // RBC delivered ⊥: the shards were not a codeword
	dropBadCipher   = 2 // the ciphertext does not decode or fails its validity check
	dropBadPayload  = 3 // valid shares, but the payload does not open
)

// drop leaves proposer j's contribution out. Every honest member reaches
// the same verdict from the same delivered bytes, so the decision stays
// identical everywhere; the proposer is reported with FaultInvalidBlock.
// The evidence is: version u8, reason u8, epoch u64, proposer u32, the
// delivered Merkle root [32]; anyone holding the broadcast's shards can
// check it.
func (ep *epoch) drop(j int, reason uint8) {
	ep.dropped[j] = true
	ep.plainDone[j] = true
	if j == ep.eng.self {
		return
	}
	e := interfaces.NewEncoder(48)
	e.U8(WireVersion)
	e.U8(reason)
	e.U64(ep.num)
	e.U32(uint32(j))
	root := ep.rbcs[j].root
	e.Fixed(root[:])
	ep.eng.faultRaw(j, interfaces.FaultInvalidBlock, ep.num, e.Bytes())
}

func (ep *epoch) startDecryption() {
	n := ep.eng.n
	cs := ep.eng.cs
	ep.decStarted = true
	ep.cts = make([]*tcrypto.Ciphertext, n)
	if ep.decShares == nil {
		ep.decShares = make([]map[int][]byte, n)
		ep.decBad = make([]bitset, n)
	}
	var entries []DecEntry
	for j := range n {
		if !ep.included[j] || ep.dropped[j] {
			continue
		}
		var ct *tcrypto.Ciphertext
		ok := false
		if j == ep.eng.self && ep.ownCT != nil && string(ep.ownValue) == string(ep.rbcs[j].value) {
			ct, ok = ep.ownCT, true
		} else {
			ct, ok = cs.open(ep.rbcs[j].value)
		}
		if !ok {
			ep.drop(j, dropBadCipher)
			continue
		}
		ep.cts[j] = ct
		sh, err := cs.decShare(ct)
		if err != nil {
			// open already checked the ciphertext; a failure here is a
			// local fault and leaves the share to the others.
			ep.pending++
			continue
		}
		ep.pending++
		entries = append(entries, DecEntry{Proposer: uint32(j), Share: sh})
		ep.putShare(j, ep.eng.self, sh)
	}
	if len(entries) > 0 {
		ep.broadcast(&Message{Type: MsgDec, Epoch: ep.num, Dec: entries})
	}
	for j := range n {
		if ep.cts[j] != nil {
			ep.tryDecrypt(j)
		}
	}
	if ep.pending == 0 {
		ep.finish()
	}
}

func (ep *epoch) putShare(j, from int, sh []byte) {
	if ep.decShares[j] == nil {
		ep.decShares[j] = make(map[int][]byte, ep.eng.f+1)
	}
	ep.decShares[j][from] = sh
}

func (ep *epoch) handleDec(from int, m *Message) {
	if ep.eng.cs == nil {
		ep.fault(from, interfaces.FaultMalformed, m)
		return
	}
	n := ep.eng.n
	if ep.decShares == nil {
		ep.decShares = make([]map[int][]byte, n)
		ep.decBad = make([]bitset, n)
	}
	for _, d := range m.Dec {
		j := int(d.Proposer)
		if j >= n {
			ep.fault(from, interfaces.FaultMalformed, m)
			return
		}
		if ep.acsDone && (!ep.included[j] || ep.plainDone[j]) {
			continue
		}
		if ep.decBad[j].has(from) {
			continue
		}
		if old, ok := ep.decShares[j][from]; ok {
			if string(old) != string(d.Share) {
				ep.fault(from, interfaces.FaultEquivocation, m)
			}
			continue
		}
		ep.putShare(j, from, d.Share)
		if ep.decStarted && ep.cts[j] != nil {
			ep.tryDecrypt(j)
		}
	}
	if ep.decStarted && ep.pending == 0 {
		ep.finish()
	}
}

// tryDecrypt decrypts proposer j's ciphertext once f+1 shares combine.
// Shares are combined first and checked one by one only if that fails
// (tcrypto.Decrypt); bad ones are reported and dropped, and combining is
// retried while enough remain.
func (ep *epoch) tryDecrypt(j int) {
	if ep.plainDone[j] {
		return
	}
	shares := ep.decShares[j]
	for len(shares) >= ep.eng.f+1 {
		pt, bad, err := ep.eng.cs.decrypt(ep.cts[j], lowestShares(shares, ep.eng.f+1))
		if err == nil {
			ep.plain[j] = pt
			ep.plainDone[j] = true
			ep.pending--
			ep.decShares[j] = nil
			return
		}
		if errors.Is(err, errBadPayload) {
			ep.drop(j, dropBadPayload)
			ep.pending--
			ep.decShares[j] = nil
			return
		}
		removed := false
		for _, k := range bad {
			sh, ok := shares[k]
			if !ok {
				continue
			}
			removed = true
			delete(shares, k)
			ep.decBad[j].set(k)
			if k != ep.eng.self {
				ep.fault(k, interfaces.FaultInvalidShare, &Message{Type: MsgDec, Epoch: ep.num, Dec: []DecEntry{{Proposer: uint32(j), Share: sh}}})
			}
		}
		if !removed {
			return
		}
	}
}

// finish builds the epoch's decision: the included, decryptable
// contributions in proposer index order.
func (ep *epoch) finish() {
	if ep.done {
		return
	}
	ep.done = true
	d := interfaces.Decision{Epoch: ep.num}
	for j := range ep.eng.n {
		if ep.included[j] && !ep.dropped[j] {
			data := ep.plain[j]
			if data == nil {
				data = []byte{}
			}
			d.Contributions = append(d.Contributions, interfaces.ContributionFrom{Proposer: ep.eng.cfg.Members[j], Data: data})
		}
	}
	ep.decision = d
	// Free the sub-protocols; late messages for a finished epoch are ignored.
	ep.rbcs, ep.abas, ep.decShares, ep.cts, ep.plain = nil, nil, nil, nil, nil
	ep.ownCT, ep.ownValue = nil, nil
}

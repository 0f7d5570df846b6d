package honeybadger

import "github.com/constellation-chain/constellation/interfaces"

// Asynchronous binary agreement: the signature-free protocol of Mostéfaoui,
// Moumen and Raynal ("Signature-free asynchronous Byzantine consensus with
// t < n/3 and O(n²) messages", PODC 2014) as HoneyBadgerBFT uses it, with
// two additions from the hbbft implementation:
//
//   - CONF: after the AUX step each member broadcasts its bin_values and
//     waits for N−f CONF sets inside its own bin_values before it releases
//     its coin share. This closes the liveness gap found by Tyler Crain in
//     MMR, where the adversary, seeing the coin, could steer which AUX
//     values an honest member collects.
//   - TERM: a member that decides broadcasts TERM(b) and stops. TERM(b)
//     counts as the sender's BVAL(b), AUX(b) and CONF({b}) in every later
//     round, so the stopped member still helps the others reach quorums;
//     f+1 TERM(b) prove that an honest member decided b, so receiving them
//     decides b at once.
//
// # Fixed coin schedule
//
// The coin of round 0 is 1 and of round 1 is 0; later rounds use the
// threshold coin. This is sound because MMR's safety (agreement, validity)
// holds for any coin values: the coin only decides when a round can end
// and what a member with vals = {0,1} adopts. Unpredictability is needed
// only for termination, and it is still guaranteed from round 2 on, where
// every round ends with probability at least 1/2 regardless of the
// adversary. The schedule makes the common cases free of pairings: when
// every honest member inputs 1 (a proposer whose broadcast arrived) agreement
// ends in round 0, and when every honest member inputs 0 (a silent proposer)
// it ends in round 1. In rounds with a known coin the CONF step is skipped:
// it protects an unknown coin only.

// roundWindow bounds how far ahead of its current round an agreement
// stores messages. A member far ahead has decided or will, and its TERM
// brings laggards along, so dropping messages beyond the window costs
// nothing but bounds memory against hostile round numbers.
const roundWindow = 64

// abaRound is the state of one MMR round.
type abaRound struct {
	bval     [2]bitset // senders of BVAL(b)
	sentBval [2]bool
	bin      uint8 // bin_values as set0|set1
	aux      [2]bitset
	sentAux  bool
	auxDone  bool
	vals     uint8
	confOf   []uint8 // per sender: the CONF set received, 0 for none
	confCnt  [4]int  // number of senders per CONF set
	sentConf bool
	confDone bool
	sentCoin bool
	shares   map[int][]byte
	badShare bitset
}

// aba is one binary agreement instance. It is driven by input and handle,
// both of which run the round to a fixpoint; the owner reads decided and
// decision afterwards.
type aba struct {
	env   protoEnv
	coin  coinSource
	epoch uint64
	inst  uint32
	n, f  int
	self  int

	hasInput bool
	est      uint8
	round    uint32
	decided  bool
	decision uint8
	terms    [2]bitset
	rounds   map[uint32]*abaRound
}

func newABA(env protoEnv, coin coinSource, epoch uint64, inst uint32, n, f, self int) *aba {
	return &aba{env: env, coin: coin, epoch: epoch, inst: inst, n: n, f: f, self: self}
}

func (a *aba) getRound(r uint32) *abaRound {
	if rs, ok := a.rounds[r]; ok {
		return rs
	}
	if a.rounds == nil {
		a.rounds = make(map[uint32]*abaRound, 2)
	}
	rs := &abaRound{}
	a.rounds[r] = rs
	for v := range 2 {
		if a.terms[v].count() == 0 {
			continue
		}
		for j := 0; j < a.n; j++ {
			if a.terms[v].has(j) {
				a.inject(rs, j, uint8(v))
			}
		}
	}
	return rs
}

// inject counts TERM(v) from j as j's BVAL, AUX and CONF of round rs.
func (a *aba) inject(rs *abaRound, j int, v uint8) {
	rs.bval[v].set(j)
	if !rs.aux[1-v].has(j) {
		rs.aux[v].set(j)
	}
	a.setConf(rs, j, set0<<v)
}

func (a *aba) setConf(rs *abaRound, j int, s uint8) bool {
	if rs.confOf == nil {
		rs.confOf = make([]uint8, a.n)
	}
	if rs.confOf[j] != 0 {
		return false
	}
	rs.confOf[j] = s
	rs.confCnt[s]++
	return true
}

// input gives this member's estimate. Later inputs are ignored.
func (a *aba) input(v uint8) {
	if a.hasInput || a.decided {
		return
	}
	a.hasInput = true
	a.est = v
	a.progress()
}

func (a *aba) msg(t MsgType, r uint32, v uint8) *Message {
	return &Message{Type: t, Epoch: a.epoch, Instance: a.inst, Round: r, Value: v}
}

// handle processes one ABA message (BVAL, AUX, CONF, COIN or TERM) from
// member from.
func (a *aba) handle(from int, m *Message) {
	if a.decided {
		return
	}
	if m.Type == MsgTerm {
		a.handleTerm(from, m)
		return
	}
	if m.Round < a.round || m.Round >= a.round+roundWindow {
		return
	}
	rs := a.getRound(m.Round)
	switch m.Type {
	case MsgBval:
		if !rs.bval[m.Value].set(from) {
			return
		}
	case MsgAux:
		if rs.aux[1-m.Value].has(from) && !a.terms[1-m.Value].has(from) {
			a.env.equivocation(from, a.msg(MsgAux, m.Round, 1-m.Value), m)
			return
		}
		if !rs.aux[m.Value].set(from) {
			return
		}
	case MsgConf:
		if rs.confOf != nil && rs.confOf[from] != 0 {
			if rs.confOf[from] != m.Value && !a.terms[0].has(from) && !a.terms[1].has(from) {
				a.env.equivocation(from, a.msg(MsgConf, m.Round, rs.confOf[from]), m)
			}
			return
		}
		a.setConf(rs, from, m.Value)
	case MsgCoin:
		if _, ok := a.coin.fixed(a.epoch, a.inst, m.Round); ok {
			a.env.fault(from, interfaces.FaultMalformed, m)
			return
		}
		if rs.badShare.has(from) {
			return
		}
		if old, ok := rs.shares[from]; ok {
			if string(old) != string(m.Payload) {
				first := a.msg(MsgCoin, m.Round, 0)
				first.Payload = old
				a.env.equivocation(from, first, m)
			}
			return
		}
		if rs.shares == nil {
			rs.shares = make(map[int][]byte, a.f+1)
		}
		rs.shares[from] = m.Payload
	default:
		return
	}
	if m.Round == a.round {
		a.progress()
	}
}

func (a *aba) handleTerm(from int, m *Message) {
	v := m.Value
	if a.terms[1-v].has(from) {
		a.env.equivocation(from, a.msg(MsgTerm, 0, 1-v), m)
		return
	}
	if !a.terms[v].set(from) {
		return
	}
	if a.terms[v].count() >= a.f+1 {
		a.decide(v)
		return
	}
	for r, rs := range a.rounds { // order-independent: inject is commutative
		if r >= a.round {
			a.inject(rs, from, v)
		}
	}
	a.progress()
}

func (a *aba) decide(v uint8) {
	if a.decided {
		return
	}
	a.decided = true
	a.decision = v
	a.rounds = nil
	a.env.broadcast(&Message{Type: MsgTerm, Epoch: a.epoch, Instance: a.inst, Value: v})
	a.terms[v].set(a.self)
}

// progress runs the current round as far as the messages received allow,
// moving to later rounds as they complete.
func (a *aba) progress() {
	for a.hasInput && !a.decided {
		rs := a.getRound(a.round)
		if !rs.sentBval[a.est] {
			a.sendBval(rs, a.est)
		}
		for v := uint8(0); v < 2; v++ {
			if rs.bval[v].count() >= a.f+1 && !rs.sentBval[v] {
				a.sendBval(rs, v)
			}
			if rs.bval[v].count() >= 2*a.f+1 && rs.bin&(set0<<v) == 0 {
				rs.bin |= set0 << v
				if !rs.sentAux {
					rs.sentAux = true
					a.env.broadcast(a.msg(MsgAux, a.round, v))
					rs.aux[v].set(a.self)
				}
			}
		}
		if !rs.auxDone {
			if !a.auxQuorum(rs) {
				return
			}
		}
		if bit, ok := a.coin.fixed(a.epoch, a.inst, a.round); ok {
			a.endRound(rs.vals, bit)
			continue
		}
		if !rs.confDone {
			if !rs.sentConf {
				rs.sentConf = true
				a.env.broadcast(a.msg(MsgConf, a.round, rs.bin))
				a.setConf(rs, a.self, rs.bin)
			}
			cnt, vals := 0, uint8(0)
			for s := uint8(1); s <= set0|set1; s++ {
				if s&^rs.bin == 0 && rs.confCnt[s] > 0 {
					cnt += rs.confCnt[s]
					vals |= s
				}
			}
			if cnt < a.n-a.f {
				return
			}
			rs.confDone = true
			rs.vals = vals
		}
		if !rs.sentCoin {
			rs.sentCoin = true
			sh, err := a.coin.share(a.epoch, a.inst, a.round)
			if err == nil {
				m := a.msg(MsgCoin, a.round, 0)
				m.Payload = sh
				a.env.broadcast(m)
				if rs.shares == nil {
					rs.shares = make(map[int][]byte, a.f+1)
				}
				rs.shares[a.self] = sh
			}
		}
		bit, ok := a.combineCoin(rs)
		if !ok {
			return
		}
		a.endRound(rs.vals, bit)
	}
}

func (a *aba) sendBval(rs *abaRound, v uint8) {
	rs.sentBval[v] = true
	a.env.broadcast(a.msg(MsgBval, a.round, v))
	rs.bval[v].set(a.self)
}

// auxQuorum checks for N−f AUX senders whose values lie in bin_values and
// fixes vals; it prefers a single value when one alone has a quorum.
func (a *aba) auxQuorum(rs *abaRound) bool {
	q := a.n - a.f
	switch rs.bin {
	case 0:
		return false
	case set0, set1:
		v := rs.bin >> 1
		if rs.aux[v].count() < q {
			return false
		}
		rs.vals = rs.bin
	default:
		switch {
		case rs.aux[1].count() >= q:
			rs.vals = set1
		case rs.aux[0].count() >= q:
			rs.vals = set0
		case unionCount(&rs.aux[0], &rs.aux[1]) >= q:
			rs.vals = set0 | set1
		default:
			return false
		}
	}
	rs.auxDone = true
	return true
}

// endRound applies MMR's decision rule with coin s and moves to the next
// round.
func (a *aba) endRound(vals, s uint8) {
	if vals == set0 || vals == set1 {
		v := vals >> 1
		a.est = v
		if v == s {
			a.decide(v)
			return
		}
	} else {
		a.est = s
	}
	delete(a.rounds, a.round)
	a.round++
}

// combineCoin tries to form the round's coin from the shares received. Bad
// shares are reported, dropped and their senders ignored for the round;
// combining is retried while enough shares remain.
func (a *aba) combineCoin(rs *abaRound) (uint8, bool) {
	for len(rs.shares) >= a.f+1 {
		bit, bad, err := a.coin.combine(a.epoch, a.inst, a.round, lowestShares(rs.shares, a.f+1))
		if err == nil {
			return bit, true
		}
		removed := false
		for _, j := range bad {
			sh, ok := rs.shares[j]
			if !ok {
				continue
			}
			removed = true
			delete(rs.shares, j)
			rs.badShare.set(j)
			if j != a.self {
				ev := a.msg(MsgCoin, a.round, 0)
				ev.Payload = sh
				a.env.fault(j, interfaces.FaultInvalidShare, ev)
			}
		}
		if !removed {
			return 0, false
		}
	}
	return 0, false
}

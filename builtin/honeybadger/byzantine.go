package honeybadger

import (
	"math/rand/v2"

	"github.com/constellation-chain/constellation/interfaces"
)

// Byzantine behaviours that know this engine's wire format, for the
// simulator's hook and for this package's tests. A Mutator sits between a
// Byzantine member's engine and the network: it is called once per
// recipient with the payload the honest engine would have sent there and
// returns the payloads to send instead (nil drops the message; several
// payloads send several). Payloads it does not recognise pass unchanged.
// Mutators keep state and are not safe for concurrent use; build one per
// Byzantine member.
type Mutator func(to interfaces.StarID, payload []byte) [][]byte

// Chain applies mutators in order: each one's outputs feed the next.
func Chain(ms ...Mutator) Mutator {
	return func(to interfaces.StarID, payload []byte) [][]byte {
		cur := [][]byte{payload}
		for _, m := range ms {
			var next [][]byte
			for _, p := range cur {
				next = append(next, m(to, p)...)
			}
			cur = next
		}
		return cur
	}
}

func one(b []byte) [][]byte { return [][]byte{b} }

// InvalidCoinShares replaces every coin share with an invalid one: the
// share the member sent for the previous coin (a valid curve point on the
// wrong message, caught by the pairing check) or, for the first, bytes that
// do not decode. Honest members report FaultInvalidShare and still get the
// coin from the other shares.
func InvalidCoinShares() Mutator {
	var prev []byte
	return func(_ interfaces.StarID, payload []byte) [][]byte {
		m, err := DecodeMessage(payload)
		if err != nil || m.Type != MsgCoin {
			return one(payload)
		}
		orig := m.Payload
		if prev != nil && string(prev) != string(orig) {
			m.Payload = prev
		} else {
			m.Payload = corrupt(orig)
		}
		prev = orig
		return one(m.Encode())
	}
}

// InvalidDecryptionShares replaces every decryption share with an invalid
// one: shares are rotated between the message's entries (valid points for
// the wrong ciphertext), and a lone share is corrupted.
func InvalidDecryptionShares() Mutator {
	return func(_ interfaces.StarID, payload []byte) [][]byte {
		m, err := DecodeMessage(payload)
		if err != nil || m.Type != MsgDec || len(m.Dec) == 0 {
			return one(payload)
		}
		if len(m.Dec) == 1 {
			m.Dec[0].Share = corrupt(m.Dec[0].Share)
		} else {
			first := m.Dec[0].Share
			for i := 0; i+1 < len(m.Dec); i++ {
				m.Dec[i].Share = m.Dec[i+1].Share
			}
			m.Dec[len(m.Dec)-1].Share = first
		}
		return one(m.Encode())
	}
}

// RBCEquivocation makes the member equivocate as a proposer: members whose
// index in the sorted member list is odd receive VAL messages for a second,
// different value of the same size (its own shards, branches and root),
// while the others receive the honest VAL. Honest members then see two
// roots; at most one can reach a quorum, and those holding VAL for one root
// and f+1 ECHOs for the other report FaultEquivocation.
func RBCEquivocation(members []interfaces.StarID, faulty int, seed uint64) Mutator {
	n := len(members)
	f := faulty
	if f <= 0 {
		f = (n - 1) / 3
	}
	index := make(map[interfaces.StarID]int, n)
	for i, m := range members {
		index[m] = i
	}
	type key struct {
		epoch uint64
		inst  uint32
	}
	alt := map[key]*Message{} // per broadcast: a template with the second root
	altShards := map[key][][]byte{}
	altBranches := map[key][][]interfaces.Hash{}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	hs := newHasher()
	cd, err := newCoder(n, f)
	return func(to interfaces.StarID, payload []byte) [][]byte {
		if err != nil {
			return one(payload)
		}
		j, ok := index[to]
		if !ok || j%2 == 0 {
			return one(payload)
		}
		m, derr := DecodeMessage(payload)
		if derr != nil || m.Type != MsgVal {
			return one(payload)
		}
		k := key{m.Epoch, m.Instance}
		if alt[k] == nil {
			size := len(m.Payload) * (n - 2*f)
			value := make([]byte, max(size-4, 1))
			for i := range value {
				value[i] = byte(rng.Uint32())
			}
			shards, serr := cd.split(value)
			if serr != nil {
				return one(payload)
			}
			root, branches := hs.merkleTree(shards)
			alt[k] = &Message{Type: MsgVal, Epoch: m.Epoch, Instance: m.Instance, Root: root}
			altShards[k] = shards
			altBranches[k] = branches
		}
		out := *alt[k]
		out.Branch = altBranches[k][j]
		out.Payload = altShards[k][j]
		return one(out.Encode())
	}
}

// CorruptShards flips a byte in every ECHO shard the member sends, so its
// Merkle branch no longer verifies: honest members report
// FaultInvalidMerkle and ignore the ECHO.
func CorruptShards() Mutator {
	return func(_ interfaces.StarID, payload []byte) [][]byte {
		m, err := DecodeMessage(payload)
		if err != nil || m.Type != MsgEcho || len(m.Payload) == 0 {
			return one(payload)
		}
		m.Payload = corrupt(m.Payload)
		return one(m.Encode())
	}
}

// ReplayOld sends, next to each message, a copy of a message the member
// sent lag epochs earlier (if it kept one), to exercise the handling of
// closed epochs. It remembers one message per epoch.
func ReplayOld(lag uint64) Mutator {
	kept := map[uint64][]byte{}
	return func(_ interfaces.StarID, payload []byte) [][]byte {
		m, err := DecodeMessage(payload)
		if err != nil {
			return one(payload)
		}
		if _, ok := kept[m.Epoch]; !ok {
			kept[m.Epoch] = payload
		}
		out := [][]byte{payload}
		if m.Epoch >= lag {
			if old, ok := kept[m.Epoch-lag]; ok {
				out = append(out, old)
			}
		}
		return out
	}
}

// DoubleVotes follows every READY and AUX the member sends with a second,
// conflicting one (another root, the other value): two signed messages for
// one slot, which any third party can check. Honest members report
// FaultEquivocation and keep the first.
func DoubleVotes() Mutator {
	return func(_ interfaces.StarID, payload []byte) [][]byte {
		m, err := DecodeMessage(payload)
		if err != nil {
			return one(payload)
		}
		switch m.Type {
		case MsgReady:
			m.Root[0] ^= 0xff
		case MsgAux:
			m.Value ^= 1
		default:
			return one(payload)
		}
		return [][]byte{payload, m.Encode()}
	}
}

// Garbage replaces every message with bytes that do not decode; honest
// members report FaultMalformed.
func Garbage() Mutator {
	return func(_ interfaces.StarID, payload []byte) [][]byte {
		b := append([]byte{WireVersion + 1}, payload...)
		return one(b)
	}
}

// SomeGarbage sends, after every k-th message, an extra one that does not
// decode, and passes every message through: the member keeps taking part
// while committing a provable FaultMalformed now and then.
func SomeGarbage(k int) Mutator {
	count := 0
	return func(_ interfaces.StarID, payload []byte) [][]byte {
		count++
		if count%k != 0 {
			return one(payload)
		}
		return [][]byte{payload, {0xff, 0xff}}
	}
}

func corrupt(b []byte) []byte {
	out := append([]byte(nil), b...)
	if len(out) == 0 {
		return []byte{0xff}
	}
	out[len(out)-1] ^= 0x5a
	out[len(out)/2] ^= 0xa5
	return out
}

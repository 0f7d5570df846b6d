package honeybadger

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/constellation-chain/constellation/builtin/honeybadger/tcrypto"
	"github.com/constellation-chain/constellation/interfaces"
)

// coinName is the message the cluster threshold-signs to flip the coin of
// one agreement round: (epoch, instance, round) under a domain tag.
func coinName(epoch uint64, inst, r uint32) []byte {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], epoch)
	binary.BigEndian.PutUint32(b[8:12], inst)
	binary.BigEndian.PutUint32(b[12:], r)
	h := interfaces.DomainSum("constellation/honeybadger/coin/v1", b[:])
	return h[:]
}

// scheduledCoin returns the fixed coin of rounds 0 (1) and 1 (0); see the
// soundness argument in aba.go.
func scheduledCoin(r uint32) (uint8, bool) {
	switch r {
	case 0:
		return 1, true
	case 1:
		return 0, true
	}
	return 0, false
}

// thresholdCoin is the common coin of HoneyBadgerBFT: the hash of the
// cluster's threshold BLS signature on the coin's name, formed from f+1
// shares. Shares are combined first and verified one by one only when the
// combined signature fails (tcrypto.CombineSigShares), so the common case
// costs one pairing check per coin rather than one per share.
type thresholdCoin struct {
	pks      *tcrypto.PublicKeySet
	sk       *tcrypto.SecretShare
	schedule bool
}

func (c *thresholdCoin) fixed(_ uint64, _, r uint32) (uint8, bool) {
	if c.schedule {
		return scheduledCoin(r)
	}
	return 0, false
}

func (c *thresholdCoin) share(epoch uint64, inst, r uint32) ([]byte, error) {
	sh := c.sk.SignShare(coinName(epoch, inst, r))
	b, err := sh.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("encode coin share: %w", err)
	}
	return b, nil
}

func (c *thresholdCoin) combine(epoch uint64, inst, r uint32, shares map[int][]byte) (uint8, []int, error) {
	dec := make(map[int]tcrypto.SigShare, len(shares))
	var bad []int
	for j, b := range shares {
		var sh tcrypto.SigShare
		if err := sh.UnmarshalBinary(b); err != nil {
			bad = append(bad, j)
			continue
		}
		dec[j] = sh
	}
	if len(bad) > 0 {
		sort.Ints(bad)
		return 0, bad, fmt.Errorf("decode coin shares: %w", tcrypto.ErrInvalidShares)
	}
	sig, bad, err := c.pks.CombineSigShares(coinName(epoch, inst, r), dec)
	if err != nil {
		return 0, bad, fmt.Errorf("combine coin shares: %w", err)
	}
	h := sig.Hash()
	return h[0] & 1, nil, nil
}

// hashCoin is the benchmark-only deterministic coin (mode A, "fake coin"):
// a hash of the coin's name that every member, and the adversary, can
// compute in advance. Agreement and validity still hold, but an adversary
// controlling the schedule can keep agreement from terminating, so it must
// never be used outside benchmarks.
type hashCoin struct{}

func (hashCoin) fixed(epoch uint64, inst, r uint32) (uint8, bool) {
	if b, ok := scheduledCoin(r); ok {
		return b, true
	}
	return coinName(epoch, inst, r)[0] & 1, true
}

func (hashCoin) share(uint64, uint32, uint32) ([]byte, error) {
	return nil, errors.New("the deterministic coin has no shares")
}

func (hashCoin) combine(uint64, uint32, uint32, map[int][]byte) (uint8, []int, error) {
	return 0, nil, errors.New("the deterministic coin has no shares")
}

// cipherSuite is the threshold encryption of contributions.
type cipherSuite struct {
	pks *tcrypto.PublicKeySet
	sk  *tcrypto.SecretShare
}

// encrypt returns the ciphertext of pt and its canonical encoding.
func (cs *cipherSuite) encrypt(rnd io.Reader, pt []byte) (*tcrypto.Ciphertext, []byte, error) {
	c, err := cs.pks.Encrypt(rnd, pt)
	if err != nil {
		return nil, nil, fmt.Errorf("encrypt contribution: %w", err)
	}
	b, err := c.MarshalBinary()
	if err != nil {
		return nil, nil, fmt.Errorf("encode ciphertext: %w", err)
	}
	return c, b, nil
}

// open parses and checks a delivered ciphertext. A false result is the same
// on every honest member (the bytes came out of reliable broadcast and the
// check is deterministic), so the proposal is dropped by all.
func (cs *cipherSuite) open(b []byte) (*tcrypto.Ciphertext, bool) {
	c := &tcrypto.Ciphertext{}
	if err := c.UnmarshalBinary(b); err != nil {
		return nil, false
	}
	if !cs.pks.VerifyCiphertext(c) {
		return nil, false
	}
	return c, true
}

func (cs *cipherSuite) decShare(c *tcrypto.Ciphertext) ([]byte, error) {
	ds, err := cs.sk.DecryptShare(c)
	if err != nil {
		return nil, fmt.Errorf("make decryption share: %w", err)
	}
	b, err := ds.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("encode decryption share: %w", err)
	}
	return b, nil
}

// errBadPayload says the ciphertext was well formed and every share valid,
// but the payload does not open: the proposer is at fault and every honest
// member reaches the same verdict.
var errBadPayload = errors.New("ciphertext payload does not open")

// decrypt combines at least f+1 encoded shares. bad names members whose
// shares were invalid (or undecodable); errBadPayload means the proposer
// encrypted garbage.
func (cs *cipherSuite) decrypt(c *tcrypto.Ciphertext, shares map[int][]byte) ([]byte, []int, error) {
	dec := make(map[int]tcrypto.DecShare, len(shares))
	var bad []int
	for j, b := range shares {
		var ds tcrypto.DecShare
		if err := ds.UnmarshalBinary(b); err != nil {
			bad = append(bad, j)
			continue
		}
		dec[j] = ds
	}
	if len(bad) > 0 {
		sort.Ints(bad)
		return nil, bad, fmt.Errorf("decode decryption shares: %w", tcrypto.ErrInvalidShares)
	}
	pt, bad, err := cs.pks.Decrypt(c, dec)
	if err != nil {
		if errors.Is(err, tcrypto.ErrInvalidPayload) || errors.Is(err, tcrypto.ErrInvalidCiphertext) {
			return nil, nil, fmt.Errorf("%w: %w", errBadPayload, err)
		}
		return nil, bad, fmt.Errorf("decrypt contribution: %w", err)
	}
	return pt, nil, nil
}

// lowestShares returns the k shares of lowest member index (all of them if
// there are no more than k). Only these are decoded and combined; the
// others wait in case some of these turn out bad.
func lowestShares(shares map[int][]byte, k int) map[int][]byte {
	if len(shares) <= k {
		return shares
	}
	idx := make([]int, 0, len(shares))
	for j := range shares {
		idx = append(idx, j)
	}
	sort.Ints(idx)
	out := make(map[int][]byte, k)
	for _, j := range idx[:k] {
		out[j] = shares[j]
	}
	return out
}

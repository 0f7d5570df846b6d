package honeybadger

import (
	"crypto/ecdh"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"

	"github.com/constellation-chain/constellation/builtin/honeybadger/tcrypto"
	"github.com/constellation-chain/constellation/interfaces"
)

// Dealer-free keys: Factory implements interfaces.KeyGenerator with the
// joint-Feldman key generation of tcrypto (dkg.go there), so a membership
// epoch's members make the same kind of Keys blob DealKeys makes, without
// anyone learning the master secret. Shares are sealed to, and complaints
// proven with, the X25519 keys of the members' Ed25519 identities.

var _ interfaces.KeyGenerator = Factory{}

// keygenParams checks members and f and returns n and the threshold f+1.
func keygenParams(members []interfaces.StarID, faulty int) (n, t int, err error) {
	n = len(members)
	if n == 0 || n > MaxMembers {
		return 0, 0, fmt.Errorf("honeybadger key generation: %d members, want 1 to %d", n, MaxMembers)
	}
	f := faulty
	if f <= 0 {
		f = (n - 1) / 3
	}
	if 3*f+1 > n {
		return 0, 0, fmt.Errorf("honeybadger key generation: f=%d needs at least %d members, have %d", f, 3*f+1, n)
	}
	return n, f + 1, nil
}

func checkIndex(what string, i, n int) error {
	if i < 0 || i >= n {
		return fmt.Errorf("honeybadger key generation: %s %d outside [0,%d)", what, i, n)
	}
	return nil
}

// memberX25519 returns the X25519 public keys of the members' identities.
func memberX25519(members []interfaces.StarID) ([][]byte, error) {
	out := make([][]byte, len(members))
	for i, m := range members {
		k, err := tcrypto.X25519FromEd25519Public(m.PublicKey())
		if err != nil {
			return nil, fmt.Errorf("honeybadger key generation: member %s: %w", m.Short(), err)
		}
		out[i] = k
	}
	return out, nil
}

// ownKey checks that key is member self's identity and converts it.
func ownKey(members []interfaces.StarID, self int, key ed25519.PrivateKey) (*ecdh.PrivateKey, error) {
	if err := checkIndex("member", self, len(members)); err != nil {
		return nil, err
	}
	if len(key) != ed25519.PrivateKeySize {
		return nil, errors.New("honeybadger key generation: not an Ed25519 private key")
	}
	id, err := interfaces.StarIDFromPublicKey(key.Public().(ed25519.PublicKey))
	if err != nil || id != members[self] {
		return nil, fmt.Errorf("honeybadger key generation: the key given is not member %d's (%s)", self, members[self].Short())
	}
	return tcrypto.X25519FromEd25519Private(key)
}

// Deal implements interfaces.KeyGenerator.
func (Factory) Deal(members []interfaces.StarID, faulty, self int, key ed25519.PrivateKey, rnd io.Reader) ([]byte, error) {
	n, t, err := keygenParams(members, faulty)
	if err != nil {
		return nil, err
	}
	if _, err := ownKey(members, self, key); err != nil {
		return nil, err
	}
	keys, err := memberX25519(members)
	if err != nil {
		return nil, err
	}
	d, err := tcrypto.NewDealing(n, t, self, keys, rnd)
	if err != nil {
		return nil, err
	}
	return d.Encode(), nil
}

// decodeDealing decodes and publicly checks dealer's dealing.
func decodeDealing(members []interfaces.StarID, faulty, dealer int, dealing []byte) (*tcrypto.Dealing, int, int, error) {
	n, t, err := keygenParams(members, faulty)
	if err != nil {
		return nil, 0, 0, err
	}
	if err := checkIndex("dealer", dealer, n); err != nil {
		return nil, 0, 0, err
	}
	d, err := tcrypto.DecodeDealing(dealing, n, t)
	if err != nil {
		return nil, 0, 0, err
	}
	if d.Dealer() != dealer {
		return nil, 0, 0, fmt.Errorf("honeybadger key generation: dealing of member %d sent as member %d's", d.Dealer(), dealer)
	}
	if err := d.Verify(n, t); err != nil {
		return nil, 0, 0, err
	}
	return d, n, t, nil
}

// VerifyDealing implements interfaces.KeyGenerator.
func (Factory) VerifyDealing(members []interfaces.StarID, faulty, dealer int, dealing []byte) error {
	_, _, _, err := decodeDealing(members, faulty, dealer, dealing)
	return err
}

// Respond implements interfaces.KeyGenerator.
func (Factory) Respond(members []interfaces.StarID, faulty, dealer int, dealing []byte, self int, key ed25519.PrivateKey) ([]byte, error) {
	d, _, _, err := decodeDealing(members, faulty, dealer, dealing)
	if err != nil {
		return nil, err
	}
	return respond(d, members, self, key)
}

// VerifyComplaint implements interfaces.KeyGenerator.
func (Factory) VerifyComplaint(members []interfaces.StarID, faulty, dealer int, dealing []byte, complainer int, complaint []byte) (bool, error) {
	d, n, _, err := decodeDealing(members, faulty, dealer, dealing)
	if err != nil {
		return false, err
	}
	return verifyComplaint(d, members, n, dealer, complainer, complaint)
}

// verifyComplaint checks member complainer's complaint against dealer's
// decoded dealing d of n members and dealers many dealers.
func verifyComplaint(d *tcrypto.Dealing, members []interfaces.StarID, dealers, dealer, complainer int, complaint []byte) (bool, error) {
	n := len(members)
	if err := checkIndex("complainer", complainer, n); err != nil {
		return false, err
	}
	c, err := tcrypto.DecodeComplaintOf(complaint, n, dealers)
	if err != nil {
		return false, err
	}
	if c.Complainer != complainer || c.Dealer != dealer {
		return false, fmt.Errorf("honeybadger key generation: complaint of member %d against dealer %d sent as member %d's against dealer %d", c.Complainer, c.Dealer, complainer, dealer)
	}
	pub, err := tcrypto.X25519FromEd25519Public(members[complainer].PublicKey())
	if err != nil {
		return false, err
	}
	return tcrypto.VerifyComplaint(d, c, pub)
}

// decodeQualified decodes the qualified dealings.
func decodeQualified(members []interfaces.StarID, faulty int, qualified []interfaces.Dealt) ([]*tcrypto.Dealing, []int, int, int, error) {
	n, t, err := keygenParams(members, faulty)
	if err != nil {
		return nil, nil, 0, 0, err
	}
	ds := make([]*tcrypto.Dealing, 0, len(qualified))
	idx := make([]int, 0, len(qualified))
	for _, q := range qualified {
		d, _, _, err := decodeDealing(members, faulty, q.Dealer, q.Dealing)
		if err != nil {
			return nil, nil, 0, 0, err
		}
		ds = append(ds, d)
		idx = append(idx, q.Dealer)
	}
	return ds, idx, n, t, nil
}

// openShares opens member self's share of each qualified dealing, by
// dealer.
func openShares(ds []*tcrypto.Dealing, members []interfaces.StarID, self int, key ed25519.PrivateKey) (map[int]tcrypto.DealingShare, error) {
	priv, err := ownKey(members, self, key)
	if err != nil {
		return nil, err
	}
	shares := make(map[int]tcrypto.DealingShare, len(ds))
	for _, d := range ds {
		s, err := d.Open(self, priv)
		if err != nil {
			return nil, fmt.Errorf("honeybadger key generation: member %d has no share of qualified dealer %d: %w", self, d.Dealer(), err)
		}
		shares[d.Dealer()] = s
	}
	return shares, nil
}

// AssembleKeys implements interfaces.KeyGenerator: the Keys blob of
// member self.
func (Factory) AssembleKeys(members []interfaces.StarID, faulty int, qualified []interfaces.Dealt, self int, key ed25519.PrivateKey) ([]byte, error) {
	ds, idx, n, t, err := decodeQualified(members, faulty, qualified)
	if err != nil {
		return nil, err
	}
	shares, err := openShares(ds, members, self, key)
	if err != nil {
		return nil, err
	}
	pk, sk, err := tcrypto.Assemble(n, t, ds, idx, self, shares)
	if err != nil {
		return nil, err
	}
	return (&Keys{Index: self, Public: pk, Secret: sk}).Encode()
}

// AssembleGroupKey implements interfaces.KeyGenerator.
func (Factory) AssembleGroupKey(members []interfaces.StarID, faulty int, qualified []interfaces.Dealt) ([]byte, error) {
	ds, idx, n, t, err := decodeQualified(members, faulty, qualified)
	if err != nil {
		return nil, err
	}
	pk, err := tcrypto.AssemblePublic(n, t, ds, idx)
	if err != nil {
		return nil, err
	}
	return pk.MarshalBinary()
}

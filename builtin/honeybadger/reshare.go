package honeybadger

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"

	"github.com/constellation-chain/constellation/builtin/honeybadger/tcrypto"
	"github.com/constellation-chain/constellation/interfaces"
)

// Resharing: Factory implements interfaces.KeyResharer with tcrypto's
// redistribution (reshare.go there). The old members deal their shares to
// the new members, who answer as in a key generation (keygen.go), and the
// new key set has the old master keys: signatures of the new members
// verify under the old group key, and contributions encrypted to it
// decrypt with the new shares.

var _ interfaces.KeyResharer = Factory{}

// ReshareThreshold implements interfaces.KeyResharer.
func (Factory) ReshareThreshold(oldGroup []byte) (int, error) {
	pk, err := groupKeySet(oldGroup)
	if err != nil {
		return 0, err
	}
	return pk.Threshold(), nil
}

// DealReshare implements interfaces.KeyResharer.
func (Factory) DealReshare(oldKeys []byte, members []interfaces.StarID, faulty int, rnd io.Reader) ([]byte, error) {
	n, t, err := keygenParams(members, faulty)
	if err != nil {
		return nil, err
	}
	k, err := DecodeKeys(oldKeys)
	if err != nil {
		return nil, fmt.Errorf("honeybadger reshare: old key material: %w", err)
	}
	keys, err := memberX25519(members)
	if err != nil {
		return nil, err
	}
	d, err := tcrypto.NewReshareDealing(n, t, k.Secret, keys, rnd)
	if err != nil {
		return nil, err
	}
	return d.Encode(), nil
}

// decodeReshare decodes and publicly checks old member dealer's reshare
// dealing against the old group key.
func decodeReshare(oldGroup []byte, members []interfaces.StarID, faulty, dealer int, dealing []byte) (*tcrypto.Dealing, *tcrypto.PublicKeySet, int, int, error) {
	n, t, err := keygenParams(members, faulty)
	if err != nil {
		return nil, nil, 0, 0, err
	}
	old, err := groupKeySet(oldGroup)
	if err != nil {
		return nil, nil, 0, 0, err
	}
	if err := checkIndex("old dealer", dealer, old.N()); err != nil {
		return nil, nil, 0, 0, err
	}
	d, err := tcrypto.DecodeReshareDealing(dealing, n, t)
	if err != nil {
		return nil, nil, 0, 0, err
	}
	if d.Dealer() != dealer {
		return nil, nil, 0, 0, fmt.Errorf("honeybadger reshare: dealing of old member %d sent as old member %d's", d.Dealer(), dealer)
	}
	if err := d.VerifyReshare(n, t, old); err != nil {
		return nil, nil, 0, 0, err
	}
	return d, old, n, t, nil
}

// VerifyReshare implements interfaces.KeyResharer.
func (Factory) VerifyReshare(oldGroup []byte, members []interfaces.StarID, faulty, dealer int, dealing []byte) error {
	_, _, _, _, err := decodeReshare(oldGroup, members, faulty, dealer, dealing)
	return err
}

// RespondReshare implements interfaces.KeyResharer.
func (Factory) RespondReshare(oldGroup []byte, members []interfaces.StarID, faulty, dealer int, dealing []byte, self int, key ed25519.PrivateKey) ([]byte, error) {
	d, _, _, _, err := decodeReshare(oldGroup, members, faulty, dealer, dealing)
	if err != nil {
		return nil, err
	}
	return respond(d, members, self, key)
}

// respond opens member self's share of d: nil when it is good, else the
// encoded complaint.
func respond(d *tcrypto.Dealing, members []interfaces.StarID, self int, key ed25519.PrivateKey) ([]byte, error) {
	priv, err := ownKey(members, self, key)
	if err != nil {
		return nil, err
	}
	if _, err := d.Open(self, priv); err == nil {
		return nil, nil
	} else if !errors.Is(err, tcrypto.ErrShareRejected) {
		return nil, err
	}
	c, err := d.Complain(self, priv)
	if err != nil {
		return nil, err
	}
	return c.Encode(), nil
}

// VerifyReshareComplaint implements interfaces.KeyResharer.
func (Factory) VerifyReshareComplaint(oldGroup []byte, members []interfaces.StarID, faulty, dealer int, dealing []byte, complainer int, complaint []byte) (bool, error) {
	d, old, _, _, err := decodeReshare(oldGroup, members, faulty, dealer, dealing)
	if err != nil {
		return false, err
	}
	return verifyComplaint(d, members, old.N(), dealer, complainer, complaint)
}

// decodeReshared decodes the qualified reshare dealings.
func decodeReshared(oldGroup []byte, members []interfaces.StarID, faulty int, qualified []interfaces.Dealt) (*tcrypto.PublicKeySet, []*tcrypto.Dealing, []int, int, int, error) {
	n, t, err := keygenParams(members, faulty)
	if err != nil {
		return nil, nil, nil, 0, 0, err
	}
	old, err := groupKeySet(oldGroup)
	if err != nil {
		return nil, nil, nil, 0, 0, err
	}
	ds := make([]*tcrypto.Dealing, 0, len(qualified))
	idx := make([]int, 0, len(qualified))
	for _, q := range qualified {
		d, _, _, _, err := decodeReshare(oldGroup, members, faulty, q.Dealer, q.Dealing)
		if err != nil {
			return nil, nil, nil, 0, 0, err
		}
		ds = append(ds, d)
		idx = append(idx, q.Dealer)
	}
	return old, ds, idx, n, t, nil
}

// AssembleReshareKeys implements interfaces.KeyResharer.
func (Factory) AssembleReshareKeys(oldGroup []byte, members []interfaces.StarID, faulty int, qualified []interfaces.Dealt, self int, key ed25519.PrivateKey) ([]byte, error) {
	old, ds, idx, n, t, err := decodeReshared(oldGroup, members, faulty, qualified)
	if err != nil {
		return nil, err
	}
	shares, err := openShares(ds, members, self, key)
	if err != nil {
		return nil, err
	}
	pk, sk, err := tcrypto.AssembleReshare(old, n, t, ds, idx, self, shares)
	if err != nil {
		return nil, err
	}
	return (&Keys{Index: self, Public: pk, Secret: sk}).Encode()
}

// AssembleReshareGroupKey implements interfaces.KeyResharer.
func (Factory) AssembleReshareGroupKey(oldGroup []byte, members []interfaces.StarID, faulty int, qualified []interfaces.Dealt) ([]byte, error) {
	old, ds, idx, n, t, err := decodeReshared(oldGroup, members, faulty, qualified)
	if err != nil {
		return nil, err
	}
	pk, err := tcrypto.AssembleResharePublic(old, n, t, ds, idx)
	if err != nil {
		return nil, err
	}
	return pk.MarshalBinary()
}

package honeybadger

import (
	"errors"
	"fmt"

	"github.com/constellation-chain/constellation/builtin/honeybadger/tcrypto"
	"github.com/constellation-chain/constellation/interfaces"
)

var _ interfaces.ThresholdSigner = (*Engine)(nil)

// CertificateDomain separates what a group certifies through
// interfaces.ThresholdSigner from everything else its key signs (the coin
// signs coinName, under its own domain).
const CertificateDomain = "constellation/group-certificate/v1"

// certificateName is the message the BLS key actually signs for msg.
func certificateName(msg []byte) []byte {
	h := interfaces.DomainSum(CertificateDomain, msg)
	return h[:]
}

// errNoKeys is returned by the signer of an engine without key material.
var errNoKeys = errors.New("honeybadger: this instance holds no threshold keys (protocol-only mode)")

// SignShare implements interfaces.ThresholdSigner with the member's BLS
// share.
func (e *Engine) SignShare(msg []byte) ([]byte, error) {
	if e.sk == nil {
		return nil, errNoKeys
	}
	sh := e.sk.SignShare(certificateName(msg))
	b, err := sh.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("honeybadger: encode signature share: %w", err)
	}
	return b, nil
}

// VerifyShare implements interfaces.ThresholdSigner.
func (e *Engine) VerifyShare(member interfaces.StarID, msg, share []byte) error {
	if e.pks == nil {
		return errNoKeys
	}
	j, ok := e.index[member]
	if !ok {
		return fmt.Errorf("honeybadger: %s is not a member", member.Short())
	}
	var sh tcrypto.SigShare
	if err := sh.UnmarshalBinary(share); err != nil {
		return fmt.Errorf("honeybadger: share of %s: %w", member.Short(), err)
	}
	if !e.pks.VerifySigShare(j, certificateName(msg), sh) {
		return fmt.Errorf("honeybadger: share of %s does not verify", member.Short())
	}
	return nil
}

// CombineShares implements interfaces.ThresholdSigner: invalid shares are
// left out, and f+1 valid ones combine.
func (e *Engine) CombineShares(msg []byte, shares []interfaces.SignatureShare) ([]byte, error) {
	if e.pks == nil {
		return nil, errNoKeys
	}
	dec := make(map[int]tcrypto.SigShare, len(shares))
	for _, s := range shares {
		j, ok := e.index[s.Member]
		if !ok {
			continue
		}
		var sh tcrypto.SigShare
		if sh.UnmarshalBinary(s.Share) != nil {
			continue
		}
		dec[j] = sh
	}
	sig, _, err := e.pks.CombineSigShares(certificateName(msg), dec)
	if err != nil {
		return nil, fmt.Errorf("honeybadger: combine %d shares (need %d valid): %w", len(shares), e.f+1, err)
	}
	b, err := sig.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("honeybadger: encode group signature: %w", err)
	}
	return b, nil
}

// VerifyGroupSignature implements interfaces.ThresholdSigner.
func (e *Engine) VerifyGroupSignature(msg, sig []byte) error {
	if e.pks == nil {
		return errNoKeys
	}
	var s tcrypto.Signature
	if err := s.UnmarshalBinary(sig); err != nil {
		return fmt.Errorf("honeybadger: group signature: %w", err)
	}
	if !e.pks.VerifySignature(certificateName(msg), s) {
		return errors.New("honeybadger: group signature does not verify")
	}
	return nil
}

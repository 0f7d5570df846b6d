package honeybadger

import (
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/constellation-chain/constellation/builtin/honeybadger/tcrypto"
	"github.com/constellation-chain/constellation/interfaces"
)

// Key material.
//
// Trust assumption: keys come from a trusted dealer (DealKeys, run by
// `constellation keygen --cluster N`). The dealer learns every secret share
// and could sign coins and decrypt contributions alone; it must erase its
// memory after writing the key files, and a cluster that cannot trust one
// operator needs a distributed key generation instead (not implemented).
// Each member's secret share lives in its own key file only; it never
// appears in a manifest. One BLS12-381 share serves both the common coin
// (threshold signatures) and threshold decryption, as in hbbft.

// keysVersion is the version byte of the Keys blob.
const keysVersion = 1

// maxKeyBlob bounds a Keys blob's public part (the public key set grows
// with N; 1 MiB is far above what MaxMembers needs).
const maxKeyBlob = 1 << 20

// Keys is one member's HoneyBadger key material: the cluster's public key
// set, the member's secret share and its index in the sorted member list.
type Keys struct {
	Index  int
	Public *tcrypto.PublicKeySet
	Secret *tcrypto.SecretShare
}

// Encode returns the canonical encoding (ConsensusConfig.Keys):
// version u8, index u32, VarBytes(public key set), VarBytes(secret share).
func (k *Keys) Encode() ([]byte, error) {
	pub, err := k.Public.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("encode public key set: %w", err)
	}
	sec, err := k.Secret.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("encode secret share: %w", err)
	}
	e := interfaces.NewEncoder(16 + len(pub) + len(sec))
	e.U8(keysVersion)
	e.U32(uint32(k.Index))
	e.VarBytes(pub)
	e.VarBytes(sec)
	return e.Bytes(), nil
}

// DecodeKeys decodes and checks a Keys blob: the secret share must belong
// to the public key set at the stated index.
func DecodeKeys(b []byte) (*Keys, error) {
	if len(b) == 0 {
		return nil, errors.New("no key material (run `constellation keygen --cluster N`)")
	}
	d := interfaces.NewDecoder(b)
	if v := d.U8(); d.Err() == nil && v != keysVersion {
		return nil, fmt.Errorf("decode keys: version %d, want %d", v, keysVersion)
	}
	idx := d.U32()
	pub := d.VarBytes(maxKeyBlob)
	sec := d.VarBytes(maxKeyBlob)
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("decode keys: %w", err)
	}
	k := &Keys{Index: int(idx), Public: &tcrypto.PublicKeySet{}, Secret: &tcrypto.SecretShare{}}
	if err := k.Public.UnmarshalBinary(pub); err != nil {
		return nil, fmt.Errorf("decode keys: public key set: %w", err)
	}
	if err := k.Secret.UnmarshalBinary(sec); err != nil {
		return nil, fmt.Errorf("decode keys: secret share: %w", err)
	}
	if k.Secret.Index != k.Index {
		return nil, fmt.Errorf("decode keys: secret share has index %d, blob says %d", k.Secret.Index, k.Index)
	}
	if err := k.Public.CheckSecretShare(k.Secret); err != nil {
		return nil, fmt.Errorf("decode keys: %w", err)
	}
	return k, nil
}

// check verifies that the keys fit a cluster of n members tolerating f, for
// member self.
func (k *Keys) check(n, f, self int) error {
	if k.Public.N() != n {
		return fmt.Errorf("keys were dealt for %d members, cluster has %d", k.Public.N(), n)
	}
	if k.Public.Threshold() != f+1 {
		return fmt.Errorf("keys have threshold %d, f=%d needs %d", k.Public.Threshold(), f, f+1)
	}
	if k.Index != self {
		return fmt.Errorf("keys are for member %d, this star is member %d", k.Index, self)
	}
	return nil
}

// DealKeys implements interfaces.KeyDealer as a trusted dealer: it deals a
// threshold key set with threshold f+1 for the sorted members and returns
// each member's Keys blob in Members order. faulty=0 means (N−1)/3.
func (Factory) DealKeys(members []interfaces.StarID, faulty int, rnd io.Reader) ([][]byte, error) {
	n := len(members)
	if n == 0 || n > MaxMembers {
		return nil, fmt.Errorf("deal honeybadger keys: %d members, want 1 to %d", n, MaxMembers)
	}
	f := faulty
	if f <= 0 {
		f = (n - 1) / 3
	}
	if 3*f+1 > n {
		return nil, fmt.Errorf("deal honeybadger keys: f=%d needs at least %d members, have %d", f, 3*f+1, n)
	}
	pks, shares, err := tcrypto.Deal(n, f+1, rnd)
	if err != nil {
		return nil, fmt.Errorf("deal honeybadger keys: %w", err)
	}
	out := make([][]byte, n)
	for i := range n {
		b, err := (&Keys{Index: i, Public: pks, Secret: shares[i]}).Encode()
		if err != nil {
			return nil, fmt.Errorf("deal honeybadger keys for member %d: %w", i, err)
		}
		out[i] = b
	}
	return out, nil
}

// KeyFile is what `constellation keygen --cluster N` writes for one member:
// the member, the cluster it was dealt for and its Keys blob. It holds a
// secret share: the file must be readable by the member only.
type KeyFile struct {
	Member  interfaces.StarID
	Members []interfaces.StarID // sorted
	Faulty  int
	Keys    []byte
}

const keyFilePEMType = "CONSTELLATION HONEYBADGER KEYS"

// EncodeKeyFile returns kf as a PEM block whose body is the canonical
// encoding: version u8, member [32], member count uvarint, members [32]×n,
// faulty u32, VarBytes(keys). The PEM headers repeat the member and sizes
// for people; DecodeKeyFile trusts only the body.
func EncodeKeyFile(kf *KeyFile) []byte {
	e := interfaces.NewEncoder(64 + 32*len(kf.Members) + len(kf.Keys))
	e.U8(keysVersion)
	e.Fixed(kf.Member[:])
	e.Uvarint(uint64(len(kf.Members)))
	for _, m := range kf.Members {
		e.Fixed(m[:])
	}
	e.U32(uint32(kf.Faulty))
	e.VarBytes(kf.Keys)
	return pem.EncodeToMemory(&pem.Block{
		Type: keyFilePEMType,
		Headers: map[string]string{
			"Member":  kf.Member.String(),
			"Members": strconv.Itoa(len(kf.Members)),
			"Faulty":  strconv.Itoa(kf.Faulty),
		},
		Bytes: e.Bytes(),
	})
}

// DecodeKeyFile parses a key file written by EncodeKeyFile and checks that
// its Keys blob decodes, fits the listed cluster and belongs to Member.
func DecodeKeyFile(b []byte) (*KeyFile, error) {
	blk, rest := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("decode key file: no PEM block")
	}
	if blk.Type != keyFilePEMType {
		return nil, fmt.Errorf("decode key file: PEM type %q, want %q", blk.Type, keyFilePEMType)
	}
	if len(rest) > 0 {
		for _, c := range rest {
			if c != ' ' && c != '\n' && c != '\r' && c != '\t' {
				return nil, errors.New("decode key file: data after the PEM block")
			}
		}
	}
	d := interfaces.NewDecoder(blk.Bytes)
	if v := d.U8(); d.Err() == nil && v != keysVersion {
		return nil, fmt.Errorf("decode key file: version %d, want %d", v, keysVersion)
	}
	kf := &KeyFile{}
	d.Fixed(kf.Member[:])
	n := d.Len(MaxMembers)
	if d.Err() == nil && n*32 > d.Remaining() {
		d.Fail(interfaces.ErrTruncated)
	}
	for i := 0; i < n && d.Err() == nil; i++ {
		var m interfaces.StarID
		d.Fixed(m[:])
		kf.Members = append(kf.Members, m)
	}
	kf.Faulty = int(d.U32())
	kf.Keys = d.VarBytes(2*maxKeyBlob + 16)
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("decode key file: %w", err)
	}
	cfg := interfaces.ConsensusConfig{Members: kf.Members, Faulty: kf.Faulty}
	for i := 1; i < len(kf.Members); i++ {
		if !kf.Members[i-1].Less(kf.Members[i]) {
			return nil, fmt.Errorf("decode key file: members not sorted and unique at position %d", i)
		}
	}
	self := cfg.Index(kf.Member)
	if self < 0 {
		return nil, fmt.Errorf("decode key file: member %s is not in the member list", kf.Member.Short())
	}
	k, err := DecodeKeys(kf.Keys)
	if err != nil {
		return nil, fmt.Errorf("decode key file: %w", err)
	}
	if err := k.check(len(kf.Members), cfg.F(), self); err != nil {
		return nil, fmt.Errorf("decode key file: %w", err)
	}
	return kf, nil
}

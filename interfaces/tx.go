package interfaces

import (
	"crypto/ed25519"
	"errors"
	"fmt"
)

// TxVersion is the current transaction encoding version.
const TxVersion = 1

// MaxTxPayload bounds a transaction's payload (64 KiB).
const MaxTxPayload = 64 << 10

// TxKind says what a transaction does; the payload's layout follows from it.
type TxKind uint8

const (
	// TxTransfer moves noOs from the sender to a recipient (TransferPayload).
	TxTransfer TxKind = 1
	// TxData records opaque bytes on the sender's chain; it changes no balance.
	TxData TxKind = 2
	// TxDeploy notarizes a contract's code hash (reserved for contracts).
	TxDeploy TxKind = 3
	// TxCall invokes a contract, which co-signs as the counterparty.
	TxCall TxKind = 4
	// TxCheckpoint carries a Star Cluster's certified checkpoint block
	// into the galaxy (CheckpointPayload). Its sender is the cluster's
	// account (ClusterStar), its sequence the checkpoint's height; it
	// carries no ed25519 signature: the cluster's threshold signature in
	// the payload authenticates it. Only the galaxy's ledger accepts it.
	TxCheckpoint TxKind = 5
	// TxCredit credits, in the destination cluster, a batch of receipts
	// another cluster issued (CreditPayload), against a black hole the
	// galaxy signed. Its sender is the source cluster's account, its
	// sequence the batch's (source, destination) sequence number; like a
	// checkpoint it carries no ed25519 signature.
	TxCredit TxKind = 6
	// TxBeacon publishes, in the galaxy, the galaxy's certificate of the
	// previous black hole and each cluster's next delegate set drawn with
	// it (BeaconPayload). Its sender is the galaxy's account, its sequence
	// the certified black hole's height.
	TxBeacon TxKind = 7
	// TxMint credits, in a cluster, what a beacon minted for the accounts
	// the cluster owns (MintClaim). Its sender is the galaxy's account, its
	// sequence the beacon's.
	TxMint TxKind = 8
	// TxKeyGen carries one message of a distributed key generation
	// (framework/keygen): a dealing, an acknowledgement or a complaint of
	// a member of a group's next membership epoch. Its sender is the
	// author, its sequence and previous transaction those of the author's
	// key-generation chain (KeyGenStar), apart from its account's; it
	// moves nothing.
	TxKeyGen TxKind = 9
	// TxMember makes its sender stand for a cluster's seats, or stand
	// down (MemberPayload). Its sender is the star, its sequence and
	// previous transaction those of the star's membership chain
	// (MemberStar); only the ledger of the cluster it names orders it,
	// and it moves nothing.
	TxMember TxKind = 10
)

func (k TxKind) String() string {
	switch k {
	case TxTransfer:
		return "transfer"
	case TxData:
		return "data"
	case TxDeploy:
		return "deploy"
	case TxCall:
		return "call"
	case TxCheckpoint:
		return "checkpoint"
	case TxCredit:
		return "credit"
	case TxBeacon:
		return "beacon"
	case TxMint:
		return "mint"
	case TxKeyGen:
		return "keygen"
	case TxMember:
		return "member"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Valid reports whether k is a known kind.
func (k TxKind) Valid() bool { return k >= TxTransfer && k <= TxMember }

// Certified reports whether transactions of kind k are authenticated by a
// group's threshold signature in their payload instead of an ed25519
// signature of their sender.
func (k TxKind) Certified() bool { return k >= TxCheckpoint && k <= TxMint }

// Chain returns the star whose chain sequences t: its sender's, except
// for a key-generation message, which is sequenced on the sender's
// KeyGenStar for the message's session (the 32 bytes after the payload's
// version byte), and a membership transaction on the sender's
// MemberStar, so that neither competes with the account's own
// transactions for a sequence number.
func (t *Transaction) Chain() StarID {
	if t.Kind == TxMember {
		return MemberStar(t.Sender)
	}
	if t.Kind == TxKeyGen {
		var session Hash
		if len(t.Payload) > len(session) {
			copy(session[:], t.Payload[1:])
		}
		return KeyGenStar(t.Sender, session)
	}
	return t.Sender
}

// Transaction is one entry of a star's own chain (ExtendedTrustChain): it
// names the hash of the sender's previous transaction and a sequence number
// one above it, so each star's history is a hash chain that any node can
// check. The sender signs the body; a counterparty may co-sign it.
type Transaction struct {
	Sender       StarID
	Seq          uint64 // 1 for a star's first transaction
	Prev         Hash   // ID of the sender's transaction Seq-1; zero when Seq is 1
	Kind         TxKind
	Payload      []byte
	Counterparty StarID // zero when there is none
	Sig          [ed25519.SignatureSize]byte
	CounterSig   []byte // empty, or an ed25519 signature by Counterparty
}

// SigningBytes is the canonical body both signatures cover.
func (t *Transaction) SigningBytes() []byte {
	e := NewEncoder(96 + len(t.Payload))
	t.encodeBody(e)
	return e.Bytes()
}

func (t *Transaction) encodeBody(e *Encoder) {
	e.U8(TxVersion)
	e.Fixed(t.Sender[:])
	e.U64(t.Seq)
	e.Fixed(t.Prev[:])
	e.U8(uint8(t.Kind))
	e.VarBytes(t.Payload)
	e.Fixed(t.Counterparty[:])
}

// ID is the transaction's hash: over the signed body, so adding signatures
// never changes it.
func (t *Transaction) ID() Hash { return DomainSum("constellation/tx/v1", t.SigningBytes()) }

// Encode returns the canonical encoding: body, signature, counter-signature.
func (t *Transaction) Encode() []byte {
	e := NewEncoder(170 + len(t.Payload))
	t.EncodeTo(e)
	return e.Bytes()
}

// EncodeTo appends the canonical encoding to e.
func (t *Transaction) EncodeTo(e *Encoder) {
	t.encodeBody(e)
	e.Fixed(t.Sig[:])
	e.VarBytes(t.CounterSig)
}

// DecodeTransaction decodes one canonical transaction and rejects trailing bytes.
func DecodeTransaction(b []byte) (*Transaction, error) {
	d := NewDecoder(b)
	t := DecodeTransactionFrom(d)
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("decode transaction: %w", err)
	}
	return t, nil
}

// DecodeTransactionFrom reads one transaction from d; check d.Err afterwards.
func DecodeTransactionFrom(d *Decoder) *Transaction {
	t := &Transaction{}
	if v := d.U8(); d.Err() == nil && v != TxVersion {
		d.Fail(fmt.Errorf("transaction version %d, want %d", v, TxVersion))
	}
	d.Fixed(t.Sender[:])
	t.Seq = d.U64()
	d.Fixed(t.Prev[:])
	t.Kind = TxKind(d.U8())
	t.Payload = d.VarBytes(MaxTxPayload)
	d.Fixed(t.Counterparty[:])
	d.Fixed(t.Sig[:])
	t.CounterSig = d.VarBytes(ed25519.SignatureSize)
	if d.Err() == nil {
		if l := len(t.CounterSig); l != 0 && l != ed25519.SignatureSize {
			d.Fail(fmt.Errorf("counter-signature has %d bytes, want 0 or %d", l, ed25519.SignatureSize))
		}
	}
	return t
}

// Sign sets Sig with the sender's key. The key must match Sender.
func (t *Transaction) Sign(key ed25519.PrivateKey) error {
	pub, _ := key.Public().(ed25519.PublicKey)
	if string(pub) != string(t.Sender[:]) {
		return errors.New("sign transaction: key does not belong to the sender")
	}
	copy(t.Sig[:], ed25519.Sign(key, t.SigningBytes()))
	return nil
}

// CounterSign sets CounterSig with the counterparty's key.
func (t *Transaction) CounterSign(key ed25519.PrivateKey) error {
	pub, _ := key.Public().(ed25519.PublicKey)
	if t.Counterparty.IsZero() || string(pub) != string(t.Counterparty[:]) {
		return errors.New("counter-sign transaction: key does not belong to the counterparty")
	}
	t.CounterSig = ed25519.Sign(key, t.SigningBytes())
	return nil
}

// ErrBadSignature reports a signature that does not verify.
var ErrBadSignature = errors.New("bad signature")

// VerifySignatures checks the sender's signature and, when a counterparty is
// named and has signed, its signature, under the transaction signature
// rule (ZIP-215; see txsig.go). VerifyTransactions gives the same verdict
// for many transactions at once. It does not check chain order or
// balances; the ledger does that.
func (t *Transaction) VerifySignatures() error {
	if done, err := t.preVerify(); done {
		return err
	}
	msg := t.SigningBytes()
	if !VerifyTxSignature(t.Sender, msg, t.Sig[:]) {
		return t.sigVerdict(false, false)
	}
	counterOK := len(t.CounterSig) > 0 && !t.Counterparty.IsZero() &&
		VerifyTxSignature(t.Counterparty, msg, t.CounterSig)
	return t.sigVerdict(true, counterOK)
}

// TransferPayload is the payload of a TxTransfer.
type TransferPayload struct {
	To     StarID
	Amount uint64
}

// Encode returns the canonical payload bytes.
func (p TransferPayload) Encode() []byte {
	e := NewEncoder(41)
	e.U8(1)
	e.Fixed(p.To[:])
	e.U64(p.Amount)
	return e.Bytes()
}

// DecodeTransferPayload decodes a TxTransfer payload.
func DecodeTransferPayload(b []byte) (TransferPayload, error) {
	var p TransferPayload
	d := NewDecoder(b)
	if v := d.U8(); d.Err() == nil && v != 1 {
		d.Fail(fmt.Errorf("transfer payload version %d, want 1", v))
	}
	d.Fixed(p.To[:])
	p.Amount = d.U64()
	if err := d.Finish(); err != nil {
		return p, fmt.Errorf("decode transfer payload: %w", err)
	}
	return p, nil
}

// NewTransfer builds and signs a transfer from key's star.
func NewTransfer(key ed25519.PrivateKey, seq uint64, prev Hash, to StarID, amount uint64) (*Transaction, error) {
	sender, err := StarIDFromPublicKey(key.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, err
	}
	t := &Transaction{
		Sender:  sender,
		Seq:     seq,
		Prev:    prev,
		Kind:    TxTransfer,
		Payload: TransferPayload{To: to, Amount: amount}.Encode(),
	}
	if err := t.Sign(key); err != nil {
		return nil, err
	}
	return t, nil
}

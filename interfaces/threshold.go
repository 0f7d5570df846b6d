package interfaces

// SignatureShare is one member's share of a group signature.
type SignatureShare struct {
	Member StarID
	Share  []byte
}

// ThresholdSigner is implemented by consensus engines (or RPC clients of
// engines) whose members hold shares of one group key, as HoneyBadger's
// BLS12-381 keys are. Through it a group certifies what it decided — a
// block's hash, later the black hole certificate whose signature seeds the
// delegate selection — without the kernel importing the engine's crypto.
//
// Every method is a pure function of the instance's keys and its arguments,
// safe to call between Propose and Step calls from the same goroutine. The
// engine signs msg under a domain of its own, never as it signs its
// protocol messages (a coin name), so certifying cannot leak a coin early.
// A group signature is unique for a key and a message: any f+1 valid
// shares combine into the same bytes.
type ThresholdSigner interface {
	// SignShare returns this member's share of the group signature on msg.
	SignShare(msg []byte) ([]byte, error)
	// VerifyShare checks member's share on msg.
	VerifyShare(member StarID, msg, share []byte) error
	// CombineShares combines valid shares of at least f+1 distinct members
	// into the group signature on msg; it fails, naming why, when the
	// valid ones are too few.
	CombineShares(msg []byte, shares []SignatureShare) ([]byte, error)
	// VerifyGroupSignature checks a group signature on msg.
	VerifyGroupSignature(msg, sig []byte) error
}

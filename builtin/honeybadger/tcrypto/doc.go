// Package tcrypto is the threshold cryptography of the HoneyBadger consensus
// plugin: threshold BLS signatures for the common coin (and any other
// cluster-wide signature) and threshold public-key encryption for the
// contributions that ACS agrees on, both over the BLS12-381 pairing-friendly
// curve (github.com/consensys/gnark-crypto).
//
// # Where it sits
//
// `constellation keygen --cluster N` calls [Deal] once and writes one key file
// per member (its [SecretShare] plus the shared [PublicKeySet]). At run time
// the HoneyBadger state machine encrypts its proposal with
// [PublicKeySet.Encrypt] before reliable broadcast, signs coin names with
// [SecretShare.SignShare] during binary agreement, and after ACS checks the
// accepted ciphertexts (in one batch with [PublicKeySet.VerifyCiphertexts])
// and sends [SecretShare.DecryptShare] for each of them. A ciphertext is not
// bound to an epoch or a proposer; a caller that needs that binding puts it
// inside the plaintext and checks it after decryption. Received shares
// are combined with [PublicKeySet.CombineSigShares] and [PublicKeySet.Decrypt];
// both name the members whose shares were invalid so that the caller can
// report them as provable faults.
//
// # Trust assumption
//
// Keys come from a trusted dealer at keygen time on today's networks:
// whoever runs [Deal] learns the master secret and every share, and must
// erase them after writing the key files. A malicious dealer can sign and
// decrypt alone. dkg.go is the dealer-free alternative (joint-Feldman key
// generation with publicly verifiable complaints, see [NewDealing] and
// [Assemble]); ordering its dealings and complaints through a group's
// consensus, and switching a group to the keys it yields, is not built yet.
// The rest of this package does not depend on how the shares were produced, only on the [PublicKeySet] being consistent, which
// [PublicKeySet.UnmarshalBinary] checks. With threshold t = f+1, any t members
// can sign or decrypt and any f colluding members learn nothing about the
// master secret (Shamir secret sharing).
//
// # Schemes
//
// Threshold signatures are BLS signatures shared by Shamir's scheme as in
// A. Boldyreva, "Threshold Signatures, Multisignatures and Blind Signatures
// Based on the Gap-Diffie-Hellman-Group Signature Scheme", PKC 2003. The master
// secret s is f(0) of a random polynomial f of degree t-1 over the scalar field
// Fr; member i (0-based) holds s_i = f(i+1). A signature share is
// σ_i = s_i·H₁(m) with H₁ the RFC 9380 hash to G1 (SSWU, random-oracle
// variant) under the tag [SignatureDST]; t shares are combined by Lagrange
// interpolation at 0 to σ = s·H₁(m), the unique signature under the master
// key. The common coin is the SHA-256 of σ's compressed encoding
// ([Signature.Hash]), which is unpredictable until f+1 members have released
// shares and the same for everyone afterwards.
//
// Threshold encryption is Baek and Zheng's scheme, "Simple and Efficient
// Threshold Cryptosystem from the Gap Diffie-Hellman Group", GLOBECOM 2003, as
// used by HoneyBadgerBFT (Miller et al., CCS 2016): a ciphertext is
// U = r·P, V = K ⊕ H(r·Y), W = r·H'(U,V,…) and is publicly checkable by
// e(P, W) = e(U, H'(U,V,…)), which makes it secure against chosen-ciphertext
// attacks in the random-oracle model. Here K is a fresh 256-bit key for the
// ChaCha20-Poly1305 AEAD that carries the payload, H' hashes to G2 under
// [EncryptionDST] and covers the whole ciphertext (including the AEAD box), and
// a decryption share is s_i·U. See [Ciphertext] for one addition to the paper:
// a hash commitment to K, because ChaCha20-Poly1305 is not key-committing and
// without it a proposer colluding with a share sender could make two honest
// nodes decrypt the same ciphertext to two different plaintexts.
//
// # Group choices
//
// The cost that grows with the cluster is share verification, so it is made as
// cheap as possible:
//
//   - Signatures and signature shares are in G1 (48 bytes compressed) and the
//     verification keys in G2 (96 bytes), so hashing, signing and combining
//     work in the faster group (the "minimal-signature-size" BLS variant).
//   - Decryption shares are in G1 too: U and the master key P_pub = s·P1 used
//     for encryption are in G1, and only the validity proof W and the hash H'
//     are in G2. A decryption share is verified by e(D_i, P2) = e(U, VK_i)
//     with no hashing at all.
//   - Every share check is a two-term product of pairings
//     ([bls12381.PairingCheckFixedQ]) whose G2 arguments (the generator and
//     the member's verification key) are fixed, so their Miller-loop lines are
//     precomputed once when the [PublicKeySet] is built or decoded.
//   - Combining is optimistic: t shares are interpolated and the result is
//     checked once (one pairing check against the master key for a signature,
//     one hash comparison for a decryption key); shares are checked one by one
//     only if that fails.
//
// # Encodings
//
// Every type that crosses the wire or goes into a key file has one canonical
// binary encoding: a version byte, a type tag, then fixed-order fields with
// compressed points (ZCash/IETF BLS12-381 format). Decoders are strict: wrong
// lengths, trailing bytes, non-canonical field elements, points not on the
// curve or not in the prime-order subgroup, and the point at infinity are all
// rejected.
//
// # Concurrency
//
// A [PublicKeySet] and a [SecretShare] are immutable once built or decoded
// and may be used from any number of goroutines. A [Ciphertext] caches the
// result of its validity check internally and is safe for concurrent use.
// Nothing in this package starts goroutines.
package tcrypto

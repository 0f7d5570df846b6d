// Package honeybadger is Constellation's asynchronous BFT consensus engine:
// HoneyBadgerBFT (Miller, Xia, Croman, Shi and Song, "The Honey Badger of
// BFT Protocols", CCS 2016) written as a pure, deterministic state machine
// that implements interfaces.Consensus, with interfaces.ConsensusFactory and
// interfaces.KeyDealer on Factory.
//
// # Where it sits
//
// A Star Cluster's delegates each run one Engine. The host (the kernel)
// picks this member's contribution for the epoch — HoneyBadger's random B/N
// sample of its transaction pool is the host's job, and the contribution is
// exactly what the host picked — and calls Propose. Messages from the
// transport go to Step. Each call returns the messages to send, the decided
// epochs (Decision: the agreed contributions in proposer-index order, the
// same on every honest member) and the provable faults seen, which
// reputation consumes. The kernel turns each Decision into the HyloChain
// block of that epoch.
//
// # One epoch
//
//  1. Threshold encryption (tcrypto, Baek–Zheng TPKE over BLS12-381): the
//     contribution is encrypted under the cluster key, so the adversary
//     cannot see what it would be censoring (§4.5).
//  2. Reliable broadcast (rbc.go): Bracha's VAL/ECHO/READY carrying
//     Reed–Solomon shards (N−2f data, 2f parity) with sha256 Merkle
//     branches, as in Cachin–Tessaro AVID (§4.2).
//  3. Binary agreement (aba.go): Mostéfaoui–Moumen–Raynal with CONF and
//     TERM as in hbbft, and a threshold-BLS common coin with a fixed schedule
//     for rounds 0 and 1 (the soundness argument is in aba.go) (§4.3).
//  4. Common subset (epoch.go): N broadcasts and N agreements; RBC_j
//     delivering inputs 1 to ABA_j, and once N−f agreements output 1 the
//     rest get 0 (§4.4, after Ben-Or, Kelmer and Rabin).
//  5. Threshold decryption (epoch.go): each member sends one DEC message
//     with its shares for all agreed ciphertexts; f+1 shares decrypt one.
//     Shares are combined first and verified one by one only if the result
//     fails. A proposal that RBC delivered as ⊥, whose ciphertext is
//     invalid, or whose payload does not open under valid shares is dropped
//     by every honest member alike and its proposer reported.
//
// Epochs are pipelined: the epochs in a window from the oldest undecided
// one (max_future_epochs, default 4) run at once; later messages are
// buffered with a per-sender bound and replayed when the window moves;
// messages for decided epochs are ignored (late honest messages are normal
// under asynchrony, so they are not reported as replays). Decisions are
// released strictly in epoch order.
//
// # Provable faults
//
// FaultMalformed (undecodable message, wrong sender for VAL, out-of-range
// instance, DEC when encryption is off, COIN in a fixed-coin round);
// FaultInvalidMerkle (a shard whose branch does not verify);
// FaultEquivocation (two different ECHO/READY/AUX/CONF/TERM/coin or
// decryption shares for one slot, or a proposer caught sending two roots:
// its VAL to this member and f+1 ECHOs of another root);
// FaultInvalidShare (a coin or decryption share that fails verification);
// FaultInvalidBlock (a dropped proposal, see above). Evidence names the
// offending messages exactly as received (interfaces.PayloadEvidence; both
// messages for an equivocation the engine can rebuild), so the host can
// attach their signatures; CheckFault (evidence.go) is the rule a third
// party applies to them. Faults seen only through other members' messages
// (a proposer's VALs to others) or needing agreed data (decryption shares)
// cannot be proven by the accused's own signatures and stay local.
//
// # Threshold signatures
//
// The engine implements interfaces.ThresholdSigner with its BLS12-381
// share under CertificateDomain (signer.go), so a group can certify a
// decided block; it honours ConsensusConfig.LastEpoch (membership epochs).
//
// # Wire format
//
// wire.go: version byte, type byte, epoch, then fixed fields; one encoding
// per message, strictly decoded (FuzzDecodeMessage). Broadcasts are encoded
// once (OutMessage.To = interfaces.Broadcast); only VAL differs per
// recipient.
//
// # Determinism and randomness
//
// No goroutines, clocks or I/O; no map iteration feeds an output. The only
// randomness is the encryption's, drawn from a ChaCha8 stream seeded by
// ConsensusConfig.Seed and the epoch, so replaying the inputs replays the
// outputs bit for bit.
//
// # Keys and trust
//
// Factory.DealKeys is a trusted dealer (see keys.go and tcrypto's package
// documentation): it learns every share and must forget them. Each member's
// Keys blob holds the public key set, its secret share and its index;
// EncodeKeyFile/DecodeKeyFile wrap it for `constellation keygen --cluster N`.
// Secret shares never appear in a manifest.
//
// # Benchmark switches
//
// ProtocolOnly() gives "mode A", the protocol alone (no keys needed):
// Params.Encrypt and Params.ThresholdCoin off. The predictable coin keeps
// safety but lets an adversarial scheduler stall agreement, and without
// encryption a scheduler that reads plaintext can censor: benchmarks only.
// Neither switch is in the manifest schema.
//
// # Byzantine behaviours
//
// byzantine.go exports Mutators that know this wire format, for the
// simulator: InvalidCoinShares, InvalidDecryptionShares, RBCEquivocation,
// CorruptShards, ReplayOld and Garbage, combinable with Chain.
package honeybadger

package interfaces

// Score is a reputation score in fixed point: ScoreOne is 1.0. Scores feed
// delegate selection, so they are integers, never floats.
type Score int64

// ScoreOne is the fixed-point unit of Score (1e9).
const ScoreOne Score = 1_000_000_000

// StarScore pairs a star with its score.
type StarScore struct {
	Star  StarID
	Score Score
}

// Interaction is one edge of the interaction graph reputation builds (for
// Temporal PageRank): a finalized transaction from one star to another.
type Interaction struct {
	From, To StarID
	Amount   uint64
}

// Observation is what reputation learns from one finalized block.
type Observation struct {
	Cluster      ClusterID
	Height       uint64
	Epoch        uint64
	Timestamp    int64 // from the block header, never a local clock
	Meta         BlockMeta
	Interactions []Interaction
}

// Reputation capabilities.
const (
	CapSnapshot   = "snapshot"   // Snapshot/Restore round-trip exactly
	CapSybilGuard = "sybil-flow" // flow-capped against Sybil regions
)

// Reputation scores stars from what finalized blocks show and draws
// delegates. It must be bit-for-bit deterministic: the same observations in
// the same order give the same scores and selections on every machine.
// Calls are made from one goroutine.
type Reputation interface {
	// Observe folds one finalized block in. Blocks arrive in height order.
	Observe(o Observation) error
	// Score returns a star's current score; an unknown star has the
	// newcomer score.
	Score(s StarID) Score
	// Select draws k distinct delegates from candidates using seed (the
	// hash of the galaxy's threshold signature on the previous black hole).
	// The result is sorted by StarID. It fails if fewer than k candidates
	// are given.
	Select(candidates []StarID, k int, seed Hash) ([]StarID, error)
	// Snapshot serializes the full state canonically; Restore replaces the
	// state with a snapshot's.
	Snapshot() ([]byte, error)
	Restore(snapshot []byte) error
}

// ReputationFactory builds reputation instances from the plugin's config
// block (JSON).
type ReputationFactory interface {
	Plugin
	NewReputation(params []byte) (Reputation, error)
}

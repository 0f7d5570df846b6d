package interfaces

// Partitioner maps transactions to Star Clusters so related accounts land
// together and each account's chain is ordered by exactly one cluster. It is
// deterministic: Assign depends only on the transaction and on what Learn has
// seen, and Learn is called with finalized blocks at epoch boundaries in
// height order. Calls are made from one goroutine.
type Partitioner interface {
	// Assign returns the cluster that orders tx. All transactions of one
	// sender map to the same cluster until Learn moves it.
	Assign(tx *Transaction) ClusterID
	// Learn updates locality from a finalized block.
	Learn(b *Block) error
	// Clusters returns how many clusters exist.
	Clusters() int
}

// PartitionerFactory builds partitioners for a number of clusters.
type PartitionerFactory interface {
	Plugin
	NewPartitioner(clusters int, params []byte) (Partitioner, error)
}

// ClusterResizer is what a PlacementLearner offers when it can place
// accounts in clusters opened after genesis: the galaxy tells it the new
// number of clusters when it folds a beacon that opens clusters
// (BeaconPayload.Opens), before the next relabelling, so that relabelling
// hands the new clusters their share of the accounts (as moves, migrated
// like any other). A learner without it keeps placing in the genesis
// clusters, and a new cluster owns only what later moves give it.
type ClusterResizer interface {
	SetClusters(k int)
}

// PlacementLearner is what a partitioner that learns locality offers the
// galaxy (see Partitioner's optional Learner method). The galaxy feeds it
// the edge samples (BlockMeta.Edges) of the cluster blocks each black hole
// finalizes, relabels it every RelabelEvery black holes, and publishes in
// its beacons, as account moves, where the learner's placement differs
// from the current one. Every galaxy member runs the same learner over the
// same finalized data and checks the published moves, so it must be
// deterministic: integer arithmetic and orders that depend on no map.
type PlacementLearner interface {
	// LearnEdges counts finalized transfers.
	LearnEdges(edges []Edge)
	// Relabel recomputes placement from everything learned, keyed by a
	// beacon nobody knew in advance.
	Relabel(key Hash)
	// Placed calls fn, in star order, for every account the learner has an
	// opinion on: its wanted cluster. Any star may be named (the ledgers
	// ignore moves of the hierarchy's own pseudo-accounts).
	Placed(fn func(star StarID, cluster ClusterID))
	// RelabelEvery is the relabelling period in black holes (>= 1).
	RelabelEvery() uint64
}

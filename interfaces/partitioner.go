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

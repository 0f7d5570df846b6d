package node

import (
	"fmt"

	"github.com/constellation-chain/constellation/interfaces"
)

// Chain is a committed chain a proof is built from: a cluster's, or the
// galaxy's (Cluster interfaces.GalaxyCluster).
type Chain struct {
	Store interface {
		TxHeight(id interfaces.Hash) (uint64, bool, error)
		Block(height uint64) (*interfaces.Block, error)
		Certificate(height uint64) ([]byte, error)
	}
	Cluster interfaces.ClusterID
}

// BuildProof assembles the proof that transaction id is final from the
// stores: the cluster chain that holds it, a certificate of its block, and
// a galaxy chain whose black hole includes that checkpoint.
func BuildProof(stores []Chain, id interfaces.Hash) (*interfaces.TxProof, error) {
	var (
		tx      *interfaces.Transaction
		blk     *interfaces.Block
		index   int
		cluster interfaces.ClusterID
	)
	for _, o := range stores {
		if o.Cluster == interfaces.GalaxyCluster {
			continue
		}
		h, ok, err := o.Store.TxHeight(id)
		if err != nil || !ok {
			continue
		}
		b, err := o.Store.Block(h)
		if err != nil {
			return nil, err
		}
		for i, t := range b.Txs {
			if t.ID() == id {
				tx, blk, index, cluster = t, b, i, o.Cluster
			}
		}
		break
	}
	if tx == nil {
		return nil, fmt.Errorf("transaction %s is in no cluster chain under the data directories", id.Short())
	}
	var cert []byte
	for _, o := range stores {
		if o.Cluster != cluster {
			continue
		}
		if c, err := o.Store.Certificate(blk.Header.Height); err == nil && c != nil {
			cert = c
			break
		}
	}
	if cert == nil {
		return nil, fmt.Errorf("transaction %s is in block %d of cluster %d, which no store holds a certificate of yet: not final", id.Short(), blk.Header.Height, cluster)
	}
	cpTx := interfaces.CheckpointTx(interfaces.Checkpoint(blk, cert))
	cpID := cpTx.ID()
	for _, o := range stores {
		if o.Cluster != interfaces.GalaxyCluster {
			continue
		}
		h, ok, err := o.Store.TxHeight(cpID)
		if err != nil || !ok {
			continue
		}
		bh, err := o.Store.Block(h)
		if err != nil {
			return nil, err
		}
		bhCert, err := o.Store.Certificate(h)
		if err != nil || bhCert == nil {
			continue
		}
		for i, t := range bh.Txs {
			if t.ID() == cpID {
				return &interfaces.TxProof{
					Tx:      tx,
					InBlock: interfaces.TxInclusion(blk, index),
					Finality: interfaces.Finality{
						Checkpoint:  t,
						InBlackHole: interfaces.TxInclusion(bh, i),
						BlackHole:   bh.Header,
						Certificate: bhCert,
					},
				}, nil
			}
		}
	}
	return nil, fmt.Errorf("transaction %s is in checkpoint %d of cluster %d, which no certified black hole under the data directories includes: not final (yet)", id.Short(), blk.Header.Height, cluster)
}

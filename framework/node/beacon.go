package node

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/constellation-chain/constellation/framework/group"
	"github.com/constellation-chain/constellation/framework/ledger"
	"github.com/constellation-chain/constellation/interfaces"
)

// Seed and selection. The galaxy's certificate of black hole n (a BLS
// threshold signature, unique for the galaxy's key and the black hole) is
// the selection beacon. The galaxy's reputation folds exactly the cluster
// blocks black holes 1..n finalized (their metadata, carried in the
// checkpoint transactions). Black hole n+1 publishes, in a TxBeacon, the
// signature and each cluster's next delegate set drawn from that state,
// seeded by the signature's hash. The proposers of black hole n fixed the
// state before the signature existed, and nobody can know the signature
// before f+1 members sign, so no proposer can choose contents that move
// the draw; the ledger of every member recomputes the draw and refuses a
// beacon that differs. Rotating to the published sets needs new keys (not
// built yet): the genesis delegates keep running.

// BeaconDomain separates the beacon (the hash of the signature) from every
// other hash; it is the one `constellation beacon` derives.
const BeaconDomain = "constellation/beacon/v1"

// Beaconer draws and checks the delegate sets a black hole publishes.
type Beaconer struct {
	h   *Hierarchy
	rep *group.Reputation
	// candidates are the stars that may be drawn: every genesis
	// delegate of every cluster, sorted.
	candidates []interfaces.StarID
}

// NewBeaconer returns the beaconer of a hierarchy whose galaxy reputation
// is rep; it makes rep fold, for each black hole, the cluster blocks it
// finalizes.
func NewBeaconer(h *Hierarchy, rep *group.Reputation) *Beaconer {
	b := &Beaconer{h: h, rep: rep.Expanding(FinalizedBlocks)}
	for _, c := range h.Clusters {
		b.candidates = append(b.candidates, c.Members...)
	}
	slices.SortFunc(b.candidates, interfaces.CompareStars)
	b.candidates = slices.Compact(b.candidates)
	return b
}

// Reputation returns the galaxy reputation the beaconer reads.
func (b *Beaconer) Reputation() *group.Reputation { return b.rep }

// FinalizedBlocks returns the cluster blocks a black hole finalizes, in
// its order, as far as the galaxy knows them: header and metadata.
func FinalizedBlocks(bh *interfaces.Block) []*interfaces.Block {
	var out []*interfaces.Block
	for _, tx := range bh.Txs {
		if tx.Kind != interfaces.TxCheckpoint {
			continue
		}
		cp, err := interfaces.DecodeCheckpointPayload(tx.Payload)
		if err != nil {
			continue // the ledger admitted it, so this cannot happen
		}
		out = append(out, &interfaces.Block{Header: cp.Header, Meta: cp.Meta})
	}
	return out
}

// Beacon returns the selection beacon of a certificate.
func Beacon(sig []byte) interfaces.Hash { return interfaces.DomainSum(BeaconDomain, sig) }

// Draw returns each cluster's next delegate set for the certificate sig of
// a black hole, from the reputation state as of that black hole: cluster
// by cluster, as many delegates as it has now, from the candidates not
// drawn for an earlier cluster, each draw seeded by the beacon and the
// cluster.
func (b *Beaconer) Draw(sig []byte) ([]interfaces.DelegateSet, error) {
	beacon := Beacon(sig)
	left := slices.Clone(b.candidates)
	var out []interfaces.DelegateSet
	for c, g := range b.h.Clusters {
		var cb [4]byte
		binary.BigEndian.PutUint32(cb[:], uint32(c))
		seed := interfaces.DomainSum("constellation/delegates/v1", beacon[:], cb[:])
		k := len(g.Members)
		if k > len(left) {
			return nil, fmt.Errorf("draw for cluster %d: %d candidates left, need %d", c, len(left), k)
		}
		set, err := b.rep.Select(left, k, seed)
		if err != nil {
			return nil, fmt.Errorf("draw for cluster %d: %w", c, err)
		}
		slices.SortFunc(set, interfaces.CompareStars)
		out = append(out, interfaces.DelegateSet{Cluster: interfaces.ClusterID(c), Members: set})
		left = slices.DeleteFunc(left, func(s interfaces.StarID) bool {
			_, in := slices.BinarySearchFunc(set, s, interfaces.CompareStars)
			return in
		})
	}
	return out, nil
}

// Verify is the galaxy ledger's rule for a beacon in the block after
// parent: it carries the galaxy's certificate of parent, and the sets the
// state as of parent draws with it.
func (b *Beaconer) Verify(parent ledger.Parent, p *interfaces.BeaconPayload) error {
	if p.Height != parent.Height {
		return fmt.Errorf("beacon of black hole %d after black hole %d", p.Height, parent.Height)
	}
	if err := b.h.VerifyBlackHoleHash(parent.Hash, p.Signature); err != nil {
		return fmt.Errorf("beacon of black hole %d: %w", p.Height, err)
	}
	want, err := b.Draw(p.Signature)
	if err != nil {
		return err
	}
	if !sameSets(want, p.Sets) {
		return fmt.Errorf("beacon of black hole %d publishes delegate sets the state does not draw", p.Height)
	}
	return nil
}

func sameSets(a, b []interfaces.DelegateSet) bool {
	return slices.EqualFunc(a, b, func(x, y interfaces.DelegateSet) bool {
		return x.Cluster == y.Cluster && slices.Equal(x.Members, y.Members)
	})
}

// beaconTx returns the beacon a galaxy member proposes right after it
// certified black hole bh with sig, or nil when the galaxy moved past bh
// already (the beacon would belong in a block that exists).
func (b *Beaconer) beaconTx(g *group.Group, bh *interfaces.Block, sig []byte) *interfaces.Transaction {
	if head, _ := g.Head(); head != bh.Header.Height {
		return nil
	}
	sets, err := b.Draw(sig)
	if err != nil {
		return nil
	}
	seq, _, err := g.ChainHead(interfaces.ClusterStar(interfaces.GalaxyCluster))
	if err != nil {
		return nil
	}
	return interfaces.BeaconTx(seq+1, interfaces.BeaconPayload{Height: bh.Header.Height, Signature: sig, Sets: sets})
}

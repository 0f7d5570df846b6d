package node_test

import (
	"slices"
	"testing"
	"time"

	"github.com/constellation-chain/constellation/interfaces"
)

// TestTheGalaxyRotatesAndKeepsItsKey runs the two-cluster network with
// rotation every 4 black holes (the galaxy's every 16) and the clusters'
// other delegates, c and d, as galaxy candidates: they keep the galaxy's
// chain with no genesis seat and stand for it. Once a candidate's score
// has reached the bar at three rotation beacons in a row it may be drawn,
// and a galaxy rotation beacon draws a set other than the genesis {a, b}:
// the members in force reshare the galaxy key to it through the galaxy's
// chain. After the handover the new members certify black holes under the
// genesis galaxy key, so both clusters' ledgers, which check black holes
// against that key, go on taking mint claims of later beacons; a transfer
// across clusters is credited, and supply adds up.
func TestTheGalaxyRotatesAndKeepsItsKey(t *testing.T) {
	if testing.Short() {
		t.Skip("runs galaxy key generations in a hierarchy")
	}
	tt := startTiersOpts(t, tiersOpts{members: tierMembers, every: 4, galaxyCandidates: []string{"c", "d"}})
	bob, _ := tt.payBob(t, "c", 9)
	genesis := tt.h.Galaxy.Members
	// The galaxy block that handed over to a set other than the genesis
	// one, as galaxy member a's chain holds it.
	handedAt := func() (uint64, []interfaces.StarID) {
		g := tt.node("a").GalaxyGroup()
		head, _ := g.Head()
		for h := uint64(1); h <= head; h++ {
			if b, err := g.Block(h); err == nil && b.Meta.Handover != nil && !slices.Equal(b.Meta.Handover.Members, genesis) {
				return h, b.Meta.Handover.Members
			}
		}
		return 0, nil
	}
	waitFor2(t, 3*time.Minute, "a galaxy handover to a set the rotation drew from its candidates", func() bool {
		h, _ := handedAt()
		return h > 0
	})
	at, members := handedAt()
	t.Logf("galaxy handed over at black hole %d to %d members", at, len(members))
	var newcomer string
	for _, nm := range []string{"c", "d"} {
		if slices.Contains(members, interfaces.DevStar(nm)) {
			newcomer = nm
		}
	}
	if newcomer == "" {
		t.Fatalf("the galaxy handed over to %v, none of them a candidate", members)
	}
	// Black holes go on after the handover, certified under the genesis
	// galaxy key, and the newcomer proposes some of them.
	waitFor(t, "black holes certified after the handover, proposed by the newcomer", func() bool {
		g := tt.node("a").GalaxyGroup()
		head, _ := g.Head()
		for h := at + 2; h <= head; h++ {
			b, err := g.Block(h)
			if err != nil || !slices.Contains(b.Meta.Proposers, interfaces.DevStar(newcomer)) {
				continue
			}
			cert, err := g.Store().Certificate(h)
			if err != nil || cert == nil {
				continue
			}
			if err := tt.h.VerifyBlackHole(&b.Header, cert); err != nil {
				t.Fatalf("black hole %d after the galaxy's handover does not verify under the genesis key: %v", h, err)
			}
			return true
		}
		return false
	})
	if k, _ := tt.node(newcomer).GalaxyGroup().Membership(); k == 0 {
		t.Fatalf("%s's galaxy group is still in its first membership epoch", newcomer)
	}
	// Both clusters' chains take mint claims proven by black holes the new
	// members certified.
	waitFor(t, "mint claims of beacons after the handover in both clusters", func() bool {
		for _, nm := range []string{"a", "b"} {
			claims, _ := committedOf(t, tt.node(nm).ClusterGroup(), interfaces.TxMint)
			late := false
			for _, tx := range claims {
				c, err := interfaces.DecodeMintClaim(tx.Payload)
				if err == nil && c.Beacon.BlackHole.Height > at+1 {
					late = true
				}
			}
			if !late {
				return false
			}
		}
		return true
	})
	waitFor2(t, 3*time.Minute, "bob credited, on both members of his cluster", func() bool {
		vb, errb := tt.nodes["b"].Balance(bob)
		vd, errd := tt.nodes["d"].Balance(bob)
		return errb == nil && errd == nil && vb == 509 && vd == 509
	})
	checkSupply(t, tt)
}

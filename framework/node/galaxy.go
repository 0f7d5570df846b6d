package node

import (
	"fmt"
	"slices"

	"github.com/constellation-chain/constellation/framework/group"
	"github.com/constellation-chain/constellation/interfaces"
)

// Galaxy membership. With rotation on and a consensus engine that can
// reshare a group key (interfaces.KeyResharer: honeybadger), the galaxy
// rotates like a cluster, at every GalaxyEveryRotations-th rotation beacon
// (Hierarchy.GalaxyPeriod; a galaxy key generation holds up every
// cluster's finality while it runs, so less often than the clusters), with
// one difference: its key never changes. Its members in force reshare the galaxy key to
// the next members through the galaxy's own chain (group.Rotation with
// Reshare), so every black hole's certificate verifies under the genesis
// galaxy key, and the clusters, light clients and proofs that check them
// need no chain of galaxy keys.
//
// Who may be drawn. A star stands for the galaxy by a join naming it
// (interfaces.MemberPayload with Cluster GalaxyCluster), which the galaxy's
// chain orders: it must keep that chain (a node with the galaxy-candidate
// role follows it) to deal and answer when drawn. The genesis members
// stand from the start. At every rotation beacon the registry compares
// each galaxy candidate's score (the galaxy reputation's, as of that black
// hole) with the bar, the median score of the stars standing for the
// clusters' seats, and counts how many rotation beacons in a row it was at
// or above it (its streak). The draw takes its seats, as many as the
// genesis galaxy has, from the candidates with a streak of at least
// GalaxyStreak, by the reputation's bucketed selection seeded by the
// beacon; while fewer than the seats qualify, the members in force are
// drawn from as well, so the galaxy never shrinks below its genesis size
// and never depends on stars that have not proven themselves.
//
// A drawn set equal to the members in force opens no key generation
// (group.Rotation.Reshare): the galaxy keeps its members and shares.

// GalaxyStreak is how many rotation beacons in a row a galaxy candidate's
// score must reach the bar before it may be drawn.
const GalaxyStreak = 3

// GalaxyEveryRotations is how many rotation beacons apart the galaxy
// rotates when Hierarchy.GalaxyEvery is 0.
const GalaxyEveryRotations = 4

// GalaxyPeriod is how many black holes apart the galaxy rotates (0: it
// does not).
func (h *Hierarchy) GalaxyPeriod() uint64 {
	switch {
	case !h.GalaxyRotates():
		return 0
	case h.GalaxyEvery > 0:
		return h.GalaxyEvery
	}
	return GalaxyEveryRotations * h.RotateEvery
}

// GalaxyRotates reports whether the galaxy rotates: rotation is on and the
// galaxy's engine can reshare its key.
func (h *Hierarchy) GalaxyRotates() bool {
	_, ok := h.Verifier.(interfaces.KeyResharer)
	return h.RotateEvery > 0 && ok
}

// GalaxyRotationDraw is the galaxy's rotation rule (group.Rotation.Draw):
// a black hole holding the beacon of a black hole whose height is a
// multiple of GalaxyPeriod opens a reshare to the galaxy set that beacon
// published.
func (h *Hierarchy) GalaxyRotationDraw(b *interfaces.Block) ([]interfaces.StarID, error) {
	every := h.GalaxyPeriod()
	if every == 0 {
		return nil, nil
	}
	var members []interfaces.StarID
	for _, tx := range b.Txs {
		if tx.Kind != interfaces.TxBeacon {
			continue
		}
		p, err := interfaces.DecodeBeaconPayload(tx.Payload)
		if err != nil {
			return nil, fmt.Errorf("black hole %d: %w", b.Header.Height, err)
		}
		if p.Height%every != 0 {
			continue
		}
		for _, s := range p.Sets {
			if s.Cluster == interfaces.GalaxyCluster {
				members = s.Members
			}
		}
	}
	return members, nil
}

// galaxyRotation is the galaxy's rotation with the engine's key generation
// gen, which must reshare.
func (h *Hierarchy) galaxyRotation(gen interfaces.KeyGenerator) group.Rotation {
	return group.Rotation{Draw: h.GalaxyRotationDraw, Generator: gen, Reshare: true, Members: h.Galaxy.Members, Key: h.Galaxy.Key}
}

// foldGalaxyCandidaciesLocked folds the galaxy joins and leaves black hole
// bh holds. A leave that would leave fewer candidates than the galaxy's
// genesis members is ignored, as a cluster's last candidate's is.
func (r *registry) foldGalaxyCandidaciesLocked(bh *interfaces.Block) {
	for _, tx := range bh.Txs {
		if tx.Kind != interfaces.TxMember {
			continue
		}
		p, err := interfaces.DecodeMemberPayload(tx.Payload)
		if err != nil || p.Cluster != interfaces.GalaxyCluster {
			continue // the ledger admitted it, so this cannot happen
		}
		switch p.Action {
		case interfaces.MemberJoin:
			r.galaxy[tx.Sender] = true
		case interfaces.MemberLeave:
			if len(r.galaxy) > len(r.seated[interfaces.GalaxyCluster]) {
				delete(r.galaxy, tx.Sender)
				delete(r.streak, tx.Sender)
			}
		}
	}
}

// foldStreaksLocked advances, at a rotation beacon, every galaxy
// candidate's streak against the bar (galaxyBarLocked).
func (r *registry) foldStreaksLocked() {
	if r.score == nil {
		return
	}
	bar := r.galaxyBarLocked()
	for s := range r.galaxy {
		if r.score(s) >= bar {
			r.streak[s]++
		} else {
			delete(r.streak, s)
		}
	}
}

// galaxyBarLocked is the median score of the stars standing for the
// clusters' seats (the lower middle one of an even count; 0 with none).
func (r *registry) galaxyBarLocked() interfaces.Score {
	scores := make([]interfaces.Score, 0, len(r.of))
	for s := range r.of {
		scores = append(scores, r.score(s))
	}
	if len(scores) == 0 {
		return 0
	}
	slices.Sort(scores)
	return scores[(len(scores)-1)/2]
}

// galaxyDrawable returns whom the galaxy's next set is drawn from, sorted:
// the candidates whose streak reached GalaxyStreak, and, while fewer than
// seats do, the members in force too.
func (r *registry) galaxyDrawable(seats int) []interfaces.StarID {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []interfaces.StarID
	for s := range r.galaxy {
		if r.streak[s] >= GalaxyStreak {
			out = append(out, s)
		}
	}
	if len(out) < seats {
		out = append(out, r.seated[interfaces.GalaxyCluster]...)
	}
	slices.SortFunc(out, interfaces.CompareStars)
	return slices.Compact(out)
}

// galaxyCandidates returns the stars standing for the galaxy, sorted, with
// their streaks.
func (r *registry) galaxyCandidates() ([]interfaces.StarID, map[interfaces.StarID]uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []interfaces.StarID
	for s := range r.galaxy {
		out = append(out, s)
	}
	slices.SortFunc(out, interfaces.CompareStars)
	streaks := make(map[interfaces.StarID]uint64, len(r.streak))
	for s, n := range r.streak {
		streaks[s] = n
	}
	return out, streaks
}

// GalaxyCandidates returns the stars standing for the galaxy as of the
// last black hole folded, sorted, and for each how many rotation beacons
// in a row its score reached the bar.
func (b *Beaconer) GalaxyCandidates() ([]interfaces.StarID, map[interfaces.StarID]uint64) {
	return b.reg.galaxyCandidates()
}

// drawGalaxy returns the galaxy's next set, drawn with beacon.
func (b *Beaconer) drawGalaxy(beacon interfaces.Hash) (interfaces.DelegateSet, error) {
	seats := len(b.h.Galaxy.Members)
	cands := b.reg.galaxyDrawable(seats)
	seed := interfaces.DomainSum("constellation/galaxy-delegates/v1", beacon[:])
	set, err := b.rep.Select(cands, min(seats, len(cands)), seed)
	if err != nil {
		return interfaces.DelegateSet{}, fmt.Errorf("draw for the galaxy: %w", err)
	}
	slices.SortFunc(set, interfaces.CompareStars)
	return interfaces.DelegateSet{Cluster: interfaces.GalaxyCluster, Members: set}, nil
}

package api

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/constellation-chain/constellation/interfaces"
)

// HealthReporter is implemented by a Backend that reports on the chains
// it keeps, for GET /v1/health.
type HealthReporter interface {
	// ChainHealth returns one view per chain the node keeps. Safe for
	// concurrent use.
	ChainHealth() []ChainView
}

// ChainView is what a node knows of one chain's progress and of its
// peers' heads.
type ChainView struct {
	Name     string
	Interval time.Duration // the chain's block interval
	Height   uint64
	Hash     interfaces.Hash
	// LastRise is when the height last rose (or when the node opened the
	// chain, if it has not committed since).
	LastRise time.Time
	// Peers are the stars to agree with; Heads what they announced
	// recently (several per peer, in any order).
	Peers []interfaces.StarID
	Heads []PeerHead
	// Refused counts blocks a quorum of peers vouched for that this
	// node's ledger refused; LastRefusal and RefusalReason describe the
	// last.
	Refused       uint64
	LastRefusal   time.Time
	RefusalReason string
	// HashAt returns the hash of this chain's block at a height at or
	// below Height.
	HashAt func(height uint64) (interfaces.Hash, error)
}

// PeerHead is one head a peer announced.
type PeerHead struct {
	Star   interfaces.StarID
	Height uint64
	Hash   interfaces.Hash
	At     time.Time
}

// Health is GET /v1/health.
type Health struct {
	Healthy bool   `json:"healthy"`
	Star    string `json:"star"`
	// Reasons are every check's reason when healthy, the failing checks'
	// when not, each prefixed with its chain.
	Reasons []string      `json:"reasons"`
	Chains  []ChainHealth `json:"chains"`
}

// ChainHealth is the checks of one chain.
type ChainHealth struct {
	Chain  string  `json:"chain"`
	Height uint64  `json:"height"`
	Hash   string  `json:"hash"`
	Checks []Check `json:"checks"`
}

// Check is one health condition: "height" (the height rose recently),
// "peers" (the head matches a majority of the peers') or "validation" (no
// block refused recently).
type Check struct {
	Check  string `json:"check"`
	OK     bool   `json:"ok"`
	Reason string `json:"reason"`
}

// RefusalMemory is how long a refused block keeps a node unhealthy.
const RefusalMemory = 5 * time.Minute

// RiseWindow is how recently a chain's height must have risen for the
// node to be healthy: 20 block intervals, and at least 5 s. Members
// propose every interval even with an empty pool, so a live chain grows
// about once per interval plus an epoch's latency; 20 intervals leave
// room for a slow epoch or a delegate handover without calling a stall
// healthy for long. The same window bounds how old a peer's announced
// head may be to count.
func RiseWindow(interval time.Duration) time.Duration {
	return max(20*interval, 5*time.Second)
}

// Assess checks every chain at now.
func Assess(self interfaces.StarID, now time.Time, views []ChainView) Health {
	h := Health{Healthy: true, Star: self.String(), Reasons: []string{}, Chains: []ChainHealth{}}
	var passed, failed []string
	if len(views) == 0 {
		h.Healthy = false
		h.Reasons = []string{"the node reports no chain"}
		return h
	}
	for _, v := range views {
		ch := ChainHealth{Chain: v.Name, Height: v.Height, Hash: v.Hash.String(),
			Checks: []Check{checkRise(v, now), checkPeers(v, now), checkValidation(v, now)}}
		for _, c := range ch.Checks {
			line := v.Name + ": " + c.Reason
			if c.OK {
				passed = append(passed, line)
			} else {
				h.Healthy = false
				failed = append(failed, line)
			}
		}
		h.Chains = append(h.Chains, ch)
	}
	if h.Healthy {
		h.Reasons = passed
	} else {
		h.Reasons = failed
	}
	return h
}

func checkRise(v ChainView, now time.Time) Check {
	win := RiseWindow(v.Interval)
	since := now.Sub(v.LastRise)
	if v.LastRise.IsZero() || since > win {
		return Check{Check: "height", Reason: fmt.Sprintf("height %d has not risen for %s (more than %s: 20 block intervals of %s, at least 5s)",
			v.Height, since.Round(time.Millisecond), win, v.Interval)}
	}
	return Check{Check: "height", OK: true, Reason: fmt.Sprintf("height %d, last risen %s ago (within %s)", v.Height, since.Round(time.Millisecond), win)}
}

func checkPeers(v ChainView, now time.Time) Check {
	if len(v.Peers) == 0 {
		return Check{Check: "peers", OK: true, Reason: "no peers to compare heads with (a chain of one member)"}
	}
	win := RiseWindow(v.Interval)
	byPeer := map[interfaces.StarID][]PeerHead{}
	for _, p := range v.Heads {
		if now.Sub(p.At) <= win {
			byPeer[p.Star] = append(byPeer[p.Star], p)
		}
	}
	var agree, silent, ahead int
	var conflicts []string
	for _, peer := range v.Peers {
		heads := byPeer[peer]
		if len(heads) == 0 {
			silent++
			continue
		}
		// The newest announcement at or below this node's height can be
		// compared with its own chain.
		slices.SortFunc(heads, func(a, b PeerHead) int { return a.At.Compare(b.At) })
		var at *PeerHead
		for i := len(heads) - 1; i >= 0; i-- {
			if heads[i].Height <= v.Height {
				at = &heads[i]
				break
			}
		}
		if at == nil {
			ahead++
			continue
		}
		ours := v.Hash
		if at.Height < v.Height {
			if v.HashAt == nil {
				ahead++ // cannot compare; counts for nothing
				continue
			}
			h, err := v.HashAt(at.Height)
			if err != nil {
				conflicts = append(conflicts, fmt.Sprintf("%s at %d: own block unreadable: %v", peer.Short(), at.Height, err))
				continue
			}
			ours = h
		}
		if ours == at.Hash {
			agree++
		} else {
			conflicts = append(conflicts, fmt.Sprintf("%s has %s at height %d, this node %s", peer.Short(), at.Hash.Short(), at.Height, ours.Short()))
		}
	}
	var detail []string
	if silent > 0 {
		detail = append(detail, fmt.Sprintf("%d silent for %s", silent, win))
	}
	if ahead > 0 {
		detail = append(detail, fmt.Sprintf("%d too far ahead to compare", ahead))
	}
	detail = append(detail, conflicts...)
	reason := fmt.Sprintf("head matches %d of %d peers", agree, len(v.Peers))
	if len(detail) > 0 {
		reason += " (" + strings.Join(detail, "; ") + ")"
	}
	ok := 2*agree > len(v.Peers)
	if !ok {
		reason += "; a majority must match"
	}
	return Check{Check: "peers", OK: ok, Reason: reason}
}

func checkValidation(v ChainView, now time.Time) Check {
	if v.Refused > 0 && now.Sub(v.LastRefusal) <= RefusalMemory {
		return Check{Check: "validation", Reason: fmt.Sprintf("refused %d blocks, the last %s ago: %s", v.Refused, now.Sub(v.LastRefusal).Round(time.Second), v.RefusalReason)}
	}
	if v.Refused > 0 {
		return Check{Check: "validation", OK: true, Reason: fmt.Sprintf("no block refused in the last %s (%d before)", RefusalMemory, v.Refused)}
	}
	return Check{Check: "validation", OK: true, Reason: "no block refused"}
}

func (s *server) getHealth(w http.ResponseWriter, r *http.Request) {
	var views []ChainView
	if hr, ok := s.b.(HealthReporter); ok {
		views = hr.ChainHealth()
	}
	h := Assess(s.b.Self(), s.opts.Now(), views)
	code := http.StatusOK
	if !h.Healthy {
		code = http.StatusServiceUnavailable
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, code, h)
}

package scalesim

import (
	"fmt"
	"slices"
	"strings"
)

// Population growth. The network starts as one Star Cluster and its
// candidates grow; the clusters open by the rule the galaxy applies
// (framework/node's registry): at every rotation, each cluster with more
// candidates than the bound splits, and a new cluster opens with half of
// them, rounded down. A joining star stands for the cluster with the
// fewest candidates (the lowest id among equals), as an operator would
// pick. Every cluster seats at most ClusterSize delegates, drawn from its
// candidates; a split leaves both halves at least bound/2 = ClusterSize of
// them (with the default bound), so every cluster runs with full seats and
// the throughput at a population is that of its number of clusters under
// the galaxy, which the experiment simulates.

// GrowthStep is the network at one population of the growth.
type GrowthStep struct {
	Population int // stars: candidates and the galaxy's members
	Candidates int
	Clusters   int
	// Rotations is how many rotations the splits took to settle after
	// the population reached this size (each splits every cluster over
	// the bound once).
	Rotations int
	// Smallest and Largest are the fewest and most candidates a cluster
	// holds once settled.
	Smallest, Largest int
}

// Grow follows the clusters as the population passes through pops
// (ascending), with a galaxy of galaxy members and clusters of at most
// above candidates.
func Grow(pops []int, galaxy, above int) ([]GrowthStep, error) {
	if above < 2 {
		return nil, fmt.Errorf("scalesim: a bound of %d candidates cannot split", above)
	}
	cands := []int{0} // one cluster, by id
	var out []GrowthStep
	total := 0
	for i, pop := range pops {
		if pop-galaxy < 1 || (i > 0 && pop < pops[i-1]) {
			return nil, fmt.Errorf("scalesim: population %d after %v (a galaxy of %d)", pop, pops[:i], galaxy)
		}
		for ; total < pop-galaxy; total++ {
			smallest := 0
			for c := range cands {
				if cands[c] < cands[smallest] {
					smallest = c
				}
			}
			cands[smallest]++
		}
		rotations := 0
		for slices.ContainsFunc(cands, func(n int) bool { return n > above }) {
			rotations++
			for c, n := range slices.Clone(cands) {
				if n > above {
					cands[c] = n - n/2
					cands = append(cands, n/2)
				}
			}
		}
		out = append(out, GrowthStep{Population: pop, Candidates: total, Clusters: len(cands), Rotations: rotations, Smallest: slices.Min(cands), Largest: slices.Max(cands)})
	}
	return out, nil
}

// growthSection writes the growth table.
func (r *Report) growthSection(b *strings.Builder) {
	p := r.Params
	if len(r.Growth) == 0 {
		return
	}
	fmt.Fprintf(b, "### Population growth\n\n")
	fmt.Fprintf(b, "The network starts as one cluster under a galaxy of %d and grows from %s to %s stars; at every rotation each cluster with more than %d candidates splits and a new cluster opens with half of them (the rule `rotation { max_candidates = %d }` runs, docs/hierarchy.md), a joining star standing for the cluster with the fewest. Each cluster seats %d delegates; the throughput at a population is the simulated galaxy over its clusters (the table above).\n\n",
		p.GalaxySize, num(float64(r.Growth[0].Population)), num(float64(r.Growth[len(r.Growth)-1].Population)), p.SplitAbove, p.SplitAbove, p.ClusterSize)
	b.WriteString("| stars | candidates | clusters | candidates per cluster | rotations to settle | committed tx/s | final tx/s | galaxy keeps up |\n|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, s := range r.Growth {
		g := r.galaxyOf(s.Clusters)
		if g == nil {
			continue
		}
		keeps := "yes"
		if !g.KeepsUp {
			keeps = "no"
		}
		fmt.Fprintf(b, "| %s | %s | %d | %d–%d | %d | %s | %s | %s |\n", num(float64(s.Population)), num(float64(s.Candidates)), s.Clusters, s.Smallest, s.Largest, s.Rotations, num(g.Committed), num(g.Final), keeps)
	}
	b.WriteString("\n")
}

// galaxyOf returns the galaxy run over k clusters, nil if none ran.
func (r *Report) galaxyOf(k int) *GalaxyRun {
	for _, g := range r.Galaxies {
		if g.K == k {
			return g
		}
	}
	return nil
}

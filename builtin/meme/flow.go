package meme

import (
	"cmp"
	"slices"
	"sort"

	"github.com/constellation-chain/constellation/interfaces"
)

// edgeKey names a directed interaction edge: from paid or called to.
type edgeKey struct{ from, to interfaces.StarID }

// edge aggregates every finalized interaction from one star to another.
type edge struct {
	// amount is the sum of Interaction.Amount as of round last, each
	// payment decayed by Config.Decay per round since it was made
	// (saturating, rounded down). capacity gives its value now: the flow
	// capacity of the edge, so vouching has to be kept up, not banked.
	amount uint64
	count  uint64 // number of interactions
	last   uint64 // round of the latest one (eviction order, decay reference)

	fromM, toM *meme // the endpoints' memes; an edge never outlives them
}

// capacity returns e's amount decayed to the current round. memo, if not
// nil, caches the decay factor by age across calls.
func (r *Reputation) capacity(e *edge, memo map[uint64]uint64) uint64 {
	age := r.round - e.last
	if e.last >= r.round || r.cfg.Decay == 0 {
		return e.amount
	}
	k, ok := memo[age]
	if !ok {
		k = powQ(q-r.cfg.Decay, age)
		if memo != nil {
			memo[age] = k
		}
	}
	return mulQ(e.amount, k)
}

// sortedEdges returns the edge keys ordered by (from, to).
func (r *Reputation) sortedEdges() []edgeKey {
	keys := make([]edgeKey, 0, len(r.edges))
	for k := range r.edges {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].from != keys[j].from {
			return keys[i].from.Less(keys[j].from)
		}
		return keys[i].to.Less(keys[j].to)
	})
	return keys
}

// evaluators returns, sorted, the stars whose view anchors the flow cap:
// the configured seeds, plus every star that was a member within the last
// EvaluatorWindow rounds, committed no fault in that window and holds at
// least EvaluatorTrust. The set is a function of the state alone, so every
// node computes the same one.
func (r *Reputation) evaluators() []interfaces.StarID {
	set := map[interfaces.StarID]bool{}
	for _, s := range r.cfg.Seeds {
		set[s] = true
	}
	for s, m := range r.stars {
		if r.evaluatesByMembership(m) {
			set[s] = true
		}
	}
	out := make([]interfaces.StarID, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	slices.SortFunc(out, interfaces.CompareStars)
	return out
}

// evaluatesByMembership reports whether m's star is an evaluator by its
// own record (rather than as a configured seed): a member within the last
// EvaluatorWindow rounds, with no fault in that window and at least
// EvaluatorTrust.
func (r *Reputation) evaluatesByMembership(m *meme) bool {
	w := r.cfg.EvaluatorWindow
	if m.lastMember == 0 || r.round-m.lastMember >= w {
		return false
	}
	if m.lastFault != 0 && r.round-m.lastFault < w {
		return false
	}
	return m.trust >= r.cfg.EvaluatorTrust
}

// recomputeFlow refreshes every star's NetFlow credit and admission credit.
//
// NetFlow (Otte, de Vos, Pouwelse, "TrustChain: A Sybil-resistant scalable
// blockchain", FGCS 2020) bounds what a node can gain from the interaction
// graph by the max-flow it receives from the evaluating nodes, so a Sybil
// region earns no more than the capacity of the few attack edges that join
// it to the honest region, however many identities and internal edges it
// fabricates. Here the capacity of edge u→v is what u paid v, decayed (see
// capacity): u vouching for v by paying it, recently. The flow network adds
// a super-source S with an arc of capacity EvaluatorBudget·FlowSaturation
// to every evaluator (so one evaluator, even a colluding one, can lift at
// most EvaluatorBudget stars to full credit) and a super-sink T with an arc
// of capacity FlowSaturation from every star that may claim credit. One
// max-flow S→T is computed and a star's credit is the flow on its arc to T,
// normalized to [0, 1]. Because all claimants share the one sink, a whole
// Sybil region shares its attack edges' capacity (the shared-budget
// refinement of the per-node bound, as in Levien's Advogato metric),
// instead of every Sybil receiving it afresh. Evaluators have full credit.
//
// Two flows run over the same graph, differing only in who claims:
//
//   - flow (the interaction feature): every non-evaluator claims;
//   - credit (admission through the newcomer quota): only newcomers and
//     stars admitted within the last AdmissionWindow rounds claim, so an
//     honest newcomer is not starved by thousands of established stars'
//     claims on its payers' capacity. The recently admitted claim first:
//     a max-flow to their sink arcs alone, then augmented with the
//     newcomers' sink arcs. Augmenting never lowers the flow into the sink
//     through an arc (a path ends at the sink the first time it reaches
//     it), so newcomers get only the capacity the admitted left over: the
//     capacity that vouched for a star stays spent for AdmissionWindow
//     rounds, and a Sybil region admits identities no faster than its
//     attack edges regain capacity.
//
// The max-flow is Dinic's algorithm over adjacency lists built in sorted
// star and edge order, so the flow found (not just its value) is the same
// everywhere. Cost is bounded: the graph holds at most MaxStars nodes and
// MaxEdges edges, at most FlowMaxPhases phases run, and each phase stops
// after flowWorkPerPhase·(V+E) arc inspections; a run cut short keeps the
// (valid, smaller) flow found so far, which only lowers credits.
func (r *Reputation) recomputeFlow() {
	for _, m := range r.stars {
		m.flow, m.credit = 0, 0
	}
	evals := r.evaluators()
	ids := r.sortedStars()
	isEval := make([]bool, len(ids))
	for i, s := range ids {
		r.stars[s].idx = int32(i)
	}
	for _, s := range evals {
		if m := r.stars[s]; m != nil {
			m.flow, m.credit = q, q
			isEval[m.idx] = true
		}
	}
	if len(evals) == 0 || len(r.edges) == 0 {
		return
	}
	// Arcs in (from index, to index) order — the sorted (from, to) StarID
	// order — by a counting sort on the source and a sort per source.
	start := make([]int, len(ids)+1)
	for _, e := range r.edges {
		start[e.fromM.idx+1]++
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	fill := append([]int(nil), start[:len(ids)]...)
	arcs := make([]flowArc, len(r.edges))
	memo := map[uint64]uint64{}
	for key, e := range r.edges {
		f := e.fromM.idx
		c := r.capacity(e, memo)
		if c == 0 {
			delete(r.edges, key) // decayed away: it vouches for nothing any more
		}
		arcs[fill[f]] = flowArc{to: e.toM.idx, cap: c} // a zero arc is skipped
		fill[f]++
	}
	for i := range ids {
		seg := arcs[start[i]:start[i+1]]
		slices.SortFunc(seg, func(a, b flowArc) int { return cmp.Compare(a.to, b.to) })
	}
	net := flowNet{isEval: isEval, start: start, arcs: arcs,
		budget: r.cfg.EvaluatorBudget * r.cfg.FlowSaturation, phases: r.cfg.FlowMaxPhases}

	sat := r.cfg.FlowSaturation
	flow := net.run(func(int) uint64 { return sat }, nil)
	// Admission: the recently admitted claim FlowSaturation first, then
	// newcomers claim only what eligibility needs.
	need := max(1, mulDivUp(sat, r.cfg.NewcomerMinCredit, q))
	newcomer := make([]bool, len(ids))
	admitted := make([]bool, len(ids))
	for i, s := range ids {
		m := r.stars[s]
		newcomer[i] = isNewcomer(m)
		admitted[i] = !newcomer[i] && r.round-m.firstMember < r.cfg.AdmissionWindow
	}
	credit := net.run(func(i int) uint64 {
		if admitted[i] {
			return sat
		}
		return 0
	}, func(i int) uint64 {
		if newcomer[i] {
			return need
		}
		return 0
	})
	for i, s := range ids {
		m := r.stars[s]
		if f := flow[i]; f.claim > 0 {
			m.flow = ratioQ(f.flow, f.claim)
		}
		if c := credit[i]; c.claim > 0 {
			m.credit = ratioQ(c.flow, c.claim)
		}
	}
}

// flowArc is an interaction edge in the flow network: its head's index in
// StarID order and its capacity.
type flowArc struct {
	to  int32
	cap uint64
}

// flowNet is the flow network of one recomputation: stars by index in
// StarID order, which of them are evaluators, and their outgoing arcs
// (arcs[start[i]:start[i+1]], sorted by head).
type flowNet struct {
	isEval []bool
	start  []int
	arcs   []flowArc
	budget uint64 // capacity of S → each evaluator
	phases uint64
}

// sinkFlow is a claimant's sink arc: its capacity (0: no claim) and the
// flow through it.
type sinkFlow struct{ claim, flow uint64 }

// run computes a max-flow in which every non-evaluator claims first(i)
// units (0: no claim) through an arc to the sink; then, if second is set,
// every non-evaluator without a first claim claims second(i) and the flow
// is augmented. It returns each star's claim and the flow through it.
func (n *flowNet) run(first, second func(i int) uint64) []sinkFlow {
	const inf = uint64(1) << 62
	stars := len(n.isEval)
	g := newFlowGraph(stars+2, len(n.arcs)+2*stars)
	for i := range stars {
		if n.isEval[i] {
			g.addArc(0, i+2, n.budget)
		}
	}
	for i := range stars {
		for _, a := range n.arcs[n.start[i]:n.start[i+1]] {
			if !n.isEval[a.to] && a.cap > 0 {
				g.addArc(i+2, int(a.to)+2, minU(a.cap, inf))
			}
		}
	}
	sinkArc := make([]int, stars)
	out := make([]sinkFlow, stars)
	for _, claim := range []func(int) uint64{first, second} {
		if claim == nil {
			continue
		}
		added := false
		for i := range stars {
			if c := claim(i); c > 0 && !n.isEval[i] && out[i].claim == 0 {
				sinkArc[i] = g.addArc(i+2, 1, c)
				out[i].claim = c
				added = true
			}
		}
		if added {
			g.maxFlow(0, 1, n.phases)
		}
	}
	for i := range out {
		if out[i].claim > 0 {
			out[i].flow = g.flowOn(sinkArc[i])
		}
	}
	return out
}

// flowWorkPerPhase bounds the arc inspections of one Dinic phase to this
// multiple of the graph's size.
const flowWorkPerPhase = 32

// flowGraph is a residual graph for Dinic's max-flow. Arcs are stored in
// pairs (forward at even index, reverse at odd) in insertion order.
type flowGraph struct {
	head  []int // first arc of each node, -1 if none
	next  []int
	to    []int
	cap   []uint64 // residual capacity
	orig  []uint64 // original capacity of forward arcs
	level []int
	iter  []int
	queue []int  // BFS scratch
	work  uint64 // arc inspections left in this phase
}

func newFlowGraph(n, arcs int) *flowGraph {
	g := &flowGraph{head: make([]int, n), level: make([]int, n), iter: make([]int, n)}
	for i := range g.head {
		g.head[i] = -1
	}
	g.next = make([]int, 0, 2*arcs)
	g.to = make([]int, 0, 2*arcs)
	g.cap = make([]uint64, 0, 2*arcs)
	g.orig = make([]uint64, 0, 2*arcs)
	return g
}

// addArc adds u→v with capacity c and returns the forward arc's index.
// Arcs are prepended to a node's list, so the traversal order is the
// reverse of insertion order — still a fixed, state-determined order.
func (g *flowGraph) addArc(u, v int, c uint64) int {
	id := len(g.to)
	g.to = append(g.to, v, u)
	g.cap = append(g.cap, c, 0)
	g.orig = append(g.orig, c, 0)
	g.next = append(g.next, g.head[u], g.head[v])
	g.head[u] = id
	g.head[v] = id + 1
	return id
}

// flowOn returns the flow pushed through forward arc a.
func (g *flowGraph) flowOn(a int) uint64 { return g.orig[a] - g.cap[a] }

// maxFlow runs at most maxPhases Dinic phases from s to t.
func (g *flowGraph) maxFlow(s, t int, maxPhases uint64) uint64 {
	var total uint64
	budget := flowWorkPerPhase * uint64(len(g.head)+len(g.to))
	for phase := uint64(0); phase < maxPhases; phase++ {
		if !g.bfs(s, t) {
			break
		}
		copy(g.iter, g.head)
		g.work = budget
		for g.work > 0 {
			f := g.dfs(s, t, ^uint64(0))
			if f == 0 {
				break
			}
			total = addSat(total, f)
		}
		if g.work == 0 {
			break
		}
	}
	return total
}

// bfs labels nodes with their distance from s in the residual graph and
// reports whether t is reachable. Nodes at t's distance or beyond are not
// expanded: no shortest augmenting path passes through them.
func (g *flowGraph) bfs(s, t int) bool {
	for i := range g.level {
		g.level[i] = -1
	}
	g.level[s] = 0
	queue := append(g.queue[:0], s)
	for i := 0; i < len(queue); i++ {
		u := queue[i]
		if lt := g.level[t]; lt >= 0 && g.level[u]+1 >= lt {
			break // BFS order: every later node is at least as far
		}
		for a := g.head[u]; a >= 0; a = g.next[a] {
			if v := g.to[a]; g.cap[a] > 0 && g.level[v] < 0 {
				g.level[v] = g.level[u] + 1
				queue = append(queue, v)
			}
		}
	}
	g.queue = queue
	return g.level[t] >= 0
}

// dfs finds one augmenting path in the level graph with current-arc
// pointers and pushes up to limit along it.
func (g *flowGraph) dfs(u, t int, limit uint64) uint64 {
	if u == t {
		return limit
	}
	for ; g.iter[u] >= 0; g.iter[u] = g.next[g.iter[u]] {
		if g.work == 0 {
			return 0
		}
		g.work--
		a := g.iter[u]
		v := g.to[a]
		if g.cap[a] == 0 || g.level[v] != g.level[u]+1 {
			continue
		}
		if f := g.dfs(v, t, minU(limit, g.cap[a])); f > 0 {
			g.cap[a] -= f
			g.cap[a^1] += f
			return f
		}
	}
	return 0
}

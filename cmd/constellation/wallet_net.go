package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/constellation-chain/constellation/framework/api"
	"github.com/constellation-chain/constellation/framework/manifest"
	"github.com/constellation-chain/constellation/interfaces"
)

// walletNode is a node API the wallet may ask.
type walletNode struct {
	name string // the manifest's node name, or "--api"
	addr string
	// cluster is the Star Cluster the manifest makes the node keep, -1
	// when it keeps none or the manifest does not say.
	cluster int
	galaxy  bool
	cl      *api.Client
}

func (n *walletNode) String() string {
	if n.name == "" {
		return n.addr
	}
	return n.name + " (" + n.addr + ")"
}

// walletNet is where the wallet finds the nodes of a network: --api
// first, then the manifest's nodes.
type walletNet struct {
	nodes []*walletNode
	// fromManifest names the manifest the nodes after the first come
	// from ("" when --api alone was given).
	fromManifest string
	// discover is set when --api alone was given: the wallet then asks
	// that node for the network's other nodes (GET /v1/network) once it
	// is misdirected.
	discover bool
}

// newWalletNet lists the nodes to ask: the --api node (when given) and
// the manifest's nodes with an api address. With --api and no
// --manifest, only the --api node: the embedded default manifest's
// nodes might belong to another network.
func newWalletNet(apiAddr, manifestPath string) (*walletNet, error) {
	w := &walletNet{}
	if apiAddr != "" {
		if _, _, err := splitHostPort(apiAddr); err != nil {
			return nil, err
		}
		w.nodes = append(w.nodes, &walletNode{addr: apiAddr, cluster: -1, cl: api.NewClient(apiAddr)})
		if manifestPath == "" {
			w.discover = true
			return w, nil
		}
	}
	m, diags := manifest.ParseDefault()
	if manifestPath != "" {
		m, diags = manifest.LoadFile(manifestPath)
	}
	if diags.HasErrors() {
		return nil, fmt.Errorf("manifest %s: %s (constellation manifest validate %s shows where)", manifestPath, diags.Error(), manifestPath)
	}
	w.fromManifest = m.Filename
	for i := range m.Nodes {
		mn := &m.Nodes[i]
		if mn.API == "" {
			continue
		}
		if len(w.nodes) > 0 && w.nodes[0].addr == mn.API {
			w.nodes[0].name = mn.Name
			w.nodes[0].cluster, w.nodes[0].galaxy = manifestCluster(mn), mn.KeepsGalaxy()
			continue
		}
		w.nodes = append(w.nodes, &walletNode{name: mn.Name, addr: mn.API, cluster: manifestCluster(mn), galaxy: mn.KeepsGalaxy(), cl: api.NewClient(mn.API)})
	}
	if len(w.nodes) == 0 {
		return nil, fmt.Errorf("manifest %s names no node with an api address; give one with --api HOST:PORT", m.Filename)
	}
	return w, nil
}

func manifestCluster(mn *manifest.Node) int {
	if mn.KeepsCluster() {
		return int(mn.Cluster)
	}
	return -1
}

func splitHostPort(addr string) (string, int, error) {
	i := strings.LastIndexByte(addr, ':')
	if i <= 0 {
		return "", 0, fmt.Errorf("--api %q: want HOST:PORT, e.g. 127.0.0.1:8001", addr)
	}
	port, err := strconv.Atoi(addr[i+1:])
	if err != nil || port < 1 || port > 65535 {
		return "", 0, fmt.Errorf("--api %q: want HOST:PORT with a port of 1 to 65535", addr)
	}
	return addr[:i], port, nil
}

// ownerHint reads the cluster a 421 answer names ("… belongs to cluster 1").
var ownerHint = regexp.MustCompile(`belongs to cluster (\d+)`)

// located is a node that keeps an account's chain, and how it was found.
type located struct {
	node    *walletNode
	account api.Account
	// cluster is the cluster whose chain answered (-1 for a network of
	// one cluster), from the node's own status.
	cluster int
	// redirects lists the nodes that answered 421 on the way.
	redirects []string
}

func (l *located) where() string {
	s := "answered by " + l.node.String()
	if l.cluster >= 0 {
		s = fmt.Sprintf("cluster %d %s", l.cluster, s)
	}
	if len(l.redirects) > 0 {
		s += "; followed 421 from " + strings.Join(l.redirects, ", ")
	}
	return s
}

// locate finds a node that keeps star's account and reads the account
// there. A node that keeps another cluster's chain answers 421 Misdirected
// Request naming the owner's cluster; locate then asks the nodes the
// manifest puts in that cluster first, then every other.
func (w *walletNet) locate(ctx context.Context, star interfaces.StarID) (*located, error) {
	queue := slices.Clone(w.nodes)
	var redirects, failures []string
	owner := -1
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		acct, err := n.cl.Account(ctx, star)
		if err == nil {
			l := &located{node: n, account: acct, cluster: -1, redirects: redirects}
			if st, err := n.cl.Status(ctx); err == nil && st.Tiers != nil {
				l.cluster = st.Tiers.Cluster
			}
			return l, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("read account %s: %w", star, ctx.Err())
		}
		var ae *api.Error
		if errors.As(err, &ae) && ae.Status == http.StatusMisdirectedRequest {
			redirects = append(redirects, n.String())
			if w.discover {
				w.discover = false
				queue = append(queue, w.discoverFrom(ctx, n)...)
			}
			if m := ownerHint.FindStringSubmatch(ae.Message); m != nil {
				owner, _ = strconv.Atoi(m[1])
				// The nodes the manifest puts in the owner's cluster first.
				slices.SortStableFunc(queue, func(a, b *walletNode) int {
					return boolRank(a.cluster == owner) - boolRank(b.cluster == owner)
				})
			}
			continue
		}
		failures = append(failures, fmt.Sprintf("%s: %s", n, shortErr(err)))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "no node answered for account %s", star)
	if owner >= 0 {
		fmt.Fprintf(&b, " (it belongs to cluster %d)", owner)
	}
	if len(redirects) > 0 {
		fmt.Fprintf(&b, "; these keep another cluster's chain: %s", strings.Join(redirects, ", "))
	}
	if len(failures) > 0 {
		fmt.Fprintf(&b, "; failed: %s", strings.Join(failures, "; "))
	}
	if w.fromManifest == "" {
		if len(redirects) > 0 {
			b.WriteString("; give --manifest FILE so the wallet can look for the node that keeps it, or --api of a node of its cluster")
		}
	} else {
		fmt.Fprintf(&b, "; is the network of %s running?", w.fromManifest)
		if w.fromManifest == manifest.DefaultFilename {
			b.WriteString(" (constellation testnet starts it)")
		}
	}
	return nil, errors.New(b.String())
}

// networkNodes is the part of GET /v1/network the wallet reads: the
// nodes of the answering node's manifest. Nodes that serve no such route
// answer 404 and the wallet does without.
type networkNodes struct {
	Nodes []struct {
		Name    string   `json:"name"`
		API     string   `json:"api"`
		Roles   []string `json:"roles"`
		Cluster int      `json:"cluster"`
	} `json:"nodes"`
}

// discoverFrom asks n for the network's nodes and adds those not listed
// yet; it returns them.
func (w *walletNet) discoverFrom(ctx context.Context, n *walletNode) []*walletNode {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.cl.Base+"/v1/network", nil)
	if err != nil {
		return nil
	}
	resp, err := n.cl.HTTP.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var nn networkNodes
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&nn) != nil {
		return nil
	}
	var added []*walletNode
	for _, x := range nn.Nodes {
		if x.API == "" || slices.ContainsFunc(w.nodes, func(y *walletNode) bool { return y.addr == x.API }) {
			continue
		}
		if _, _, err := splitHostPort(x.API); err != nil {
			continue
		}
		wn := &walletNode{name: x.Name, addr: x.API, cluster: x.Cluster, galaxy: slices.Contains(x.Roles, manifest.RoleGalaxy) || slices.Contains(x.Roles, manifest.RoleGalaxyCandidate), cl: api.NewClient(x.API)}
		w.nodes = append(w.nodes, wn)
		added = append(added, wn)
	}
	return added
}

// shortErr says why a request failed, without the URL (the node is
// named already).
func shortErr(err error) string {
	var ae *api.Error
	switch {
	case errors.As(err, &ae):
		return ae.Error()
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

func boolRank(b bool) int {
	if b {
		return 0
	}
	return 1
}

// galaxyNodes returns the nodes that may keep the galaxy's chain: first
// n itself, then those the manifest makes galaxy members, then the rest.
func (w *walletNet) galaxyNodes(n *walletNode) []*walletNode {
	out := []*walletNode{n}
	rest := []*walletNode{}
	for _, x := range w.nodes {
		switch {
		case x == n:
		case x.galaxy:
			out = append(out, x)
		default:
			rest = append(rest, x)
		}
	}
	return append(out, rest...)
}

// progress prints the stages of a submitted transaction with the time
// since submission.
type progress struct {
	w     io.Writer
	start time.Time
}

func (p *progress) say(format string, args ...any) {
	fmt.Fprintf(p.w, "[%5.1fs] %s\n", time.Since(p.start).Seconds(), fmt.Sprintf(format, args...))
}

// waitFinal follows tx from the pool of loc's node to its block and, in a
// hierarchical network, to the black hole that finalizes that block,
// printing each stage, for at most wait.
func (w *walletNet) waitFinal(ctx context.Context, p *progress, loc *located, tx *interfaces.Transaction, wait time.Duration) error {
	id := tx.ID()
	cl := loc.node.cl
	deadline := p.start.Add(wait)
	late := func(stage string) error {
		return fmt.Errorf("tx %s was submitted but not %s within --wait %s; it may still be: see constellation wallet history, or GET /v1/txs/%s on %s",
			id, stage, wait, id, loc.node.addr)
	}
	// Committed: the node's chains hold it.
	var rec api.TxRecord
	lastNote := time.Now()
	resend := time.Now().Add(resubmitEvery)
	for {
		r, err := cl.Tx(ctx, id)
		if err == nil {
			rec = r
			break
		}
		var ae *api.Error
		if errors.As(err, &ae) && ae.Status == http.StatusNotFound && time.Now().After(resend) {
			cl.Submit(ctx, tx) // gossiped again (memberAction says why)
			resend = time.Now().Add(resubmitEvery)
		}
		if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
			// The node's pool may have dropped it for good, and says why.
			if ts, err := cl.TxStatus(ctx, id); err == nil && ts.Status == api.TxDropped {
				return fmt.Errorf("tx %s will not commit: %s dropped it: %s", id, loc.node, ts.Reason)
			}
			// Another transaction of the account's may have taken the
			// sequence number (a second send at the same time): then this
			// one can never commit.
			if a, err := cl.Account(ctx, tx.Sender); err == nil && a.Seq >= tx.Seq && a.Last != id.String() {
				if _, err := cl.Tx(ctx, id); errors.As(err, &ae) && ae.Status == http.StatusNotFound {
					return fmt.Errorf("tx %s will not commit: the account's chain is at seq %d (last tx %s) without it; another transaction took seq %d (a second send from this keystore?)", id, a.Seq, shortHex(a.Last), tx.Seq)
				}
			}
		}
		if !errors.As(err, &ae) || ae.Status != http.StatusNotFound {
			if time.Since(lastNote) > 5*time.Second {
				p.say("still waiting for a block (%s: %v)", loc.node, err)
				lastNote = time.Now()
			}
		} else if time.Since(lastNote) > 5*time.Second {
			if st, err := cl.Status(ctx); err == nil {
				p.say("still waiting for a block: %s at height %d, pool %d", loc.node.name, st.Height, st.Pool)
			}
			lastNote = time.Now()
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return late("committed")
		}
		sleepCtx(ctx, 200*time.Millisecond)
	}
	p.say("committed in %s block %d (%s)", rec.Chain, rec.Height, shortHex(rec.Block))
	st, err := cl.Status(ctx)
	if err != nil {
		return fmt.Errorf("tx %s is committed in %s block %d, but its finality is unknown: %s: %w", id, rec.Chain, rec.Height, loc.node, err)
	}
	if st.Tiers == nil {
		p.say("final: a network of one cluster has no galaxy above it; a committed block is final")
		return nil
	}
	cluster, ok := chainCluster(rec.Chain)
	if !ok {
		p.say("final: %s is the galaxy's chain", rec.Chain)
		return nil
	}
	// Finalized: a black hole includes a checkpoint of the cluster at or
	// above the block.
	lastNote = time.Now()
	for st.Tiers.Finalized < rec.Height {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return late(fmt.Sprintf("finalized (cluster %d finalized up to block %d, the tx is in block %d)", cluster, st.Tiers.Finalized, rec.Height))
		}
		if time.Since(lastNote) > 2*time.Second {
			p.say("waiting for a black hole: cluster %d finalized up to block %d of %d, newest black hole %d", cluster, st.Tiers.Finalized, rec.Height, st.Tiers.BlackHoles)
			lastNote = time.Now()
		}
		sleepCtx(ctx, 200*time.Millisecond)
		if s, err := cl.Status(ctx); err == nil && s.Tiers != nil {
			st = s
		}
	}
	if b, g, ok := w.finalizingBlackHole(ctx, loc.node, cluster, rec.Height, st.Tiers.BlackHoles); ok {
		p.say("finalized in black hole %d (galaxy, read from %s)", b, g)
	} else {
		p.say("finalized: black hole %d or an earlier one includes cluster %d's block %d", st.Tiers.BlackHoles, cluster, rec.Height)
	}
	return nil
}

// finalizingBlackHole finds the first black hole that includes a
// checkpoint of cluster at or above height, searching down from newest on
// a galaxy member.
func (w *walletNet) finalizingBlackHole(ctx context.Context, from *walletNode, cluster int, height, newest uint64) (uint64, *walletNode, bool) {
	for _, g := range w.galaxyNodes(from) {
		if _, err := g.cl.BlackHole(ctx, 1); err != nil {
			continue // no galaxy member, or down
		}
		var found uint64
		for b, steps := newest, 0; b >= 1 && steps < 256; b, steps = b-1, steps+1 {
			bh, err := g.cl.BlackHole(ctx, b)
			if err != nil {
				continue // above this member's head
			}
			top, seen := uint64(0), false
			for _, cp := range bh.Checkpoints {
				if int(cp.Cluster) == cluster {
					top, seen = max(top, cp.Height), true
				}
			}
			if seen && top < height {
				break
			}
			if seen {
				found = b
			}
		}
		if found > 0 {
			return found, g, true
		}
	}
	return 0, nil, false
}

// chainCluster reads "cluster/N".
func chainCluster(chain string) (int, bool) {
	s, ok := strings.CutPrefix(chain, "cluster/")
	if !ok {
		return 0, false
	}
	c, err := strconv.Atoi(s)
	return c, err == nil
}

func shortHex(s string) string {
	if len(s) > 8 {
		return s[:8]
	}
	return s
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

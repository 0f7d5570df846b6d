package manifest

import (
	"encoding/hex"
	"fmt"
	"math"
	"math/bits"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/constellation-chain/constellation/interfaces"
)

const (
	exampleNetwork = `network "devnet" {
  genesis {
    seed = "constellation-devnet"
    allocation {
      star   = "dev:faucet"
      amount = 1000000000000
    }
  }
}`
	hintStar = `Write "ed25519:<64 hex digits>" (the public key printed by "constellation keygen"), or "dev:<name>" on a development network.`
)

// build turns the gohcl-decoded structs into m, checking every value.
// missing is where to report things absent from the whole file.
func (m *Manifest) build(raw *rawFile, missing hcl.Range) hcl.Diagnostics {
	var diags hcl.Diagnostics
	anchor := missing
	if len(raw.Networks) == 0 {
		diags = append(diags, errDiag(missing, "Missing network block",
			"A manifest describes exactly one network. Add a network block, e.g.\n\n"+exampleNetwork))
	} else {
		anchor = raw.Networks[0].DefRange
		for _, extra := range raw.Networks[1:] {
			diags = append(diags, errDiag(extra.DefRange, "Duplicate network block",
				fmt.Sprintf("A manifest describes exactly one network, and one was already declared at %s. "+
					"Remove this block or move it to its own manifest.", raw.Networks[0].DefRange)))
		}
		diags = append(diags, m.buildNetwork(raw.Networks[0])...)
	}
	diags = append(diags, m.buildNodes(raw.Nodes, anchor)...)
	diags = append(diags, m.buildPlugins(raw.Plugins, anchor)...)
	return diags
}

func (m *Manifest) buildNetwork(rn *rawNetwork) hcl.Diagnostics {
	var diags hcl.Diagnostics
	n := &m.Network
	n.Name, n.DeclRange = rn.Name, rn.DefRange
	if !validName(rn.Name) {
		diags = append(diags, errDiag(rn.NameRange, "Invalid network name",
			fmt.Sprintf("%q cannot name a network. %s", rn.Name, nameRule)))
	}
	if rn.Clusters != nil {
		// The number of clusters follows from the nodes; a second place
		// to say it could only disagree.
		diags = append(diags, errDiag(rn.Clusters.Expr.Range(), "Unsupported argument",
			"The number of Star Clusters follows from the nodes: give each delegate `cluster = N` (0, 1, …) beside roles = [\"star\", \"cluster\"]. Remove `clusters`."))
	}
	n.Dev = strings.HasPrefix(strings.ToLower(rn.Name), "dev")
	if rn.Dev != nil {
		dev, d := boolValue(rn.Dev.Expr, "dev")
		diags = append(diags, d...)
		if !d.HasErrors() {
			n.Dev = dev
		}
	}
	if rn.Genesis == nil {
		return append(diags, errDiag(rn.DefRange, "Missing genesis block",
			"The network needs a genesis block with at least a seed. For example:\n\n"+exampleNetwork))
	}
	return append(diags, m.buildGenesis(rn.Genesis)...)
}

func (m *Manifest) buildGenesis(rg *rawGenesis) hcl.Diagnostics {
	var diags hcl.Diagnostics
	g := &m.Network.Genesis
	if rg.Seed == nil {
		diags = append(diags, errDiag(rg.DefRange, "Missing seed",
			`The genesis block needs a seed: the value the first block chains from. Add e.g. seed = "my-network-1"; `+
				`different networks must use different seeds.`))
	} else {
		s, d := stringValue(rg.Seed.Expr, "seed", `Write e.g. seed = "my-network-1".`)
		diags = append(diags, d...)
		if !d.HasErrors() && s == "" {
			diags = append(diags, errDiag(rg.Seed.Expr.Range(), "Empty seed",
				`The genesis seed must not be empty; write e.g. seed = "my-network-1".`))
		}
		if len(s) > MaxSeedLen {
			diags = append(diags, errDiag(rg.Seed.Expr.Range(), "Seed too long",
				fmt.Sprintf("The genesis seed has %d bytes; at most %d are allowed. A short name is enough.", len(s), MaxSeedLen)))
		}
		g.Seed = s
	}
	if rg.Timestamp != nil {
		ts, d := intValue(rg.Timestamp.Expr, "timestamp", 0, math.MaxInt64,
			"It is the genesis time in unix milliseconds, e.g. 1767225600000 for 2026-01-01T00:00:00Z.")
		diags = append(diags, d...)
		g.Timestamp = ts
	}

	for i, rm := range rg.Mint {
		if i > 0 {
			diags = append(diags, errDiag(rm.DefRange, "Duplicate mint block",
				fmt.Sprintf("genesis has one mint block, and one was already declared at %s.", rg.Mint[0].DefRange)))
			continue
		}
		g.Mint.Range = rm.DefRange
		for _, f := range []struct {
			attr *hcl.Attribute
			name string
			dst  *uint64
			hint string
		}{
			{rm.Reward, "reward", &g.Mint.Reward, "noOs minted at the first black hole, e.g. reward = 1000."},
			{rm.Halving, "halving", &g.Mint.Halving, "black holes after which the reward halves, e.g. halving = 10000."},
			{rm.Until, "until", &g.Mint.Until, "the last black hole that mints, e.g. until = 100000."},
		} {
			if f.attr == nil {
				diags = append(diags, errDiag(rm.DefRange, "Missing "+f.name, "The mint block needs "+f.name+": "+f.hint))
				continue
			}
			v, d := uintValue(f.attr.Expr, f.name, f.hint)
			diags = append(diags, d...)
			*f.dst = v
		}
	}

	for i, rr := range rg.Rotation {
		if i > 0 {
			diags = append(diags, errDiag(rr.DefRange, "Duplicate rotation block",
				fmt.Sprintf("genesis has one rotation block, and one was already declared at %s.", rg.Rotation[0].DefRange)))
			continue
		}
		g.Rotation = Rotation{Every: DefaultRotationEvery, Range: rr.DefRange}
		if rr.Every != nil {
			v, d := uintValue(rr.Every.Expr, "every", "black holes between rotations, e.g. every = 16.")
			diags = append(diags, d...)
			g.Rotation.Every = v
		}
		if rr.Seats != nil {
			v, d := uintValue(rr.Seats.Expr, "seats", "delegates each cluster draws at a rotation, e.g. seats = 4.")
			diags = append(diags, d...)
			if !d.HasErrors() && v > MaxSeats {
				diags = append(diags, errDiag(rr.Seats.Expr.Range(), "Too many seats",
					fmt.Sprintf("seats = %d; a cluster draws at most %d delegates.", v, MaxSeats)))
			}
			g.Rotation.Seats = v
		}
		if rr.MaxCands != nil {
			v, d := uintValue(rr.MaxCands.Expr, "max_candidates", "candidates a cluster may hold before it splits, e.g. max_candidates = 8.")
			diags = append(diags, d...)
			switch {
			case d.HasErrors():
			case rr.Seats == nil:
				diags = append(diags, errDiag(rr.MaxCands.Expr.Range(), "Split without seats",
					"max_candidates splits a cluster into two that each draw `seats` delegates; name them: seats = 4."))
			case v < 2*g.Rotation.Seats:
				diags = append(diags, errDiag(rr.MaxCands.Expr.Range(), "Bound below two clusters' seats",
					fmt.Sprintf("max_candidates = %d, and a split leaves both clusters enough candidates for their %d seats only from %d on.", v, g.Rotation.Seats, 2*g.Rotation.Seats)))
			}
			g.Rotation.MaxCandidates = v
		}
		if rr.MinCands != nil {
			v, d := uintValue(rr.MinCands.Expr, "min_candidates", "candidates below which an opened cluster merges back, e.g. min_candidates = 4.")
			diags = append(diags, d...)
			switch {
			case d.HasErrors():
			case rr.MaxCands == nil:
				diags = append(diags, errDiag(rr.MinCands.Expr.Range(), "Merge without splits",
					"min_candidates merges back clusters that opened when others split; name the split bound too: max_candidates = 8."))
			case 2*v > g.Rotation.MaxCandidates:
				diags = append(diags, errDiag(rr.MinCands.Expr.Range(), "Merge bound out of range",
					fmt.Sprintf("min_candidates = %d; it must be from 1 to half of max_candidates (%d), or a cluster that just split would merge back at once.", v, g.Rotation.MaxCandidates/2)))
			}
			g.Rotation.MinCandidates = v
		}
	}

	seen := map[interfaces.StarID]hcl.Range{}
	var total uint64
	overflowed := false
	for _, ra := range rg.Allocations {
		a := Allocation{Range: ra.DefRange}
		ok := true
		if ra.Star == nil {
			ok = false
			diags = append(diags, errDiag(ra.DefRange, "Missing star", "The allocation needs a star to credit. "+hintStar))
		} else {
			text, d := stringValue(ra.Star.Expr, "star", hintStar)
			diags = append(diags, d...)
			if d.HasErrors() {
				ok = false
			} else if id, pd := parseStar(text, m.Network.Dev, ra.Star.Expr.Range()); pd != nil {
				ok = false
				diags = append(diags, pd)
			} else if prev, dup := seen[id]; dup {
				ok = false
				diags = append(diags, errDiag(ra.Star.Expr.Range(), "Duplicate allocation",
					fmt.Sprintf("%s already receives an allocation at %s. Merge the two into one allocation block.", text, prev)))
			} else {
				seen[id] = ra.Star.Expr.Range()
				a.Star, a.StarText = id, text
			}
		}
		if ra.Amount == nil {
			ok = false
			diags = append(diags, errDiag(ra.DefRange, "Missing amount",
				"The allocation needs an amount: a whole number of noOs greater than 0, e.g. amount = 1000000."))
		} else {
			amt, d := uintValue(ra.Amount.Expr, "amount", "It is a whole number of noOs.")
			diags = append(diags, d...)
			if d.HasErrors() {
				ok = false
			} else {
				a.Amount = amt
				sum, carry := bits.Add64(total, amt, 0)
				if carry != 0 && !overflowed {
					overflowed = true
					diags = append(diags, errDiag(ra.Amount.Expr.Range(), "Total allocation too large",
						"With this amount the genesis allocations add up to more than 18446744073709551615 noOs, "+
							"the largest supply the ledger can hold. Lower the amounts."))
				}
				total = sum
			}
		}
		if ok {
			g.Allocations = append(g.Allocations, a)
		}
	}
	return diags
}

// parseStar parses "ed25519:<hex>" or, on a development network,
// "dev:<name>".
func parseStar(text string, dev bool, r hcl.Range) (interfaces.StarID, *hcl.Diagnostic) {
	if name, ok := strings.CutPrefix(text, "dev:"); ok {
		if name == "" {
			return interfaces.StarID{}, errDiag(r, "Invalid star", `A development star needs a name after "dev:", e.g. "dev:faucet".`)
		}
		if !dev {
			return interfaces.StarID{}, errDiag(r, "Development star on a non-development network",
				`"dev:" stars derive their private key from the name, so anyone can spend what they hold. `+
					`They are allowed only on development networks (a network whose name starts with "dev", or that sets dev = true). `+
					`Use "ed25519:<64 hex digits>" with a key made by "constellation keygen".`)
		}
		return interfaces.DevStar(name), nil
	}
	id, err := interfaces.ParseStarID(text)
	if err != nil {
		return id, errDiag(r, "Invalid star", fmt.Sprintf("%v. %s", err, hintStar))
	}
	if id.IsZero() {
		return id, errDiag(r, "Invalid star", "The all-zero key is nobody's key; what it holds could never be spent. "+hintStar)
	}
	return id, nil
}

func (m *Manifest) buildNodes(nodes []*rawNode, anchor hcl.Range) hcl.Diagnostics {
	var diags hcl.Diagnostics
	type candidate struct {
		n  int // index in m.Nodes
		at hcl.Range
	}
	var candidates []candidate
	var galaxyCandidates []hcl.Range
	if len(nodes) == 0 {
		diags = append(diags, errDiag(anchor, "No nodes",
			`A manifest declares at least one node. Add e.g.

node "star-1" {
  key_file = "keys/star-1.key"
  listen   = "/ip4/127.0.0.1/tcp/7001"
  roles    = ["star", "cluster"]
}`))
	}
	names := map[string]hcl.Range{}
	keyFiles := map[string]hcl.Range{}
	listens := map[string]hcl.Range{}
	apis := map[string]hcl.Range{}
	// claim reports a value that must be unique across nodes.
	claim := func(seen map[string]hcl.Range, key string, r hcl.Range, summary, what string) {
		if prev, dup := seen[key]; dup {
			diags = append(diags, errDiag(r, summary,
				fmt.Sprintf("%s is already used by the node at %s. %s", key, prev, what)))
			return
		}
		seen[key] = r
	}
	for _, rn := range nodes {
		n := Node{Name: rn.Name, DeclRange: rn.DefRange, KeyFileRange: rn.DefRange, ListenRange: rn.DefRange}
		if !validName(rn.Name) {
			diags = append(diags, errDiag(rn.NameRange, "Invalid node name",
				fmt.Sprintf("%q cannot name a node. %s", rn.Name, nameRule)))
		} else if prev, dup := names[rn.Name]; dup {
			diags = append(diags, errDiag(rn.NameRange, "Duplicate node name",
				fmt.Sprintf("A node named %q is already declared at %s. Give every node its own name.", rn.Name, prev)))
		} else {
			names[rn.Name] = rn.NameRange
		}

		if rn.KeyFile == nil {
			diags = append(diags, errDiag(rn.DefRange, "Missing key_file",
				fmt.Sprintf(`The node needs the path of its ed25519 key file, e.g. key_file = "keys/%s.key". `+
					`Create one with "constellation keygen".`, rn.Name)))
		} else {
			n.KeyFileRange = rn.KeyFile.Expr.Range()
			s, d := stringValue(rn.KeyFile.Expr, "key_file", `Write the path in quotes, e.g. "keys/star-1.key".`)
			diags = append(diags, d...)
			if !d.HasErrors() {
				if s == "" {
					diags = append(diags, errDiag(n.KeyFileRange, "Empty key_file",
						`key_file must name the node's key file, e.g. "keys/star-1.key".`))
				} else {
					claim(keyFiles, s, n.KeyFileRange, "Key file shared by two nodes",
						"Two nodes with one key would be one star twice; give each node its own key.")
				}
			}
			n.KeyFile = s
		}

		if rn.Star != nil {
			s, d := stringValue(rn.Star.Expr, "star", `Write the node's identity in quotes, e.g. "ed25519:<64 hex digits>".`)
			diags = append(diags, d...)
			if !d.HasErrors() {
				id, err := interfaces.ParseStarID(s)
				if err != nil || !strings.HasPrefix(s, "ed25519:") {
					diags = append(diags, errDiag(rn.Star.Expr.Range(), "Invalid star id",
						fmt.Sprintf("%q is not a star id. Write \"ed25519:\" and the 64 hex digits that constellation keygen printed.", s)))
				} else {
					n.Star = id
				}
			}
		}

		if rn.ClusterKeyFile != nil {
			s, d := stringValue(rn.ClusterKeyFile.Expr, "cluster_key_file", `Write the path in quotes, e.g. "keys/star-1.cluster.key".`)
			diags = append(diags, d...)
			if !d.HasErrors() {
				if s == "" {
					diags = append(diags, errDiag(rn.ClusterKeyFile.Expr.Range(), "Empty cluster_key_file",
						`cluster_key_file must name the node's threshold key share, e.g. "keys/star-1.cluster.key", or be left out.`))
				} else {
					claim(keyFiles, s, rn.ClusterKeyFile.Expr.Range(), "Key file shared by two nodes",
						"Each node holds its own share of the cluster key.")
				}
			}
			n.ClusterKeyFile = s
		}

		if rn.GalaxyKeyFile != nil {
			s, d := stringValue(rn.GalaxyKeyFile.Expr, "galaxy_key_file", `Write the path in quotes, e.g. "keys/star-1.galaxy.key".`)
			diags = append(diags, d...)
			if !d.HasErrors() {
				if s == "" {
					diags = append(diags, errDiag(rn.GalaxyKeyFile.Expr.Range(), "Empty galaxy_key_file",
						`galaxy_key_file must name the node's share of the galaxy key, e.g. "keys/star-1.galaxy.key", or be left out.`))
				} else {
					claim(keyFiles, s, rn.GalaxyKeyFile.Expr.Range(), "Key file shared by two nodes",
						"Each galaxy member holds its own share of the galaxy key, in a file of its own.")
				}
			}
			n.GalaxyKeyFile = s
		}

		var clusterRange *hcl.Range
		if rn.Cluster != nil {
			r := rn.Cluster.Expr.Range()
			clusterRange = &r
			v, d := intValue(rn.Cluster.Expr, "cluster", 0, MaxClusters-1, "Write the cluster's number, e.g. cluster = 1.")
			diags = append(diags, d...)
			if !d.HasErrors() {
				n.Cluster = interfaces.ClusterID(v)
			}
		}

		if rn.Listen == nil {
			diags = append(diags, errDiag(rn.DefRange, "Missing listen",
				`The node needs a peer-to-peer listen address, e.g. listen = "/ip4/127.0.0.1/tcp/7001".`))
		} else {
			n.ListenRange = rn.Listen.Expr.Range()
			s, d := stringValue(rn.Listen.Expr, "listen", `Write e.g. "/ip4/127.0.0.1/tcp/7001".`)
			diags = append(diags, d...)
			if !d.HasErrors() {
				if a, err := parseMultiaddr(s, useListen); err != nil {
					diags = append(diags, errDiag(n.ListenRange, "Invalid listen address",
						fmt.Sprintf("%q is not a listen address: %v. Write e.g. \"/ip4/127.0.0.1/tcp/7001\" "+
							"(or /ip6/<address>/tcp/<port>, /dns4/<host>/tcp/<port>).", s, err)))
				} else if !a.unspecified && a.port != 0 {
					claim(listens, s, n.ListenRange, "Listen address shared by two nodes",
						"Two nodes cannot listen on the same address; give each its own port.")
				}
			}
			n.Listen = s
		}

		if rn.API != nil {
			s, d := stringValue(rn.API.Expr, "api", `Write e.g. "127.0.0.1:8001".`)
			diags = append(diags, d...)
			if !d.HasErrors() {
				if _, unspec, err := parseHostPort(s); err != nil {
					diags = append(diags, errDiag(rn.API.Expr.Range(), "Invalid api address",
						fmt.Sprintf("%q is not an API address: %v.", s, err)))
				} else if !unspec && !strings.HasSuffix(s, ":0") {
					claim(apis, s, rn.API.Expr.Range(), "API address shared by two nodes",
						"Two nodes cannot serve their API on the same address; give each its own port.")
				}
			}
			n.API = s
		}

		if rn.Bootstrap != nil {
			list, ranges, d := stringList(rn.Bootstrap.Expr, "bootstrap",
				`Write e.g. bootstrap = ["/ip4/127.0.0.1/tcp/7002"].`)
			diags = append(diags, d...)
			seen := map[string]hcl.Range{}
			for i, s := range list {
				if _, err := parseMultiaddr(s, useDial); err != nil {
					diags = append(diags, errDiag(ranges[i], "Invalid bootstrap address",
						fmt.Sprintf("%q is not a peer address: %v. Write e.g. \"/ip4/127.0.0.1/tcp/7002\", "+
							"optionally followed by /p2p/<peer id>.", s, err)))
					continue
				}
				if prev, dup := seen[s]; dup {
					diags = append(diags, errDiag(ranges[i], "Duplicate bootstrap address",
						fmt.Sprintf("%s is already listed at %s. Remove one of them.", s, prev)))
					continue
				}
				seen[s] = ranges[i]
				if s == n.Listen {
					diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning,
						Summary: "Node bootstraps from itself",
						Detail:  fmt.Sprintf("%s is this node's own listen address; list other nodes' addresses instead.", s),
						Subject: ranges[i].Ptr()})
				}
				n.Bootstrap = append(n.Bootstrap, s)
			}
		}

		n.Roles = []string{RoleStar}
		if rn.Roles != nil {
			list, ranges, d := stringList(rn.Roles.Expr, "roles", `Write e.g. roles = ["star", "cluster"].`)
			diags = append(diags, d...)
			if !d.HasErrors() {
				n.Roles = nil
				if len(list) == 0 {
					diags = append(diags, errDiag(rn.Roles.Expr.Range(), "No roles",
						`A node needs at least one role. Known roles: star, cluster; e.g. roles = ["star"].`))
				}
				seen := map[string]bool{}
				for i, r := range list {
					switch {
					case !knownRole(r):
						diags = append(diags, errDiag(ranges[i], "Unknown role",
							fmt.Sprintf("%q is not a role.%s Known roles: %s.", r, suggest(r, Roles), strings.Join(Roles, ", "))))
					case seen[r]:
						diags = append(diags, errDiag(ranges[i], "Duplicate role",
							fmt.Sprintf("%q is listed twice; remove one.", r)))
					default:
						seen[r] = true
						n.Roles = append(n.Roles, r)
					}
				}
			}
		}
		switch {
		case n.HasRole(RoleCluster) && n.HasRole(RoleCandidate):
			diags = append(diags, errDiag(rn.Roles.Expr.Range(), "Delegate and candidate",
				`A delegate (role "cluster") holds a genesis seat and stands for it already; "candidate" is for a node with no genesis seat. Keep one of the two.`))
		case clusterRange != nil && !n.KeepsCluster():
			diags = append(diags, errDiag(*clusterRange, "cluster without the cluster role",
				`cluster names the Star Cluster this node is a delegate of (or a candidate for); give it the role too: roles = ["star", "cluster"].`))
		case clusterRange == nil && n.HasRole(RoleCandidate):
			diags = append(diags, errDiag(rn.Roles.Expr.Range(), "Candidate without a cluster",
				`A candidate keeps one Star Cluster's chain and stands for its seats; name it: cluster = 0.`))
		case n.HasRole(RoleGalaxy) && n.HasRole(RoleGalaxyCandidate):
			diags = append(diags, errDiag(rn.Roles.Expr.Range(), "Galaxy member and galaxy candidate",
				`A galaxy member (role "galaxy") holds a genesis seat in the galaxy and stands for it already; "galaxy-candidate" is for a node with no genesis seat there. Keep one of the two.`))
		}
		if n.HasRole(RoleGalaxyCandidate) {
			galaxyCandidates = append(galaxyCandidates, rn.Roles.Expr.Range())
		}
		if n.HasRole(RoleCandidate) {
			candidates = append(candidates, candidate{n: len(m.Nodes), at: rn.Roles.Expr.Range()})
		}
		m.Nodes = append(m.Nodes, n)
	}
	diags = append(diags, m.checkTiers(anchor)...)
	for _, at := range galaxyCandidates {
		switch {
		case m.Network.Genesis.Rotation.Every == 0:
			diags = append(diags, errDiag(at, "Galaxy candidate without rotation",
				`Galaxy candidates take seats only when the galaxy rotates, at every fourth rotation beacon; without a rotation block in the genesis nothing would ever draw this node. Add genesis { rotation { every = 16 } } or drop the role.`))
		case !m.HasGalaxy():
			diags = append(diags, errDiag(at, "Galaxy candidate without a galaxy",
				`A galaxy candidate keeps the galaxy's chain; give some nodes the "galaxy" role first.`))
		}
	}
	for _, c := range candidates {
		n := &m.Nodes[c.n]
		switch k := m.Clusters(); {
		case m.Network.Genesis.Rotation.Every == 0:
			diags = append(diags, errDiag(c.at, "Candidate without rotation",
				`Candidates take seats only when delegates rotate; without a rotation block in the genesis nothing would ever draw this node. Add genesis { rotation { every = 16 } } or drop the role.`))
		case int(n.Cluster) >= k:
			diags = append(diags, errDiag(c.at, "Candidate for a cluster without delegates",
				fmt.Sprintf("Node %q stands for cluster %d, but the delegates form clusters 0 to %d. A cluster starts with genesis delegates (role \"cluster\").", n.Name, n.Cluster, k-1)))
		}
	}
	return diags
}

// checkTiers checks the hierarchy the nodes describe: clusters numbered
// 0, 1, … with delegates each, and a galaxy when there are several.
func (m *Manifest) checkTiers(anchor hcl.Range) hcl.Diagnostics {
	var diags hcl.Diagnostics
	k := m.Clusters()
	if mint := m.Network.Genesis.Mint; mint.Reward > 0 && !m.HasGalaxy() {
		diags = append(diags, errDiag(mint.Range, "Mint without a galaxy",
			`The galaxy mints at each black hole; without nodes with the "galaxy" role nothing would. Remove the mint block or give some nodes the galaxy role.`))
	}
	if rot := m.Network.Genesis.Rotation; rot.Every > 0 && !m.HasGalaxy() {
		diags = append(diags, errDiag(rot.Range, "Rotation without a galaxy",
			`Delegates rotate at the galaxy's beacons; without nodes with the "galaxy" role there are none. Remove the rotation block or give some nodes the galaxy role.`))
	}
	if k == 1 {
		return diags
	}
	count := make([]int, k)
	for i := range m.Nodes {
		if n := &m.Nodes[i]; n.HasRole(RoleCluster) {
			count[n.Cluster]++
			if int(n.Cluster) == k-1 && count[n.Cluster] == 1 {
				anchor = n.DeclRange // the node that makes the highest cluster
			}
		}
	}
	for c := 0; c < k; c++ {
		if count[c] == 0 {
			diags = append(diags, errDiag(anchor, "Cluster without delegates",
				fmt.Sprintf("Some node is in cluster %d, but no node is in cluster %d. Number the clusters 0 to %d with no gap.", k-1, c, k-1)))
		}
	}
	if !m.HasGalaxy() {
		diags = append(diags, errDiag(anchor, "Clusters without a galaxy",
			fmt.Sprintf(`The nodes form %d Star Clusters, and only the galaxy makes their checkpoints final and carries transfers between them. Give some nodes the "galaxy" role, e.g. roles = ["star", "cluster", "galaxy"].`, k)))
	}
	return diags
}

func knownRole(r string) bool {
	for _, x := range Roles {
		if x == r {
			return true
		}
	}
	return false
}

// singleton reports whether at most one plugin of kind k may be declared.
func singleton(k interfaces.Kind) bool { return k != interfaces.KindContracts }

func kindNames() []string {
	out := make([]string, len(interfaces.Kinds))
	for i, k := range interfaces.Kinds {
		out[i] = string(k)
	}
	return out
}

func (m *Manifest) buildPlugins(plugins []*rawPlugin, anchor hcl.Range) hcl.Diagnostics {
	var diags hcl.Diagnostics
	declared := map[string]hcl.Range{}
	firstOfKind := map[interfaces.Kind]hcl.Range{}
	for _, rp := range plugins {
		kind := interfaces.Kind(rp.Kind)
		if !kind.Valid() {
			diags = append(diags, errDiag(rp.KindRange, "Unknown plugin kind",
				fmt.Sprintf("%q is not a plugin kind.%s The kinds are: %s.",
					rp.Kind, suggest(rp.Kind, kindNames()), strings.Join(kindNames(), ", "))))
			continue
		}
		p := &PluginDecl{Kind: kind, Name: rp.Name, DeclRange: rp.DefRange, KindRange: rp.KindRange,
			NameRange: rp.NameRange, PathRange: rp.DefRange, ConfigRange: rp.DefRange}
		if !validName(rp.Name) {
			diags = append(diags, errDiag(rp.NameRange, "Invalid plugin name",
				fmt.Sprintf("%q cannot name a plugin. %s", rp.Name, nameRule)))
		}
		key := string(kind) + "\x00" + rp.Name
		if prev, dup := declared[key]; dup {
			diags = append(diags, errDiag(rp.NameRange, "Duplicate plugin",
				fmt.Sprintf("plugin %q %q is already declared at %s. Remove one of the two blocks.", kind, rp.Name, prev)))
			continue
		}
		declared[key] = rp.DefRange
		if prev, dup := firstOfKind[kind]; dup && singleton(kind) {
			diags = append(diags, errDiag(rp.DefRange, fmt.Sprintf("More than one %s plugin", kind),
				fmt.Sprintf("A network runs exactly one %s plugin, and one is already declared at %s. Remove one of them.", kind, prev)))
		} else if !dup {
			firstOfKind[kind] = rp.DefRange
		}

		if rp.Source != nil {
			s, d := stringValue(rp.Source.Expr, "source", `The only source is "builtin".`)
			diags = append(diags, d...)
			if !d.HasErrors() {
				if s == "builtin" {
					p.Builtin = true
				} else {
					diags = append(diags, errDiag(rp.Source.Expr.Range(), "Unknown plugin source",
						fmt.Sprintf(`source must be "builtin", not %q. For an external plugin binary, remove source and set `+
							`path = "./plugins/%s" and sha256 = "<64 hex digits>".`, s, rp.Name)))
				}
			}
		}
		if rp.Path != nil {
			p.PathRange = rp.Path.Expr.Range()
			if p.Builtin {
				diags = append(diags, errDiag(rp.Path.Expr.Range(), "path given for a builtin plugin",
					`A plugin is either builtin (source = "builtin") or an external binary (path = …), not both. `+
						`Remove path to use the builtin, or remove source to run the binary.`))
			} else {
				s, d := stringValue(rp.Path.Expr, "path", `Write the binary's path in quotes, e.g. "./plugins/acme-trust".`)
				diags = append(diags, d...)
				if !d.HasErrors() && s == "" {
					diags = append(diags, errDiag(rp.Path.Expr.Range(), "Empty path",
						"path must name the plugin binary, e.g. \"./plugins/"+rp.Name+"\"."))
				}
				p.Path = s
			}
		} else if rp.Source == nil {
			diags = append(diags, errDiag(rp.DefRange, "Plugin has no source",
				fmt.Sprintf(`Say where the %s plugin %q comes from: source = "builtin" for one compiled into the node, `+
					`or path = "./plugins/%s" (with sha256) for an external binary.`, kind, rp.Name, rp.Name)))
		}
		if rp.SHA256 != nil {
			r := rp.SHA256.Expr.Range()
			if p.Builtin {
				diags = append(diags, errDiag(r, "sha256 given for a builtin plugin",
					"sha256 checks an external plugin binary; a builtin plugin is part of the node itself. Remove the line."))
			} else {
				s, d := stringValue(rp.SHA256.Expr, "sha256", "Write the 64 hex digits printed by `sha256sum` in quotes.")
				diags = append(diags, d...)
				if !d.HasErrors() {
					sum, err := hex.DecodeString(s)
					if err != nil || len(sum) != 32 {
						diags = append(diags, errDiag(r, "Invalid sha256",
							fmt.Sprintf("sha256 must be exactly 64 hex digits (got %d characters). Compute it with `sha256sum <plugin binary>`.", len(s))))
					} else {
						p.SHA256 = sum
					}
				}
			}
		}
		if rp.Config != nil {
			p.Config = rp.Config.Body
			p.ConfigRange = rp.Config.DefRange
		}
		m.Plugins = append(m.Plugins, p)
	}
	if _, ok := firstOfKind[interfaces.KindConsensus]; !ok {
		diags = append(diags, errDiag(anchor, "No consensus plugin",
			`A network runs exactly one consensus plugin. For a development network add

plugin "consensus" "solo" {
  source = "builtin"
}`))
	}
	return diags
}

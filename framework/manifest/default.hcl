# Constellation default manifest: an eight-node development network on this
# machine. `make run` uses it; copy it to start your own.
#
# Check a manifest with:   constellation manifest validate FILE
# Run a node of it with:   constellation node run --manifest FILE --node star-1
#
# Relative paths (key_file, plugin path) are resolved against the directory
# that holds the manifest.

# Exactly one network block. Its name and genesis identify the chain: nodes
# with a different genesis will not talk to each other.
network "devnet" {
  # A network whose name starts with "dev" is a development network: its
  # genesis may credit "dev:<name>" stars, whose private keys anyone can
  # derive from the name. Set `dev = false` to forbid them, or rename the
  # network (e.g. "mainnet") and use real keys.

  genesis {
    # The genesis value: the first block chains from it. Different networks
    # must use different seeds.
    seed = "constellation-devnet"

    # Genesis time in unix milliseconds (optional, default 0).
    # 1767225600000 is 2026-01-01T00:00:00Z.
    timestamp = 1767225600000

    # Native token (noOs) credited at genesis; repeat the block for more
    # stars. `star` is "ed25519:<64 hex digits>" (the public key printed by
    # `constellation keygen`) or, on a development network only,
    # "dev:<name>". Amounts are whole noOs; their total must fit in 64 bits.
    allocation {
      star   = "dev:faucet"
      amount = 1000000000000
    }

    # noOs minted by the galaxy at each black hole (optional; needs a
    # galaxy): `reward` at black hole 1, halving every `halving` black
    # holes, none after black hole `until`. It is shared among the
    # clusters' delegates by the square root of their reputation scores.
    mint {
      reward  = 1000000
      halving = 100000
      until   = 1000000
    }

    # Delegate rotation (optional; needs a galaxy). Every `every` black
    # holes (default 16) each cluster takes the delegate set the galaxy's
    # beacon drew for it by reputation, `seats` of them (default: as many as
    # its genesis delegates), and the new set generates its threshold keys
    # without a dealer; the galaxy rotates at every fourth rotation, keeping
    # its key. Stars beyond the seats stand with the "candidate" role or
    # `constellation member join`; `max_candidates` and `min_candidates`
    # open and close clusters as they grow and shrink. This network has no
    # stars beyond its seats, so a rotation would only draw the same
    # delegates again, and it leaves rotation off. To turn it on:
    #
    #   rotation {
    #     every = 16
    #   }
    #
    # See docs/hierarchy.md, "Rotation and keys without a dealer".
  }
}

# One block per node. The label is the node's name, chosen with
# `constellation node run --node NAME`.
#
#   key_file  the node's ed25519 key (create it with `constellation keygen`)
#   listen    peer-to-peer address: /ip4/<ip>/tcp/<port>, /ip6/…, /dns4/<host>/…
#   api       optional host:port of the node's HTTP API
#   bootstrap optional peers to dial at start (other nodes' listen addresses)
#   roles     any of "star" (keeps the ledger, sends transactions),
#             "cluster" (a delegate of Star Cluster `cluster`) and
#             "galaxy" (a member of the galaxy, which orders the clusters'
#             checkpoints into black holes); default ["star"]
#   cluster   which Star Cluster a delegate belongs to: 0, 1, … (default 0)
#
# This network has two Star Clusters of four delegates each (star-1 to
# star-4 and star-5 to star-8) and a galaxy of four (star-1, star-2,
# star-5, star-6: galaxy members double as cluster delegates). Each account
# belongs to one cluster (the partitioner below places it); a transfer to an
# account of the other cluster is debited in the sender's cluster and
# credited in the recipient's once a black hole finalizes it.
#
# The threshold keys of both clusters and of the galaxy are dealt by a
# trusted dealer: on this development network `constellation testnet` deals
# them into the data directory (keys/<node>.cluster.key,
# keys/<node>.galaxy.key, and keys/genesis.json with every group's public
# key); for a real network see docs/network.md.

node "star-1" {
  key_file  = "keys/star-1.key"
  listen    = "/ip4/127.0.0.1/tcp/7001"
  api       = "127.0.0.1:8001"
  bootstrap = ["/ip4/127.0.0.1/tcp/7002", "/ip4/127.0.0.1/tcp/7003", "/ip4/127.0.0.1/tcp/7004", "/ip4/127.0.0.1/tcp/7005", "/ip4/127.0.0.1/tcp/7006", "/ip4/127.0.0.1/tcp/7007", "/ip4/127.0.0.1/tcp/7008"]
  roles     = ["star", "cluster", "galaxy"]
  cluster   = 0
}

node "star-2" {
  key_file  = "keys/star-2.key"
  listen    = "/ip4/127.0.0.1/tcp/7002"
  api       = "127.0.0.1:8002"
  bootstrap = ["/ip4/127.0.0.1/tcp/7001", "/ip4/127.0.0.1/tcp/7003", "/ip4/127.0.0.1/tcp/7004", "/ip4/127.0.0.1/tcp/7005", "/ip4/127.0.0.1/tcp/7006", "/ip4/127.0.0.1/tcp/7007", "/ip4/127.0.0.1/tcp/7008"]
  roles     = ["star", "cluster", "galaxy"]
  cluster   = 0
}

node "star-3" {
  key_file  = "keys/star-3.key"
  listen    = "/ip4/127.0.0.1/tcp/7003"
  api       = "127.0.0.1:8003"
  bootstrap = ["/ip4/127.0.0.1/tcp/7001", "/ip4/127.0.0.1/tcp/7002", "/ip4/127.0.0.1/tcp/7004", "/ip4/127.0.0.1/tcp/7005", "/ip4/127.0.0.1/tcp/7006", "/ip4/127.0.0.1/tcp/7007", "/ip4/127.0.0.1/tcp/7008"]
  roles     = ["star", "cluster"]
  cluster   = 0
}

node "star-4" {
  key_file  = "keys/star-4.key"
  listen    = "/ip4/127.0.0.1/tcp/7004"
  api       = "127.0.0.1:8004"
  bootstrap = ["/ip4/127.0.0.1/tcp/7001", "/ip4/127.0.0.1/tcp/7002", "/ip4/127.0.0.1/tcp/7003", "/ip4/127.0.0.1/tcp/7005", "/ip4/127.0.0.1/tcp/7006", "/ip4/127.0.0.1/tcp/7007", "/ip4/127.0.0.1/tcp/7008"]
  roles     = ["star", "cluster"]
  cluster   = 0
}

node "star-5" {
  key_file  = "keys/star-5.key"
  listen    = "/ip4/127.0.0.1/tcp/7005"
  api       = "127.0.0.1:8005"
  bootstrap = ["/ip4/127.0.0.1/tcp/7001", "/ip4/127.0.0.1/tcp/7002", "/ip4/127.0.0.1/tcp/7003", "/ip4/127.0.0.1/tcp/7004", "/ip4/127.0.0.1/tcp/7006", "/ip4/127.0.0.1/tcp/7007", "/ip4/127.0.0.1/tcp/7008"]
  roles     = ["star", "cluster", "galaxy"]
  cluster   = 1
}

node "star-6" {
  key_file  = "keys/star-6.key"
  listen    = "/ip4/127.0.0.1/tcp/7006"
  api       = "127.0.0.1:8006"
  bootstrap = ["/ip4/127.0.0.1/tcp/7001", "/ip4/127.0.0.1/tcp/7002", "/ip4/127.0.0.1/tcp/7003", "/ip4/127.0.0.1/tcp/7004", "/ip4/127.0.0.1/tcp/7005", "/ip4/127.0.0.1/tcp/7007", "/ip4/127.0.0.1/tcp/7008"]
  roles     = ["star", "cluster", "galaxy"]
  cluster   = 1
}

node "star-7" {
  key_file  = "keys/star-7.key"
  listen    = "/ip4/127.0.0.1/tcp/7007"
  api       = "127.0.0.1:8007"
  bootstrap = ["/ip4/127.0.0.1/tcp/7001", "/ip4/127.0.0.1/tcp/7002", "/ip4/127.0.0.1/tcp/7003", "/ip4/127.0.0.1/tcp/7004", "/ip4/127.0.0.1/tcp/7005", "/ip4/127.0.0.1/tcp/7006", "/ip4/127.0.0.1/tcp/7008"]
  roles     = ["star", "cluster"]
  cluster   = 1
}

node "star-8" {
  key_file  = "keys/star-8.key"
  listen    = "/ip4/127.0.0.1/tcp/7008"
  api       = "127.0.0.1:8008"
  bootstrap = ["/ip4/127.0.0.1/tcp/7001", "/ip4/127.0.0.1/tcp/7002", "/ip4/127.0.0.1/tcp/7003", "/ip4/127.0.0.1/tcp/7004", "/ip4/127.0.0.1/tcp/7005", "/ip4/127.0.0.1/tcp/7006", "/ip4/127.0.0.1/tcp/7007"]
  roles     = ["star", "cluster"]
  cluster   = 1
}

# Plugins: plugin "<kind>" "<name>" { … }. Kinds: consensus (exactly one),
# reputation, partitioner and transport (at most one each), contracts (any
# number).
#
# A plugin is either compiled into the node (source = "builtin") or an
# external binary:
#
#   plugin "reputation" "acme-trust" {
#     path   = "./plugins/acme-trust"
#     sha256 = "<64 hex digits from sha256sum>"  # required unless the node runs with --dev
#     config { decay = 0.98 }
#   }
#
# The config block is checked against the schema the plugin declares before
# the plugin starts; unknown fields and wrong types are reported here.

# HoneyBadger BFT: asynchronous Byzantine agreement among each cluster's
# four delegates, and among the galaxy's four members (each tolerates f = 1
# faulty one), with a threshold-signature common coin and threshold
# encryption of proposals. The same threshold keys certify every block:
# a cluster's certificate makes its checkpoint acceptable to the galaxy,
# and the galaxy's makes a black hole final for everyone.
#
# batch_size and block_interval_ms are the node's own settings and are
# accepted in every consensus plugin's config block; they apply to the
# clusters and the galaxy alike.
plugin "consensus" "honeybadger" {
  source = "builtin"
  config {
    batch_size        = 2000 # B: transactions per epoch across all delegates
    block_interval_ms = 200  # wait between proposals when the pool is not full
  }
}

# The partitioner places every account in exactly one Star Cluster, which
# orders its chain. Every account starts where keyed rendezvous hashing puts
# it. With placement = "locality" the galaxy learns, from a sample of each
# finalized cluster block's transfers, which accounts pay each other, and
# every relabel_every black holes publishes moves that bring each community
# into one cluster; the clusters migrate the accounts (balance and chain
# together, never owned twice). placement = "hash" keeps the base placement.
plugin "partitioner" "lsh" {
  source = "builtin"
  config {
    placement     = "locality"
    relabel_every = 8
  }
}

# Proof-of-Meme reputation: scores every star from what finalized blocks
# show (participation, faults, latency, interactions) in fixed point. The
# pool serves senders by score instead of fees.
# `constellation reputation explain STAR` recomputes a score from a node's
# chain.
plugin "reputation" "meme" {
  source = "builtin"
}

# The libp2p transport: Noise-encrypted TCP between the nodes, gossipsub for
# transactions and blocks, direct streams for consensus messages.
plugin "transport" "gossip" {
  source = "builtin"
}

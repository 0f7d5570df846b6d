# The embedded single-node development chain: `constellation testnet
# --solo`. One star runs the solo engine (it orders its own pool, no
# network, no threshold keys), with Proof-of-Meme reputation, and the load
# generator's faucet funded at genesis. Like geth --dev: for trying things
# out, never for a real network.
network "devnet-solo" {
  genesis {
    seed      = "constellation-dev-solo"
    timestamp = 1767225600000
    allocation {
      star   = "dev:faucet"
      amount = 1000000000000
    }
  }
}

node "star-1" {
  key_file = "keys/star-1.key"
  listen   = "/ip4/127.0.0.1/tcp/7101"
  api      = "127.0.0.1:8101"
  roles    = ["star", "cluster"]
}

plugin "consensus" "solo" {
  source = "builtin"
  config {
    batch_size        = 2000
    block_interval_ms = 200
  }
}

plugin "reputation" "meme" {
  source = "builtin"
}

//go:build byzantine

package main

import (
	"github.com/hashicorp/go-hclog"
	"github.com/urfave/cli/v2"

	"github.com/constellation-chain/constellation/builtin/honeybadger"
	"github.com/constellation-chain/constellation/interfaces"
)

// The byzantine test build adds `node run --byzantine`, which makes the
// node a Byzantine HoneyBadger member for the multi-process safety test.
// Release builds do not contain this file.
var misbehaviourFlags = []cli.Flag{
	&cli.BoolFlag{Name: "byzantine", Usage: "TEST BUILD ONLY: send garbage, equivocate, replay old messages and send bad coin shares"},
}

func misbehaviour(c *cli.Context, log hclog.Logger) func(interfaces.StarID, []byte) [][]byte {
	if !c.Bool("byzantine") {
		return nil
	}
	log.Warn("this node is Byzantine (test build): it equivocates, replays, sends garbage and bad shares")
	per := map[interfaces.StarID]honeybadger.Mutator{}
	return func(to interfaces.StarID, payload []byte) [][]byte {
		m, ok := per[to]
		if !ok {
			m = honeybadger.Chain(honeybadger.DoubleVotes(), honeybadger.InvalidCoinShares(), honeybadger.InvalidDecryptionShares(), honeybadger.ReplayOld(2), honeybadger.SomeGarbage(64))
			per[to] = m
		}
		return m(to, payload)
	}
}

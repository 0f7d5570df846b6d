//go:build !byzantine

package main

import (
	"github.com/hashicorp/go-hclog"
	"github.com/urfave/cli/v2"

	"github.com/constellation-chain/constellation/interfaces"
)

// The release build cannot misbehave: `node run --byzantine` exists only
// in the test build (go build -tags byzantine), see misbehave_byzantine.go.
var misbehaviourFlags []cli.Flag

func misbehaviour(*cli.Context, hclog.Logger) func(interfaces.StarID, []byte) [][]byte { return nil }

package testplugin

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/constellation-chain/constellation/interfaces"
	"github.com/constellation-chain/constellation/plugins"
)

// BinaryPrefix starts the name of a link to a test binary that should serve
// a toy plugin: testplugin-consensus, testplugin-reputation,
// testplugin-partitioner, testplugin-contracts.
const BinaryPrefix = "testplugin-"

// MaybeServe serves a toy plugin and exits if this process was started
// through a link named BinaryPrefix+kind; otherwise it returns. Call it
// first thing in TestMain, so the test binary doubles as the plugin.
func MaybeServe() {
	name := filepath.Base(os.Args[0])
	if !strings.HasPrefix(name, BinaryPrefix) {
		return
	}
	switch interfaces.Kind(strings.TrimPrefix(name, BinaryPrefix)) {
	case interfaces.KindConsensus:
		plugins.Serve(Consensus{})
	case interfaces.KindReputation:
		plugins.Serve(Reputation{})
	case interfaces.KindPartitioner:
		plugins.Serve(Partitioner{})
	case interfaces.KindContracts:
		plugins.ServeContract(Contract{})
	default:
		fmt.Fprintf(os.Stderr, "testplugin: no toy plugin for %q\n", name)
		os.Exit(2)
	}
	os.Exit(0)
}

func dealKeys(members []interfaces.StarID, _ int, rnd io.Reader) ([][]byte, error) {
	out := make([][]byte, len(members))
	for i := range members {
		k := make([]byte, 9)
		k[0] = byte(i)
		if _, err := io.ReadFull(rnd, k[1:]); err != nil {
			return nil, fmt.Errorf("toy dealer: read randomness: %w", err)
		}
		out[i] = k
	}
	return out, nil
}

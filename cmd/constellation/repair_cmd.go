package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/constellation-chain/constellation/framework/api"
	"github.com/constellation-chain/constellation/framework/store"
	"github.com/constellation-chain/constellation/framework/wal"
)

// repairMargin is how many epochs past the newest one its damaged log
// names a peer's chain must be before repair counts the epochs open at the
// crash as decided. A damaged record may have been for a later epoch than
// any readable one, and the engine answers messages a few epochs ahead of
// the one it decides (a node leaves those more than 16 ahead to block
// sync).
const repairMargin = 16

func nodeRepairCommand() *cli.Command {
	return &cli.Command{
		Name:      "repair",
		Usage:     "move a damaged write-ahead log aside so the node can start again",
		ArgsUsage: " ",
		Description: `A node that finds its write-ahead log (DATA/wal) damaged, or missing beside a
chain that holds blocks, refuses to start: the log is its memory of every
consensus message it sent in the epochs still open, and a node that forgets
them can send a message that contradicts one it sent before, which its peers
see as equivocation. This command is the way back, for when the log cannot
be restored from a backup.

Without --discard-open-epochs it only looks: it reports what is damaged,
the chain's head, and the newest epoch the readable part of the log names,
and changes nothing. With the flag it moves the damaged log to
DATA/wal.damaged-<UTC time> (nothing is deleted; keep it for a post-mortem)
and leaves an empty log in its place, so that ` + "`node run`" + ` starts.

What that means: the restarted node no longer knows what it sent in the
epochs that were open at the crash. Its chain is untouched, and block sync
brings it up to its peers, but until they have decided those epochs it may
answer them differently than it did before. The safe path is to keep the
node out of consensus until the other delegates have decided every epoch
the damaged log names: give --wait-for the API address of one of them, and
repair waits, before moving anything, until that peer's chain is at least
16 epochs past the newest epoch in the damaged log (the margin covers a
damaged record for a later epoch, and the epochs the engine works ahead).
A node restarted after that only meets epochs its peers have decided, which
it learns by block sync; what it sends for them no longer changes a
decision.

What repair does not do: it does not repair chain.db (a damaged database is
restored from a backup or resynced from the peers, see docs/operators.md),
it cannot tell which messages the node sent, and without --wait-for it does
not check that the others have moved on: then wait yourself, for example
with ` + "`curl PEER/v1/status`" + `, before starting the node. Stop the node first;
repair refuses a data directory a running node holds.

   constellation node repair --data data/star-4
   constellation node repair --data data/star-4 --discard-open-epochs --wait-for 127.0.0.1:8001

A galaxy member keeps its galaxy chain in DATA/galaxy: repair it with
--data DATA/galaxy.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "data", Aliases: []string{"d"}, Usage: "the node's data directory (the one given to node run)", Value: "data/node"},
			&cli.BoolFlag{Name: "discard-open-epochs", Usage: "move the damaged log aside: the node forgets what it sent in the epochs open at the crash (see above)"},
			&cli.StringFlag{Name: "wait-for", Usage: "API host:port of another delegate of the same chain; wait until its chain has decided the epochs the damaged log names before moving it"},
			&cli.DurationFlag{Name: "wait-timeout", Usage: "give up waiting for --wait-for after this long", Value: 10 * time.Minute},
		},
		Action: repairNode,
	}
}

func repairNode(c *cli.Context) error {
	if c.NArg() > 0 {
		return cli.Exit(fmt.Sprintf("node repair takes no arguments (got %q); give the directory with --data", c.Args().First()), 2)
	}
	out := c.App.Writer
	data := c.String("data")
	if st, err := os.Stat(data); err != nil || !st.IsDir() {
		return fmt.Errorf("node repair: %s is not a node data directory (no such directory)", data)
	}
	chainDir := filepath.Join(data, "chain")
	if _, err := os.Stat(filepath.Join(chainDir, store.FileName)); err != nil {
		return fmt.Errorf("node repair: %s holds no chain (%s is missing); is it the directory given to node run --data?", data, filepath.Join(chainDir, store.FileName))
	}
	// Opening the store takes the directory's lock (a running node holds
	// it) and reads the head.
	st, err := store.Open(chainDir, store.Options{LockTimeout: time.Second})
	if err != nil {
		return fmt.Errorf("node repair: %w; repair moves a damaged log aside, it cannot mend the chain database", err)
	}
	height, _, _ := st.Head()
	var headEpoch uint64
	if height > 0 {
		b, err := st.Block(height)
		if err != nil {
			st.Close()
			return fmt.Errorf("node repair: read the head block: %w", err)
		}
		headEpoch = b.Header.Epoch
	}
	st.Close()

	walDir := filepath.Join(data, "wal")
	rep, err := wal.Inspect(walDir)
	if err != nil {
		return fmt.Errorf("node repair: %w", err)
	}
	fmt.Fprintf(out, "chain  %s: height %d, epoch %d\n", chainDir, height, headEpoch)
	switch {
	case rep.Missing && height == 0:
		fmt.Fprintf(out, "log    %s is missing and the chain holds no blocks: nothing to repair (node run creates it)\n", walDir)
		return nil
	case rep.Missing:
		fmt.Fprintf(out, "log    %s is MISSING, but the chain holds %d blocks\n", walDir, height)
	case rep.Damage == nil:
		fmt.Fprintf(out, "log    %s is sound: %d records in %d segments, newest epoch %d; nothing to repair\n", walDir, rep.Records, len(rep.Segments), rep.NewestEpoch)
		return nil
	default:
		fmt.Fprintf(out, "log    %s is DAMAGED: %d segments, %d readable records, newest readable epoch %d\n", walDir, len(rep.Segments), rep.Records, rep.NewestEpoch)
		fmt.Fprintf(out, "damage %v\n", shortDamage(rep.Damage))
	}
	target := max(rep.NewestEpoch, headEpoch) + repairMargin
	if !c.Bool("discard-open-epochs") {
		fmt.Fprintf(out, `
Nothing was changed. To start this node again without a backup of its log,
run this command again with --discard-open-epochs: it moves the log aside
and the node forgets what it sent in the epochs open at the crash. Keep the
node out of consensus until the other delegates' chains pass epoch %d
(add --wait-for PEER_API to have repair wait for that).

`, target)
		return errors.New("node repair: the log was not moved: that needs --discard-open-epochs")
	}
	if addr := c.String("wait-for"); addr != "" {
		if err := waitForEpoch(c.Context, out, addr, target, c.Duration("wait-timeout")); err != nil {
			return fmt.Errorf("node repair: %w; nothing was changed", err)
		}
	} else {
		fmt.Fprintf(out, "no --wait-for: not checking that the others have decided the open epochs; start the node only once their chains pass epoch %d\n", target)
	}
	moved, err := wal.MoveAside(walDir, time.Now())
	if err != nil {
		return fmt.Errorf("node repair: %w", err)
	}
	if moved != "" {
		fmt.Fprintf(out, "moved  the damaged log to %s (nothing deleted)\n", moved)
	}
	fmt.Fprintf(out, "created an empty log in %s; the node can start (node run --data %s) and will catch up by block sync\n", walDir, data)
	return nil
}

// shortDamage is the damage without the recovery advice, which this
// command is.
func shortDamage(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, "; to recover,"); i > 0 {
		s = s[:i]
	}
	return s
}

// waitForEpoch polls the node API at addr until the epoch of its head
// block is at least target.
func waitForEpoch(ctx context.Context, out io.Writer, addr string, target uint64, timeout time.Duration) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cl := api.NewClient(addr)
	fmt.Fprintf(out, "waiting until %s has decided epoch %d\n", addr, target)
	var last error
	for {
		epoch, err := headEpochOf(ctx, cl)
		if err == nil && epoch >= target {
			fmt.Fprintf(out, "peer   %s is at epoch %d\n", addr, epoch)
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("wait for %s to pass epoch %d: gave up after %s: %w", addr, target, timeout, last)
			}
			return fmt.Errorf("wait for %s to pass epoch %d: gave up after %s at epoch %d", addr, target, timeout, epoch)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func headEpochOf(ctx context.Context, cl *api.Client) (uint64, error) {
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	s, err := cl.Status(rctx)
	if err != nil {
		return 0, err
	}
	if s.Height == 0 {
		return 0, nil
	}
	b, err := cl.Block(rctx, s.Height)
	if err != nil {
		return 0, err
	}
	return b.Epoch, nil
}

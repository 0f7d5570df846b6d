package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/constellation-chain/constellation/framework/api"
	"github.com/constellation-chain/constellation/framework/keys"
	"github.com/constellation-chain/constellation/framework/node"
	"github.com/constellation-chain/constellation/interfaces"
)

func memberCommand() *cli.Command {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "manifest", Aliases: []string{"m"}, Usage: "manifest FILE (default: the embedded default manifest)"},
		&cli.StringFlag{Name: "node", Aliases: []string{"n"}, Usage: "the manifest's node whose star stands (its key file signs)", Required: true},
		&cli.StringFlag{Name: "api", Usage: "HOST:PORT of a node that keeps the cluster's chain (default: the node's own api)"},
		&cli.StringFlag{Name: "data", Aliases: []string{"d"}, Usage: "where the embedded default manifest's keys are (a testnet's data directory)", Value: "data/testnet"},
		&cli.DurationFlag{Name: "wait", Usage: "how long join and leave wait for the chain to commit the candidacy", Value: time.Minute},
	}
	return &cli.Command{
		Name:  "member",
		Usage: "stand for a Star Cluster's seats, stand down, or show a star's candidacy",
		Description: `A star that keeps a cluster's chain stands for the cluster's seats with a
membership transaction ordered by that chain; rotations draw the next
delegates from the stars standing (docs/hierarchy.md, "Candidates"). A node
with the "candidate" role stands by itself once it has caught up; these
commands are for standing down, and standing again, by hand. They sign with
the node's star key and talk to a node that keeps the cluster's chain:

   constellation member status --manifest net.hcl --node star-9
   constellation member leave  --manifest net.hcl --node star-9
   constellation member join   --manifest net.hcl --node star-9

A leave takes effect at the galaxy's next draws; a delegate that leaves
keeps its seat until the next rotation.`,
		Subcommands: []*cli.Command{
			{Name: "status", Usage: "show whether the star stands for the node's cluster", Flags: flags, Action: func(c *cli.Context) error { return memberAction(c, 0) }},
			{Name: "join", Usage: "stand for the seats of the node's cluster", Flags: flags, Action: func(c *cli.Context) error { return memberAction(c, interfaces.MemberJoin) }},
			{Name: "leave", Usage: "stand down from the seats of the node's cluster", Flags: flags, Action: func(c *cli.Context) error { return memberAction(c, interfaces.MemberLeave) }},
		},
	}
}

// memberAction shows the star's candidacy and, for a join or a leave,
// signs and submits one and waits until the chain holds it.
func memberAction(c *cli.Context, action interfaces.MemberAction) error {
	if c.NArg() != 0 {
		return fmt.Errorf("member %s takes no arguments, got %q", c.Command.Name, c.Args().Slice())
	}
	m, base, err := loadManifest(c, c.String("manifest"), c.String("data"))
	if err != nil {
		return err
	}
	mn, ok := m.Node(c.String("node"))
	if !ok {
		return fmt.Errorf("manifest %s has no node %q", m.Filename, c.String("node"))
	}
	if !m.HasGalaxy() {
		return fmt.Errorf("manifest %s has no galaxy: candidacies are drawn by the galaxy's beacons", m.Filename)
	}
	addr := c.String("api")
	if addr == "" {
		if addr = mn.API; addr == "" {
			return fmt.Errorf("node %q has no api address; name a node that keeps the cluster's chain with --api", mn.Name)
		}
	}
	key, err := node.LoadKey(mn, base, false)
	if err != nil {
		return err
	}
	star := keys.Star(key)
	cl := api.NewClient(addr)
	ctx, cancel := context.WithTimeout(c.Context, c.Duration("wait")+10*time.Second)
	defer cancel()
	cur, err := cl.Candidacy(ctx, star)
	if err != nil {
		return fmt.Errorf("read the candidacy of %s from %s: %w", mn.Name, addr, err)
	}
	w := c.App.Writer
	if action == 0 {
		printCandidacy(w, mn.Name, cur)
		return nil
	}
	if cur.Standing == (action == interfaces.MemberJoin) {
		printCandidacy(w, mn.Name, cur)
		return fmt.Errorf("nothing to do: %s %s cluster %d", mn.Name, standingWords(cur.Standing), cur.Cluster)
	}
	tx, err := memberTx(key, cur, action)
	if err != nil {
		return err
	}
	if err := cl.Submit(ctx, tx); err != nil {
		return fmt.Errorf("submit the %s: %w", action, err)
	}
	fmt.Fprintf(w, "%s of %s for cluster %d submitted (tx %s); waiting for the chain", action, mn.Name, cur.Cluster, tx.ID().Short())
	deadline := time.Now().Add(c.Duration("wait"))
	resend := time.Now().Add(resubmitEvery)
	for {
		got, err := cl.Candidacy(ctx, star)
		if err == nil && got.Seq >= tx.Seq {
			fmt.Fprintln(w)
			printCandidacy(w, mn.Name, got)
			return nil
		}
		if time.Now().After(deadline) {
			fmt.Fprintln(w)
			return fmt.Errorf("the chain did not commit the %s within %s (it may still: check with member status)", action, c.Duration("wait"))
		}
		if time.Now().After(resend) {
			// The node gossips a transaction it already holds again (a
			// first gossip can reach nobody, for a node that has just
			// started); anything else it answers now is for the chain
			// to tell.
			cl.Submit(ctx, tx)
			resend = time.Now().Add(resubmitEvery)
		}
		fmt.Fprint(w, ".")
		time.Sleep(time.Second)
	}
}

// resubmitEvery is how long a command that waits for its transaction
// waits before it submits it again.
const resubmitEvery = 5 * time.Second

// memberTx signs the star's next membership transaction after cur.
func memberTx(key ed25519.PrivateKey, cur api.Candidacy, action interfaces.MemberAction) (*interfaces.Transaction, error) {
	var prev interfaces.Hash
	if cur.Seq > 0 {
		var err error
		if prev, err = interfaces.ParseHash(cur.Last); err != nil {
			return nil, fmt.Errorf("the node answered a membership chain head %q: %w", cur.Last, err)
		}
	}
	return interfaces.NewMemberTx(key, cur.Seq+1, prev, interfaces.MemberPayload{Action: action, Cluster: interfaces.ClusterID(cur.Cluster)})
}

func standingWords(standing bool) string {
	if standing {
		return "stands for"
	}
	return "does not stand for"
}

func printCandidacy(w io.Writer, name string, c api.Candidacy) {
	state := standingWords(c.Standing)
	origin := ""
	if c.Genesis {
		origin = " (a genesis delegate)"
	}
	fmt.Fprintf(w, "%s %s %s cluster %d's seats%s; membership chain at %d\n", name, c.Star, state, c.Cluster, origin, c.Seq)
}

package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/constellation-chain/constellation/framework/keys"
)

func keygenCommand() *cli.Command {
	return &cli.Command{
		Name:      "keygen",
		Usage:     "create a star key (the node's ed25519 identity)",
		ArgsUsage: " ",
		Description: `Writes a new ed25519 key file (mode 0600) and prints the star id to put in a
manifest's genesis allocations or another node's configuration. An existing
file is never overwritten.

   constellation keygen --out keys/star-1.key`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "key file to write", Required: true},
		},
		Action: func(c *cli.Context) error {
			key, err := keys.Generate(nil)
			if err != nil {
				return err
			}
			if err := keys.Save(c.String("out"), key); err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "%s\n", keys.Star(key))
			fmt.Fprintf(c.App.ErrWriter, "wrote %s\n", c.String("out"))
			return nil
		},
	}
}

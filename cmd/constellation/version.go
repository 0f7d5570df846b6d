package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/constellation-chain/constellation/interfaces"
)

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version, the plugin API version and the built-in plugins",
		Action: func(c *cli.Context) error {
			w := c.App.Writer
			fmt.Fprintf(w, "constellation %s\n", buildVersion())
			fmt.Fprintf(w, "plugin API version %d\n", interfaces.APIVersion)
			fmt.Fprintln(w, "built-in plugins:")
			for _, p := range builtins() {
				info := p.Info()
				caps := strings.Join(info.SortedCapabilities(), ", ")
				if caps == "" {
					caps = "none"
				}
				fmt.Fprintf(w, "  %-12s %-12s %-8s capabilities: %s\n", info.Kind, info.Name, info.Version, caps)
			}
			return nil
		},
	}
}

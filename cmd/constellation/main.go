// Command constellation is the one CLI of a Constellation node: it runs
// nodes and local networks, makes keys, checks manifests, serves built-in
// plugins out of process and runs the conformance suites.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"

	"github.com/hashicorp/go-hclog"
	"github.com/urfave/cli/v2"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "0.1.0-dev"

// exitError carries an exit code without printing anything more.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	app := newApp()
	if err := app.Run(os.Args); err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		// cli.Exit errors carry their code (2 for a bad flag value); the
		// app's ExitErrHandler leaves exiting to here.
		var ec cli.ExitCoder
		if errors.As(err, &ec) && ec.ExitCode() != 0 {
			os.Exit(ec.ExitCode())
		}
		os.Exit(1)
	}
}

func newApp() *cli.App {
	return &cli.App{
		Name:  "constellation",
		Usage: "a blockchain microservice operating system",
		Description: `Constellation assembles a network node from plugins named in an HCL manifest:
consensus, reputation, partitioning, transport and contracts. Built-in and
external plugins are declared the same way; external ones are separate
binaries speaking the plugin RPC.

Start a local network with the embedded default manifest:

   constellation testnet

Check a manifest of your own:

   constellation manifest validate my-network.hcl`,
		Version:              buildVersion(),
		EnableBashCompletion: true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "log-level", Value: "info", Usage: "log level: trace, debug, info, warn, error", EnvVars: []string{"CONSTELLATION_LOG_LEVEL"}},
			&cli.BoolFlag{Name: "log-json", Usage: "log JSON lines instead of text", EnvVars: []string{"CONSTELLATION_LOG_JSON"}},
		},
		Commands: []*cli.Command{
			versionCommand(),
			keygenCommand(),
			manifestCommand(),
			withSubcommand(nodeCommand(), nodeRepairCommand()),
			testnetCommand(),
			chainCommand(),
			proofCommand(),
			verifyCommand(),
			pluginCommand(),
			conformanceCommand(),
			reputationCommand(),
			beaconCommand(),
			memberCommand(),
			contractCommand(),
			walletCommand(),
			simCommand(),
			withSubcommand(withSubcommand(benchCommand(), benchNetworkCommand()), benchRotationCommand()),
		},
		ExitErrHandler: func(*cli.Context, error) {},
		Before: func(c *cli.Context) error {
			if v := c.String("log-level"); hclog.LevelFromString(v) == hclog.NoLevel {
				return cli.Exit(fmt.Sprintf("--log-level %q: want trace, debug, info, warn or error", v), 2)
			}
			return nil
		},
		CommandNotFound: func(c *cli.Context, name string) {
			// c.Command is the command whose subcommand was not found:
			// the root, or a command such as plugin.
			parent := c.Command.HelpName
			if parent == "" {
				parent = c.App.Name
			}
			fmt.Fprintf(c.App.ErrWriter, "%s: unknown command %q; `%s --help` lists the commands\n", parent, name, parent)
			os.Exit(2)
		},
	}
}

func buildVersion() string {
	v := version
	if info, ok := debug.ReadBuildInfo(); ok {
		v += " (" + info.GoVersion + ")"
	}
	return v
}

// logger builds the root logger from the global flags.
func logger(c *cli.Context, name string) hclog.Logger {
	level := hclog.LevelFromString(c.String("log-level"))
	if level == hclog.NoLevel {
		level = hclog.Info
	}
	return hclog.New(&hclog.LoggerOptions{
		Name:       name,
		Level:      level,
		Output:     os.Stderr,
		JSONFormat: c.Bool("log-json"),
	})
}

// withSubcommand adds sub to c's subcommands.
func withSubcommand(c *cli.Command, sub *cli.Command) *cli.Command {
	c.Subcommands = append(c.Subcommands, sub)
	return c
}

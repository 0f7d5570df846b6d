package main

import (
	"fmt"
	"os"

	"github.com/hashicorp/hcl/v2"
	"github.com/mattn/go-isatty"
	"github.com/urfave/cli/v2"

	"github.com/constellation-chain/constellation/framework/manifest"
)

func manifestCommand() *cli.Command {
	return &cli.Command{
		Name:  "manifest",
		Usage: "work with network manifests",
		Subcommands: []*cli.Command{
			{
				Name:      "validate",
				Usage:     "check a manifest and the config of every plugin it names",
				ArgsUsage: "FILE",
				Description: `Parses FILE, checks the network, genesis, node and plugin blocks, and decodes
each plugin's config block against the schema the plugin declares. Every
problem is printed with its file:line and a snippet; the exit status is 1 if
any is an error. Without FILE it checks the embedded default manifest.`,
				Action: validateManifest,
			},
			{
				Name:  "default",
				Usage: "print the embedded default manifest (a starting point for your own)",
				Action: func(c *cli.Context) error {
					_, err := c.App.Writer.Write(manifest.Default())
					return err
				},
			},
		},
	}
}

func validateManifest(c *cli.Context) error {
	if c.NArg() > 1 {
		return fmt.Errorf("manifest validate takes one FILE, got %d arguments", c.NArg())
	}
	var (
		m     *manifest.Manifest
		diags hcl.Diagnostics
		name  = manifest.DefaultFilename + " (embedded)"
	)
	if c.NArg() == 1 {
		name = c.Args().First()
		m, diags = manifest.LoadFile(name)
	} else {
		m, diags = manifest.ParseDefault()
	}
	if m != nil && !diags.HasErrors() {
		cat, err := newCatalog(nil)
		if err != nil {
			return err
		}
		diags = append(diags, manifest.Check(m, cat.Lookup, cat.Known)...)
		diags = append(diags, m.CheckPluginFiles()...)
	}
	return reportDiagnostics(c, m, name, diags)
}

// reportDiagnostics prints diags and turns errors into exit status 1.
func reportDiagnostics(c *cli.Context, m *manifest.Manifest, name string, diags hcl.Diagnostics) error {
	if len(diags) > 0 {
		color := false
		if f, ok := c.App.ErrWriter.(*os.File); ok {
			color = isatty.IsTerminal(f.Fd())
		}
		var files map[string]*hcl.File
		if m != nil {
			files = m.Files
		}
		if err := manifest.WriteDiagnostics(c.App.ErrWriter, m, files, diags, color); err != nil {
			return err
		}
	}
	if diags.HasErrors() {
		n := 0
		for _, d := range diags {
			if d.Severity == hcl.DiagError {
				n++
			}
		}
		fmt.Fprintf(c.App.ErrWriter, "%s: %d error(s)\n", name, n)
		return exitError{1}
	}
	fmt.Fprintf(c.App.Writer, "%s: valid\n", name)
	return nil
}

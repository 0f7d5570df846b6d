package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	sha256 "github.com/minio/sha256-simd"
	"github.com/urfave/cli/v2"

	"github.com/constellation-chain/constellation/framework/catalog"
	"github.com/constellation-chain/constellation/framework/manifest"
	"github.com/constellation-chain/constellation/framework/metrics"
	"github.com/constellation-chain/constellation/interfaces"
	"github.com/constellation-chain/constellation/plugins"
	"github.com/constellation-chain/constellation/plugins/host"
)

func pluginCommand() *cli.Command {
	return &cli.Command{
		Name:  "plugin",
		Usage: "serve built-in plugins out of process, list them",
		Subcommands: []*cli.Command{
			{
				Name:      "serve",
				Usage:     "serve the built-in plugin KIND/NAME over the plugin RPC (a host starts this)",
				ArgsUsage: "KIND/NAME",
				Description: `Runs a built-in plugin as its own process, speaking the same go-plugin RPC
as any third-party binary. The conformance command uses it to check every
built-in out of process (constellation conformance --builtin KIND/NAME
--out-of-process). It is started by a host, not by hand: run alone it prints
go-plugin's notice and exits, unless CONSTELLATION_PLUGIN_DEBUG=1 is set,
which serves it in reattach mode for a debugger and prints the line to give
the host in CONSTELLATION_PLUGIN_REATTACH.`,
				Action: func(c *cli.Context) error {
					if p, ok := benchOnlyByRef(c.Args().First()); ok {
						return plugins.ServeChecked(p)
					}
					p, err := builtinByRef(c.Args().First())
					if err != nil {
						return err
					}
					return plugins.ServeChecked(p)
				},
			},
			{
				Name:  "list",
				Usage: "list the built-in plugins with their config schema",
				Description: `Lists every built-in plugin with the fields its config {} block accepts. A
consensus plugin's block also takes the node's own settings (batch_size,
block_interval_ms), which the node reads whether or not the engine declares
them; they are listed with the engine's fields, marked "(node setting)" where
the engine does not declare them itself.`,
				Action: func(c *cli.Context) error {
					cat, err := newCatalog(nil)
					if err != nil {
						return err
					}
					for _, p := range builtins() {
						own := p.Info()
						// The catalog's schema is what a manifest is checked
						// against: the plugin's own fields and, for
						// consensus, the node's settings.
						info, _ := cat.Lookup(own.Kind, own.Name)
						fmt.Fprintf(c.App.Writer, "%s/%s %s (API %v) capabilities: %s\n", info.Kind, info.Name, info.Version, info.APIVersions, strings.Join(info.SortedCapabilities(), ", "))
						for _, f := range info.Config {
							def := f.Default
							if def == "" {
								def = "-"
							}
							doc := f.Doc
							if !declares(own, f.Name) {
								doc = "(node setting) " + doc
							}
							fmt.Fprintf(c.App.Writer, "    %-22s %-12s default %-8s %s\n", f.Name, f.Type, def, doc)
						}
					}
					return nil
				},
			},
		},
	}
}

// builtinByRef finds "kind/name" among the builtins.
func builtinByRef(ref string) (interfaces.Plugin, error) {
	kind, name, ok := strings.Cut(ref, "/")
	if !ok {
		return nil, fmt.Errorf("want KIND/NAME (for example consensus/solo), got %q", ref)
	}
	cat, err := newCatalog(nil)
	if err != nil {
		return nil, err
	}
	p, ok := cat.Builtin(interfaces.Kind(kind), name)
	if !ok {
		return nil, fmt.Errorf("no built-in plugin %q; built-ins: %s", ref, strings.Join(builtinRefs(cat), ", "))
	}
	return p, nil
}

// declares reports whether info's own config schema has the field name.
func declares(info interfaces.PluginInfo, name string) bool {
	for _, f := range info.Config {
		if f.Name == name {
			return true
		}
	}
	return false
}

// builtinRefs names every builtin of cat as KIND/NAME, sorted by kind and
// name.
func builtinRefs(cat *catalog.Catalog) []string {
	var refs []string
	for _, p := range cat.All() {
		info := p.Info()
		refs = append(refs, string(info.Kind)+"/"+info.Name)
	}
	return refs
}

// externalLoader starts external plugins named in a manifest through the
// go-plugin host. dev allows binaries without a checksum.
func externalLoader(log hclog.Logger, dev bool) catalog.ExternalLoader {
	return meteredLoader(log, dev, nil)
}

// meteredLoader is externalLoader reporting the latency of every RPC to
// each plugin to the node's metrics mx (nil: none).
func meteredLoader(log hclog.Logger, dev bool, mx *metrics.Registry) catalog.ExternalLoader {
	return func(d *manifest.PluginDecl) (interfaces.Plugin, io.Closer, error) {
		opts := host.LoadOptions{Kind: d.Kind, Name: d.Name, Path: d.Path, SHA256: d.SHA256, Dev: dev, Logger: log}
		if mx != nil {
			name := d.String()
			opts.ObserveRPC = func(method string, took time.Duration, err error) { mx.PluginRPC(name, method, took, err) }
		}
		p, err := host.Load(opts)
		if err != nil {
			return nil, nil, err
		}
		f, err := p.Factory()
		if err != nil {
			p.Close()
			return nil, nil, err
		}
		return f, p, nil
	}
}

// fileSHA256 returns the sha256 of a file, as a manifest's sha256 holds it.
func fileSHA256(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("checksum %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, fmt.Errorf("checksum %s: %w", path, err)
	}
	return h.Sum(nil), nil
}

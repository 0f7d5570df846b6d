// Package manifest loads the HCL manifest that describes a Constellation
// network: the network and its genesis allocations, the nodes (key file,
// listen address, roles) and every plugin by kind and name, built in or
// external, with its `config { }` block.
//
// It sits at the very start of the data flow. The CLI (`constellation
// manifest validate`, `node run --manifest F`) calls LoadFile, then Check
// with the plugin catalog's lookup so each plugin's config block is validated
// against the schema the plugin declares before any plugin is started; the
// node assembly reads the resulting Manifest and the genesis builder turns
// Genesis into the first ledger state. The package performs no I/O beyond
// reading the manifest file itself and never evaluates anything but
// constants: references, function calls and string interpolation are
// refused.
//
// Every problem is reported as an hcl.Diagnostic whose Subject points at the
// offending block, label or attribute, with a Detail saying how to fix it;
// WriteDiagnostics prints them as "file:line:col: error: …" followed by a
// source snippet.
package manifest

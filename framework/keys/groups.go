package keys

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/constellation-chain/constellation/interfaces"
)

// GenesisFile is the public description of a hierarchical network's groups:
// the network's seed and, for each Star Cluster and the galaxy, its members
// and public group key. The dealer writes it beside the key shares
// (`constellation testnet` writes DATA/keys/genesis.json); every node reads
// it to check other groups' certificates, and a light client needs nothing
// else to verify a proof (`constellation verify PROOF --genesis F`). It
// holds no secret.
type GenesisFile struct {
	Network string        `json:"network"`
	Seed    string        `json:"seed"`
	Engine  string        `json:"engine"`
	Groups  []GroupRecord `json:"groups"`
}

// GroupRecord is one group in a GenesisFile.
type GroupRecord struct {
	// Name is interfaces.ClusterGroup of the group: "cluster/0", …, "galaxy".
	Name    string   `json:"name"`
	Members []string `json:"members"` // "ed25519:…", sorted
	Key     string   `json:"key"`     // the group public key, hex
}

// maxGenesisFile bounds the file read (1,024 clusters of 64 members fit).
const maxGenesisFile = 64 << 20

// Group returns the record of the group named name.
func (g *GenesisFile) Group(name string) (*GroupRecord, bool) {
	for i := range g.Groups {
		if g.Groups[i].Name == name {
			return &g.Groups[i], true
		}
	}
	return nil, false
}

// Stars decodes the record's members.
func (r *GroupRecord) Stars() ([]interfaces.StarID, error) {
	out := make([]interfaces.StarID, 0, len(r.Members))
	for _, m := range r.Members {
		s, err := interfaces.ParseStarID(m)
		if err != nil {
			return nil, fmt.Errorf("group %s: member %q: %w", r.Name, m, err)
		}
		out = append(out, s)
	}
	if !slices.IsSortedFunc(out, interfaces.CompareStars) {
		return nil, fmt.Errorf("group %s: members are not sorted", r.Name)
	}
	return out, nil
}

// KeyBytes decodes the record's group key.
func (r *GroupRecord) KeyBytes() ([]byte, error) {
	b, err := hex.DecodeString(r.Key)
	if err != nil || len(b) == 0 {
		return nil, fmt.Errorf("group %s: key is not hex", r.Name)
	}
	return b, nil
}

// Instance returns the group's first consensus instance id.
func (r *GroupRecord) Instance(seed string) (interfaces.InstanceID, error) {
	stars, err := r.Stars()
	if err != nil {
		return interfaces.InstanceID{}, err
	}
	return interfaces.NewInstanceID(seed, r.Name, 0, stars), nil
}

// SetGroup adds or replaces the record of a group.
func (g *GenesisFile) SetGroup(name string, members []interfaces.StarID, key []byte) {
	sorted := slices.Clone(members)
	slices.SortFunc(sorted, interfaces.CompareStars)
	rec := GroupRecord{Name: name, Key: hex.EncodeToString(key)}
	for _, m := range sorted {
		rec.Members = append(rec.Members, m.String())
	}
	if r, ok := g.Group(name); ok {
		*r = rec
		return
	}
	g.Groups = append(g.Groups, rec)
}

// LoadGenesisFile reads and checks a genesis file.
func LoadGenesisFile(path string) (*GenesisFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read genesis file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxGenesisFile+1))
	if err != nil {
		return nil, fmt.Errorf("read genesis file %s: %w", path, err)
	}
	if len(b) > maxGenesisFile {
		return nil, fmt.Errorf("genesis file %s is over %d bytes", path, maxGenesisFile)
	}
	g, err := DecodeGenesisFile(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return g, nil
}

// DecodeGenesisFile parses a genesis file's bytes strictly.
func DecodeGenesisFile(b []byte) (*GenesisFile, error) {
	var g GenesisFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		return nil, fmt.Errorf("genesis file: %w", err)
	}
	if dec.More() {
		return nil, errors.New("genesis file: data after the JSON object")
	}
	if g.Seed == "" {
		return nil, errors.New("genesis file: no seed")
	}
	seen := map[string]bool{}
	for i := range g.Groups {
		r := &g.Groups[i]
		if seen[r.Name] {
			return nil, fmt.Errorf("genesis file: group %s listed twice", r.Name)
		}
		seen[r.Name] = true
		if _, err := r.Stars(); err != nil {
			return nil, fmt.Errorf("genesis file: %w", err)
		}
		if _, err := r.KeyBytes(); err != nil {
			return nil, fmt.Errorf("genesis file: %w", err)
		}
	}
	return &g, nil
}

// Save writes the file (readable by everyone: it is public).
func (g *GenesisFile) Save(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create key directory: %w", err)
	}
	b, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write genesis file: %w", err)
	}
	return os.Rename(tmp, path)
}

package node

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/constellation-chain/constellation/interfaces"
)

// Moving to a new cluster. When a beacon opens a cluster, the candidates it
// splits off keep following their old cluster's chain until that chain
// completes the new cluster's first key generation (BlockMeta.Founded).
// A node among those candidates then records the founding, with its own
// key material when it is one of the first members, in a directory of its
// data directory (cluster-<id>/founding.json), and stops with a MovedError;
// whoever runs it opens it again (node run does so by itself), and
// FollowMoves makes the new cluster the node's cluster, its chain kept in
// that directory. A node moved twice has the second directory inside the
// first. The record is written before the node stops, from a block its old
// cluster certified, so a node that crashes in between records it again
// when it replays that chain.

// MovedError is what Node.Run returns when the node has moved to a new
// cluster: open it again (FollowMoves) to run that cluster's chain.
type MovedError struct{ Cluster interfaces.ClusterID }

func (e *MovedError) Error() string {
	return fmt.Sprintf("this star now stands for the new cluster %d; open the node again to keep its chain", e.Cluster)
}

// foundingFile is the name of a founding record in its cluster's directory.
const foundingFile = "founding.json"

// foundingRecord is founding.json.
type foundingRecord struct {
	Cluster  uint32   `json:"cluster"`
	Members  []string `json:"members"`
	GroupKey string   `json:"group_key"`
	// Keys is this member's key material of the new cluster (hex), empty
	// for a star that follows its chain without a first seat.
	Keys string `json:"keys,omitempty"`
}

// movedDir returns the directory in dataDir that keeps cluster c's chain
// once the node moved there.
func movedDir(dataDir string, c interfaces.ClusterID) string {
	return filepath.Join(dataDir, fmt.Sprintf("cluster-%d", c))
}

// saveFounding records founding f, and keys (nil for none), in dir.
func saveFounding(dir string, f interfaces.Founding, keys []byte) error {
	rec := foundingRecord{Cluster: uint32(f.Cluster), GroupKey: hex.EncodeToString(f.GroupKey), Keys: hex.EncodeToString(keys)}
	for _, m := range f.Members {
		rec.Members = append(rec.Members, m.String())
	}
	raw, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	path := filepath.Join(dir, foundingFile)
	tmp := path + ".tmp"
	fh, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := fh.Write(append(raw, '\n')); err != nil {
		fh.Close()
		return err
	}
	if err := fh.Sync(); err != nil {
		fh.Close()
		return err
	}
	if err := fh.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// loadFounding reads the founding record at path.
func loadFounding(path string) (interfaces.Founding, []byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return interfaces.Founding{}, nil, err
	}
	var rec foundingRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return interfaces.Founding{}, nil, fmt.Errorf("%s: %w", path, err)
	}
	f := interfaces.Founding{Cluster: interfaces.ClusterID(rec.Cluster)}
	if f.GroupKey, err = hex.DecodeString(rec.GroupKey); err != nil || len(f.GroupKey) == 0 {
		return interfaces.Founding{}, nil, fmt.Errorf("%s: group_key is not a hex key", path)
	}
	for i, m := range rec.Members {
		s, err := interfaces.ParseStarID(m)
		if err != nil {
			return interfaces.Founding{}, nil, fmt.Errorf("%s: members[%d]: %w", path, i, err)
		}
		f.Members = append(f.Members, s)
	}
	if len(f.Members) == 0 || !slices.IsSortedFunc(f.Members, interfaces.CompareStars) {
		return interfaces.Founding{}, nil, fmt.Errorf("%s: members must be a sorted, non-empty list", path)
	}
	keys, err := hex.DecodeString(rec.Keys)
	if err != nil {
		return interfaces.Founding{}, nil, fmt.Errorf("%s: keys is not hex", path)
	}
	if len(keys) == 0 {
		keys = nil
	}
	return f, keys, nil
}

// FollowMoves makes cfg, a node's cluster group, the cluster the node
// moved to, if it did (see MovedError): that cluster, its first members,
// this node's key material of it (none for a follower) and its directory.
// learn, when true, also tells h the new cluster's key, which a node
// without the galaxy's chain would otherwise learn only from the black
// holes it hears of (a galaxy member must not: its chain decides when the
// galaxy knows the key). It reports whether the node moved.
func FollowMoves(cfg *Config, h *Hierarchy, learn bool) (bool, error) {
	moved := false
	for {
		matches, err := filepath.Glob(filepath.Join(cfg.DataDir, "cluster-*", foundingFile))
		if err != nil {
			return moved, err
		}
		switch len(matches) {
		case 0:
			return moved, nil
		case 1:
		default:
			return moved, fmt.Errorf("%s holds %d founding records (%v); a node moves to one cluster at a time", cfg.DataDir, len(matches), matches)
		}
		f, keys, err := loadFounding(matches[0])
		if err != nil {
			return moved, fmt.Errorf("the node moved to a new cluster, and its record of it is damaged: %w", err)
		}
		if dir := movedDir(cfg.DataDir, f.Cluster); filepath.Dir(matches[0]) != dir {
			return moved, fmt.Errorf("%s records cluster %d", matches[0], f.Cluster)
		}
		cfg.Cluster, cfg.Members, cfg.ConsensusKeys, cfg.DataDir = f.Cluster, f.Members, keys, movedDir(cfg.DataDir, f.Cluster)
		if learn {
			h.found(f)
		}
		moved = true
	}
}

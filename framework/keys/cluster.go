package keys

import (
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/constellation-chain/constellation/interfaces"
)

// ClusterPEMType is the PEM type of a cluster key share file.
const ClusterPEMType = "CONSTELLATION CLUSTER KEY SHARE"

// ClusterShare is one member's share of its cluster's threshold keys, as
// `constellation keygen --cluster` writes it: which engine dealt it, for
// which member, and the engine's own key blob (interfaces.ConsensusConfig.Keys).
// It holds secret material; the file is written with mode 0600.
type ClusterShare struct {
	Engine string
	Member interfaces.StarID
	Keys   []byte
}

// EncodeClusterShare returns the PEM file for s. The headers are for
// people; DecodeClusterShare checks them against the body's owner.
func EncodeClusterShare(s ClusterShare) []byte {
	return pem.EncodeToMemory(&pem.Block{
		Type:    ClusterPEMType,
		Headers: map[string]string{"Engine": s.Engine, "Member": s.Member.String()},
		Bytes:   s.Keys,
	})
}

// DecodeClusterShare parses a cluster key share file.
func DecodeClusterShare(b []byte) (ClusterShare, error) {
	blk, rest := pem.Decode(b)
	if blk == nil {
		return ClusterShare{}, errors.New("cluster key share: no PEM block")
	}
	if blk.Type != ClusterPEMType {
		return ClusterShare{}, fmt.Errorf("cluster key share: PEM type %q, want %q", blk.Type, ClusterPEMType)
	}
	if strings.TrimSpace(string(rest)) != "" {
		return ClusterShare{}, errors.New("cluster key share: data after the PEM block")
	}
	member, err := interfaces.ParseStarID(blk.Headers["Member"])
	if err != nil {
		return ClusterShare{}, fmt.Errorf("cluster key share: member header: %w", err)
	}
	if blk.Headers["Engine"] == "" {
		return ClusterShare{}, errors.New("cluster key share: no Engine header")
	}
	return ClusterShare{Engine: blk.Headers["Engine"], Member: member, Keys: blk.Bytes}, nil
}

// LoadClusterShare reads path and checks it was dealt for engine and member.
func LoadClusterShare(path, engine string, member interfaces.StarID) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read cluster key share: %w", err)
	}
	s, err := DecodeClusterShare(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if s.Engine != engine {
		return nil, fmt.Errorf("%s was dealt for the %s engine, the manifest runs %s", path, s.Engine, engine)
	}
	if s.Member != member {
		return nil, fmt.Errorf("%s belongs to %s, not to this node %s", path, s.Member, member)
	}
	return s.Keys, nil
}

// SaveClusterShare writes s to path with mode 0600, replacing an older
// file only when replace is set.
func SaveClusterShare(path string, s ClusterShare, replace bool) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create key directory: %w", err)
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if replace {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if err != nil {
		return fmt.Errorf("write cluster key share: %w", err)
	}
	if _, err := f.Write(EncodeClusterShare(s)); err != nil {
		f.Close()
		return fmt.Errorf("write cluster key share %s: %w", path, err)
	}
	return f.Close()
}

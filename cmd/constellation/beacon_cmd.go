package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/constellation-chain/constellation/builtin/honeybadger"
	"github.com/constellation-chain/constellation/builtin/honeybadger/tcrypto"
	"github.com/constellation-chain/constellation/framework/keys"
	"github.com/constellation-chain/constellation/interfaces"
)

func beaconCommand() *cli.Command {
	return &cli.Command{
		Name:  "beacon",
		Usage: "make or check the selection beacon: a group's threshold BLS signature on a black hole",
		Description: `Delegate selection is seeded by the hash of the galaxy's threshold BLS
signature on the previous black hole. A BLS signature is unique for its
key and message, and it exists only once a threshold of the group signed,
so no proposer can grind the seed by choosing block contents.

The group key is a cluster key share file written by
` + "`constellation keygen --cluster N`" + ` (HoneyBadger engine): verify reads only its
public part; sign combines the shares of at least f+1 members, as the
galaxy does in its protocol.

   constellation keygen --cluster 4 --out-dir keys
   constellation beacon sign --share keys/star-1.cluster.key --share keys/star-2.cluster.key --message HASH
   constellation beacon verify --group-key keys/star-3.cluster.key --message HASH --signature SIG
   constellation reputation replay --black-hole HASH --beacon-signature SIG --group-key keys/star-3.cluster.key`,
		Subcommands: []*cli.Command{
			{
				Name:  "sign",
				Usage: "combine f+1 members' signature shares on a message and print the signature and beacon",
				Flags: []cli.Flag{
					&cli.StringSliceFlag{Name: "share", Usage: "a member's cluster key share FILE (repeat; at least f+1)", Required: true},
					&cli.StringFlag{Name: "message", Usage: "the black hole hash to sign (64 hex digits)", Required: true},
				},
				Action: func(c *cli.Context) error {
					msg, err := interfaces.ParseHash(c.String("message"))
					if err != nil {
						return fmt.Errorf("--message: %w", err)
					}
					var pk *tcrypto.PublicKeySet
					shares := map[int]tcrypto.SigShare{}
					for _, path := range c.StringSlice("share") {
						k, err := loadGroupKeys(path)
						if err != nil {
							return err
						}
						if pk == nil {
							pk = k.Public
						} else if !pk.Equal(k.Public) {
							return fmt.Errorf("%s belongs to another group than %s", path, c.StringSlice("share")[0])
						}
						shares[k.Index] = k.Secret.SignShare(msg[:])
					}
					sig, _, err := pk.CombineSigShares(msg[:], shares)
					if err != nil {
						return fmt.Errorf("sign %s: %w (the group needs %d distinct members' shares)", c.String("message"), err, pk.Threshold())
					}
					beacon, err := pk.Beacon(msg[:], sig)
					if err != nil {
						return err
					}
					enc, err := sig.MarshalBinary()
					if err != nil {
						return err
					}
					fmt.Fprintf(c.App.Writer, "signature %s\nbeacon    %s\n", hex.EncodeToString(enc), beacon)
					return nil
				},
			},
			{
				Name:  "verify",
				Usage: "check a signature on a message under the group key and print the beacon",
				Flags: beaconFlags(true),
				Action: func(c *cli.Context) error {
					beacon, err := beaconFromFlags(c)
					if err != nil {
						return err
					}
					fmt.Fprintf(c.App.Writer, "beacon %s\n", beacon)
					return nil
				},
			},
		},
	}
}

// beaconFlags are the flags naming a beacon: the signed black hole, the
// signature and the group key.
func beaconFlags(required bool) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "black-hole", Aliases: []string{"message"}, Usage: "the black hole hash that was signed (64 hex digits)", Required: required},
		&cli.StringFlag{Name: "beacon-signature", Aliases: []string{"signature"}, Usage: "the group's threshold signature on it (hex, as beacon sign prints it)", Required: required},
		&cli.StringFlag{Name: "group-key", Usage: "a cluster key share FILE of the signing group (only its public part is read)", Required: required},
	}
}

// beaconFromFlags verifies the beacon flags and returns the seed.
func beaconFromFlags(c *cli.Context) (interfaces.Hash, error) {
	var missing []string
	for _, f := range []string{"black-hole", "beacon-signature", "group-key"} {
		if c.String(f) == "" {
			missing = append(missing, "--"+f)
		}
	}
	if len(missing) > 0 {
		return interfaces.Hash{}, fmt.Errorf("a beacon needs --black-hole, --beacon-signature and --group-key; missing %s", strings.Join(missing, ", "))
	}
	msg, err := interfaces.ParseHash(c.String("black-hole"))
	if err != nil {
		return interfaces.Hash{}, fmt.Errorf("--black-hole: %w", err)
	}
	raw, err := hex.DecodeString(c.String("beacon-signature"))
	if err != nil {
		return interfaces.Hash{}, fmt.Errorf("--beacon-signature: not hex: %w", err)
	}
	var sig tcrypto.Signature
	if err := sig.UnmarshalBinary(raw); err != nil {
		return interfaces.Hash{}, fmt.Errorf("--beacon-signature: %w", err)
	}
	k, err := loadGroupKeys(c.String("group-key"))
	if err != nil {
		return interfaces.Hash{}, err
	}
	beacon, err := k.Public.Beacon(msg[:], sig)
	if errors.Is(err, tcrypto.ErrBadBeacon) {
		return interfaces.Hash{}, fmt.Errorf("the signature is not the group's signature on black hole %s (group key %s)", msg, c.String("group-key"))
	}
	return beacon, err
}

// loadGroupKeys reads a HoneyBadger cluster key share file.
func loadGroupKeys(path string) (*honeybadger.Keys, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read group key: %w", err)
	}
	s, err := keys.DecodeClusterShare(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if s.Engine != honeybadger.Name {
		return nil, fmt.Errorf("%s was dealt for the %s engine; beacons use HoneyBadger's BLS12-381 keys", path, s.Engine)
	}
	k, err := honeybadger.DecodeKeys(s.Keys)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

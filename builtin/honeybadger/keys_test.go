package honeybadger

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/constellation-chain/constellation/interfaces"
)

func TestDealKeysGivesEachMemberItsShare(t *testing.T) {
	members := testMembers(4)
	keys, err := Factory{}.DealKeys(members, 0, rand.NewChaCha8([32]byte{1}))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 4 {
		t.Fatalf("%d blobs, want 4", len(keys))
	}
	for i, b := range keys {
		k, err := DecodeKeys(b)
		if err != nil {
			t.Fatalf("member %d: %v", i, err)
		}
		if k.Index != i || k.Public.N() != 4 || k.Public.Threshold() != 2 {
			t.Fatalf("member %d: index %d n %d threshold %d", i, k.Index, k.Public.N(), k.Public.Threshold())
		}
		again, err := k.Encode()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("member %d: keys do not re-encode canonically (%v)", i, err)
		}
	}
	// Keys of member 1 do not start member 0.
	cfg := testConfig(members, 0)
	cfg.Keys = keys[1]
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "member") {
		t.Fatalf("engine accepted another member's keys: %v", err)
	}
	// Mode A needs no keys; the default mode does.
	cfg.Keys = nil
	if _, err := New(cfg); err == nil {
		t.Fatal("engine with encryption started without keys")
	}
	if _, err := (ProtocolOnly()).NewConsensus(cfg); err != nil {
		t.Fatalf("mode A without keys: %v", err)
	}
}

func TestKeyFileRoundTrip(t *testing.T) {
	members := testMembers(4)
	keys := testKeys(t, members)
	kf := &KeyFile{Member: members[2], Members: members, Keys: keys[2]}
	text := EncodeKeyFile(kf)
	if !bytes.Contains(text, []byte("BEGIN CONSTELLATION HONEYBADGER KEYS")) {
		t.Fatalf("key file is not PEM:\n%s", text)
	}
	got, err := DecodeKeyFile(text)
	if err != nil {
		t.Fatal(err)
	}
	if got.Member != kf.Member || len(got.Members) != 4 || !bytes.Equal(got.Keys, kf.Keys) {
		t.Fatal("key file did not round-trip")
	}
	// The wrong member's keys are refused.
	bad := &KeyFile{Member: members[1], Members: members, Keys: keys[2]}
	if _, err := DecodeKeyFile(EncodeKeyFile(bad)); err == nil {
		t.Fatal("key file naming the wrong member decoded")
	}
}

func TestParamsStrict(t *testing.T) {
	if _, err := ParseParams([]byte(`{"coin_schedule": false, "bogus": 1}`)); err == nil {
		t.Fatal("unknown config field accepted")
	}
	// The switches that weaken the protocol are not in the schema.
	for _, field := range []string{`{"encrypt": false}`, `{"threshold_coin": false}`} {
		if _, err := ParseParams([]byte(field)); err == nil {
			t.Fatalf("config %s accepted: a manifest must not be able to weaken the protocol", field)
		}
	}
	p, err := ParseParams([]byte(`{"coin_schedule": false}`))
	if err != nil || !p.Encrypt || !p.ThresholdCoin || p.CoinSchedule || p.MaxFutureEpochs != 4 {
		t.Fatalf("params %+v, %v", p, err)
	}
	if caps := ProtocolOnly().Info().Capabilities; slices.Contains(caps, interfaces.CapCensorship) || slices.Contains(caps, interfaces.CapAsynchronous) {
		t.Fatalf("the protocol-only factory claims %v", caps)
	}
	if err := (Factory{}).Info().Validate(); err != nil {
		t.Fatal(err)
	}
}

func FuzzDecodeKeys(f *testing.F) {
	members := testMembers(4)
	keys := testKeys(f, members)
	f.Add(keys[0])
	f.Add(EncodeKeyFile(&KeyFile{Member: members[0], Members: members, Keys: keys[0]}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if k, err := DecodeKeys(b); err == nil {
			again, err := k.Encode()
			if err != nil || !bytes.Equal(again, b) {
				t.Fatalf("accepted non-canonical keys")
			}
		}
		_, _ = DecodeKeyFile(b)
	})
}

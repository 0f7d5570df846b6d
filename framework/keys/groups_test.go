package keys

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/constellation-chain/constellation/interfaces"
)

func TestGenesisFileRoundTripAndChecks(t *testing.T) {
	g := &GenesisFile{Network: "devnet", Seed: "s", Engine: "honeybadger"}
	g.SetGroup("galaxy", []interfaces.StarID{interfaces.DevStar("b"), interfaces.DevStar("a")}, []byte{1, 2, 3})
	path := filepath.Join(t.TempDir(), "genesis.json")
	if err := g.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := LoadGenesisFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, ok := back.Group("galaxy")
	if !ok {
		t.Fatal("galaxy lost")
	}
	if _, err := r.Instance("s"); err != nil {
		t.Fatal(err)
	}
	hi, lo := interfaces.DevStar("a"), interfaces.DevStar("b")
	if interfaces.CompareStars(hi, lo) < 0 {
		hi, lo = lo, hi
	}
	for name, src := range map[string]string{
		"unknown field":   `{"seed":"s","groups":[],"extra":1}`,
		"no seed":         `{"groups":[]}`,
		"unsorted":        `{"seed":"s","groups":[{"name":"g","members":["` + hi.String() + `","` + lo.String() + `"],"key":"01"}]}`,
		"bad key":         `{"seed":"s","groups":[{"name":"g","members":[],"key":"zz"}]}`,
		"duplicate":       `{"seed":"s","groups":[{"name":"g","members":[],"key":"01"},{"name":"g","members":[],"key":"01"}]}`,
		"trailing data":   `{"seed":"s","groups":[]} {}`,
		"not json at all": `genesis`,
	} {
		if _, err := DecodeGenesisFile([]byte(src)); err == nil {
			t.Errorf("%s: accepted", name)
		} else if !strings.Contains(err.Error(), "genesis file") {
			t.Errorf("%s: error %q does not say what", name, err)
		}
	}
}

func FuzzDecodeGenesisFile(f *testing.F) {
	f.Add([]byte(`{"network":"devnet","seed":"s","engine":"honeybadger","groups":[{"name":"galaxy","members":[],"key":"01"}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		g, err := DecodeGenesisFile(raw)
		if err != nil {
			return
		}
		for i := range g.Groups {
			if _, err := g.Groups[i].Instance(g.Seed); err != nil {
				t.Fatalf("accepted a group whose instance cannot be derived: %v", err)
			}
		}
	})
}

package conformance

import (
	"encoding/json"
	"flag"
	"os"
	"testing"
)

var rewrite = flag.Bool("rewrite", false, "regenerate conformance/testdata vectors")

// TestRecordedEncodingVectors checks this implementation against the
// recorded encodings, and that generating them again gives the same file
// (so a change of encoding is a deliberate, visible rewrite).
func TestRecordedEncodingVectors(t *testing.T) {
	gen := GenerateVectors()
	if *rewrite {
		b, _ := json.MarshalIndent(gen, "", "  ")
		if err := os.WriteFile(VectorsFile, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	recorded, err := LoadVectors(VectorsFile)
	if err != nil {
		t.Fatalf("%v (run go test ./conformance -run Vectors -rewrite to create it)", err)
	}
	for _, v := range recorded {
		if err := CheckVector(v); err != nil {
			t.Error(err)
		}
	}
	if len(gen) != len(recorded) {
		t.Fatalf("generated %d vectors, recorded %d: run with -rewrite if the change is deliberate", len(gen), len(recorded))
	}
	for i := range gen {
		if gen[i] != recorded[i] {
			t.Errorf("vector %s changed: run with -rewrite if the change is deliberate", gen[i].Name)
		}
	}
}

func TestCorruptedVectorsAreRefused(t *testing.T) {
	for _, v := range GenerateVectors() {
		if v.Type == "merkle" || v.Type == "genesis" {
			continue
		}
		bad := v
		bad.Hex = v.Hex + "00" // a trailing byte
		if err := CheckVector(bad); err == nil {
			t.Errorf("%s: trailing byte accepted", v.Name)
		}
		if len(v.Hex) > 4 {
			bad.Hex = v.Hex[:len(v.Hex)-2] // one byte short
			if err := CheckVector(bad); err == nil {
				t.Errorf("%s: truncation accepted", v.Name)
			}
		}
	}
}

package main

import (
	"testing"

	"github.com/constellation-chain/constellation/builtin/meme"
	"github.com/constellation-chain/constellation/interfaces"
)

// TestTheAPIExplainsAsTheCLIDoes: the node API's explanation of a score is
// the built-in reputation's Explain, field for field; another engine
// cannot explain.
func TestTheAPIExplainsAsTheCLIDoes(t *testing.T) {
	rep, err := meme.Factory{}.NewReputation(nil)
	if err != nil {
		t.Fatal(err)
	}
	star := interfaces.DevStar("x")
	got, ok := explainMeme(rep, star)
	if !ok {
		t.Fatal("the built-in reputation did not explain")
	}
	want := rep.(*meme.Reputation).Explain(star)
	if got.Score != int64(want.Score) || got.Score != int64(rep.Score(star)) || got.BucketName != want.BucketName || len(got.Features) != len(want.Features) || got.Known != want.Known {
		t.Fatalf("explanation %+v, want %+v", got, want)
	}
	for i, f := range want.Features {
		if g := got.Features[i]; g.Name != f.Name || g.Raw != f.Raw || g.Normalized != int64(f.Normalized) || g.Weight != int64(f.Weight) {
			t.Errorf("feature %d: %+v, want %+v", i, g, f)
		}
	}
	if _, ok := explainMeme(opaque{rep}, star); ok {
		t.Fatal("an engine that is not the built-in one explained")
	}
}

// opaque hides the built-in engine behind the interface, as a plugin
// client does.
type opaque struct{ interfaces.Reputation }

package main

import (
	"github.com/constellation-chain/constellation/builtin/meme"
	"github.com/constellation-chain/constellation/framework/api"
	"github.com/constellation-chain/constellation/interfaces"
)

// explainMeme is the node API's explainer (node.Explainer): the built-in
// reputation's Explain, as `constellation reputation explain` prints it,
// in the API's JSON shape. A reputation plugin out of process cannot
// explain; only its scores cross the plugin RPC.
func explainMeme(rep interfaces.Reputation, star interfaces.StarID) (*api.MemeExplanation, bool) {
	m, ok := rep.(*meme.Reputation)
	if !ok {
		return nil, false
	}
	ex := m.Explain(star)
	out := &api.MemeExplanation{
		Known: ex.Known, Newcomer: ex.Newcomer, Round: ex.Round, FirstSeen: ex.FirstSeen, FirstMember: ex.FirstMember,
		FaultsTotal: ex.FaultsTotal, TxSent: ex.TxSent, TxReceived: ex.TxReceived,
		TPR: int64(ex.TPR), FlowCredit: int64(ex.FlowCredit), AdmissionCredit: int64(ex.AdmissionCredit),
		FaultPenalty: int64(ex.FaultPenalty), Score: int64(ex.Score), Bucket: ex.Bucket, BucketName: ex.BucketName,
		Features: []api.MemeFeature{},
	}
	for _, f := range ex.Features {
		out.Features = append(out.Features, api.MemeFeature{Name: f.Name, Raw: f.Raw, Unit: f.Unit,
			Normalized: int64(f.Normalized), Weight: int64(f.Weight), Source: f.Source})
	}
	return out, true
}

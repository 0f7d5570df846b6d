package node

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/constellation-chain/constellation/framework/api"
	"github.com/constellation-chain/constellation/framework/catalog"
	"github.com/constellation-chain/constellation/framework/ledger"
	"github.com/constellation-chain/constellation/framework/pool"
	"github.com/constellation-chain/constellation/framework/store"
	"github.com/constellation-chain/constellation/interfaces"
)

var _ api.ContractBackend = (*Node)(nil)

// contractHost is a node's side of contracts: it reads what its chain
// records of them, and, for the contracts this star hosts, starts them
// (at their first call) and executes and co-signs calls.
type contractHost struct {
	rt   interfaces.ContractHost
	key  ed25519.PrivateKey
	self interfaces.StarID
}

// openContracts builds the contract runtime a manifest declared, with its
// bundles under the node's data directory unless its config says where.
func openContracts(l *catalog.Loaded, dataDir string, key ed25519.PrivateKey) (*contractHost, error) {
	f, ok := l.Plugin.(interfaces.ContractsFactory)
	if !ok {
		return nil, fmt.Errorf("contracts %s: not a contract runtime", l.Info.Name)
	}
	params := map[string]any{}
	if len(l.Params) != 0 && string(l.Params) != "null" {
		if err := json.Unmarshal(l.Params, &params); err != nil {
			return nil, fmt.Errorf("contracts %s: config: %w", l.Info.Name, err)
		}
	}
	if _, ok := params["dir"]; !ok {
		params["dir"] = filepath.Join(dataDir, "contracts")
	}
	raw, err := json.Marshal(params)
	if err != nil {
		return nil, err
	}
	rt, err := f.NewRuntime(raw)
	if err != nil {
		return nil, fmt.Errorf("start contracts %s: %w", l.Info.Name, err)
	}
	h, ok := rt.(interfaces.ContractHost)
	if !ok {
		rt.Close()
		return nil, fmt.Errorf("contracts %s: the runtime cannot execute calls against a chain", l.Info.Name)
	}
	return &contractHost{rt: h, key: key, self: keyStar(key)}, nil
}

func keyStar(key ed25519.PrivateKey) interfaces.StarID {
	s, _ := interfaces.StarIDFromPublicKey(key.Public().(ed25519.PublicKey))
	return s
}

func (n *Node) closeContracts() {
	if n.contracts != nil {
		n.contracts.rt.Close()
	}
}

func (n *Node) contractStore() (*store.Store, error) {
	if n.contracts == nil {
		return nil, fmt.Errorf("%w: %s", api.ErrNotFound, api.ContractsNotServed)
	}
	return n.Group.Store(), nil
}

// deployOf loads what the chain records of contract c.
func deployOf(st *store.Store, c interfaces.StarID) (interfaces.DeployPayload, interfaces.Hash, error) {
	seq, last, err := st.ChainHead(c)
	if err != nil {
		return interfaces.DeployPayload{}, last, err
	}
	if seq == 0 {
		return interfaces.DeployPayload{}, last, fmt.Errorf("%w: this chain has no contract %s (a contract lives in the cluster that ordered its deploy)", api.ErrNotFound, c)
	}
	d, ok, err := ledger.LoadDeploy(ledger.LoadTxFrom(st.TxHeight, st.Block), c, last)
	if err == nil && !ok {
		err = fmt.Errorf("%w: %s is no contract this chain deployed", api.ErrNotFound, c)
	}
	return d, last, err
}

// HostedContracts implements api.ContractBackend.
func (n *Node) HostedContracts() ([]string, error) {
	if _, err := n.contractStore(); err != nil {
		return nil, err
	}
	type lister interface{ RunningContracts() []interfaces.StarID }
	var out []string
	if l, ok := n.contracts.rt.(lister); ok {
		for _, c := range l.RunningContracts() {
			out = append(out, c.String())
		}
	}
	return out, nil
}

// Contract implements api.ContractBackend.
func (n *Node) Contract(c interfaces.StarID) (api.ContractInfo, error) {
	st, err := n.contractStore()
	if err != nil {
		return api.ContractInfo{}, err
	}
	height, _, _ := st.Head()
	if info, ok, err := compositeInfo(st, c, height); ok || err != nil {
		return info, err
	}
	d, id, err := deployOf(st, c)
	if err != nil {
		return api.ContractInfo{}, err
	}
	bal, err := st.Balance(c)
	if err != nil {
		return api.ContractInfo{}, err
	}
	info := api.ContractInfo{
		Contract: c.String(), Name: d.Name, Runtime: d.Runtime.String(), CodeHash: d.CodeHash.String(), Deploy: id.String(),
		Carried: len(d.Bundle) > 0, Threshold: int(d.Threshold), Balance: bal, Height: height,
	}
	for _, m := range d.Interface.Methods {
		info.Methods = append(info.Methods, api.ContractMethod{Name: m.Name, Input: m.Input, Output: m.Output})
	}
	for _, h := range d.Hosts {
		info.Hosts = append(info.Hosts, h.String())
	}
	type runner interface{ Running(interfaces.StarID) bool }
	if r, ok := n.contracts.rt.(runner); ok {
		info.Running = r.Running(c)
	}
	return info, nil
}

// ContractState implements api.ContractBackend.
func (n *Node) ContractState(c interfaces.StarID, key []byte) (api.ContractValue, error) {
	st, err := n.contractStore()
	if err != nil {
		return api.ContractValue{}, err
	}
	if _, _, err := deployOf(st, c); err != nil {
		return api.ContractValue{}, err
	}
	height, _, _ := st.Head()
	v, ver, ok, err := ledger.ContractValue(st.ChainHead, ledger.LoadTxFrom(st.TxHeight, st.Block), interfaces.ContractKey(c, key))
	if err != nil {
		return api.ContractValue{}, err
	}
	return api.ContractValue{Contract: c.String(), Key: string(key), Found: ok, Value: hex.EncodeToString(v), Text: string(v), Version: ver, Height: height}, nil
}

// Endorse implements api.ContractBackend: it starts the contract if this
// star hosts it and it does not run yet, executes the call against the
// committed state at call.Height and co-signs the result.
func (n *Node) Endorse(ctx context.Context, call interfaces.Call) (api.Endorsed, error) {
	st, err := n.contractStore()
	if err != nil {
		return api.Endorsed{}, err
	}
	d, _, err := deployOf(st, call.Contract)
	if err != nil {
		return api.Endorsed{}, err
	}
	h := n.contracts
	if !slices.Contains(d.Hosts, h.self) {
		return api.Endorsed{}, fmt.Errorf("%w: %s is not among the %d hosts contract %s names", api.ErrNotHost, h.self.Short(), len(d.Hosts), call.Contract.Short())
	}
	if err := h.rt.Deploy(ctx, interfaces.Deployment{Contract: call.Contract, Deploy: d}); err != nil {
		return api.Endorsed{}, err
	}
	res, err := h.rt.Execute(ctx, storeChain{st}, call)
	if err != nil {
		if errors.Is(err, errStateMoved) {
			return api.Endorsed{}, fmt.Errorf("%w: %v", api.ErrStateMoved, err)
		}
		return api.Endorsed{}, fmt.Errorf("%w: %v", api.ErrCallRefused, err)
	}
	en, err := interfaces.Endorse(h.key, call, res)
	if err != nil {
		return api.Endorsed{}, err
	}
	return api.EndorsedOf(res, en), nil
}

var errStateMoved = errors.New("state moved")

// storeChain is the committed chain as a host executes calls against it.
// The store keeps only the newest state, so it can answer for an older
// height only the keys not written since; Value refuses the others (the
// caller retries at a newer height).
type storeChain struct{ st *store.Store }

func (c storeChain) Block(height uint64) (interfaces.Hash, int64, error) {
	head, _, _ := c.st.Head()
	if height > head {
		return interfaces.Hash{}, 0, fmt.Errorf("%w: height %d is not committed here yet (head %d)", errStateMoved, height, head)
	}
	if height == 0 {
		g, err := c.st.Genesis()
		if err != nil {
			return interfaces.Hash{}, 0, err
		}
		return g.Hash(), g.Timestamp, nil
	}
	b, err := c.st.Block(height)
	if err != nil {
		return interfaces.Hash{}, 0, err
	}
	return b.Hash(), b.Header.Timestamp, nil
}

func (c storeChain) Value(height uint64, key []byte) ([]byte, uint64, bool, error) {
	v, ver, ok, err := ledger.ContractValue(c.st.ChainHead, ledger.LoadTxFrom(c.st.TxHeight, c.st.Block), key)
	if err != nil {
		return nil, 0, false, err
	}
	if ver > height {
		return nil, 0, false, fmt.Errorf("%w: a key the call reads was written at height %d, after the call's height %d; execute it at the current height", errStateMoved, ver, height)
	}
	return v, ver, ok, nil
}

// checkContractTx refuses, at submission, a deploy or a call that cannot
// apply to the committed state (the ledger would drop it from a block).
func (n *Node) checkContractTx(tx *interfaces.Transaction) error {
	if n.contracts == nil || tx == nil || (tx.Kind != interfaces.TxDeploy && tx.Kind != interfaces.TxCall) {
		return nil
	}
	st := n.Group.Store()
	rules := &ledger.Rules{Contracts: &ledger.ContractRules{LoadTx: ledger.LoadTxFrom(st.TxHeight, st.Block)}}
	b := ledger.NewBuilder(st, n.Group.Cluster(), st.Parent()).WithRules(rules)
	if err := b.CheckContract(tx); err != nil {
		return fmt.Errorf("submit: %w: %w", pool.ErrInvalid, err)
	}
	return nil
}

// compositeInfo describes composite c, if c is one.
func compositeInfo(st *store.Store, c interfaces.StarID, height uint64) (api.ContractInfo, bool, error) {
	seq, last, err := st.ChainHead(c)
	if err != nil || seq == 0 {
		return api.ContractInfo{}, false, err
	}
	tx, err := ledger.LoadTxFrom(st.TxHeight, st.Block)(last)
	if errors.Is(err, ledger.ErrTxNotCommitted) {
		return api.ContractInfo{}, false, nil
	}
	if err != nil {
		return api.ContractInfo{}, false, err
	}
	if tx.Kind != interfaces.TxDeploy || interfaces.ContractStar(tx.Sender, tx.Seq) != c || !interfaces.IsComposite(tx.Payload) {
		return api.ContractInfo{}, false, nil
	}
	p, err := interfaces.DecodeCompositePayload(tx.Payload)
	if err != nil {
		return api.ContractInfo{}, false, nil
	}
	info := api.ContractInfo{Contract: c.String(), Name: p.Name, Runtime: "composite", Deploy: last.String(), Height: height}
	for _, l := range p.Legs {
		info.Legs = append(info.Legs, l.Contract.String()+"."+l.Method)
	}
	return info, true, nil
}

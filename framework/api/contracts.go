package api

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/constellation-chain/constellation/interfaces"
)

// Contract endpoints: what the chain records of a contract, its state,
// and, on a node that hosts it, the execute-and-co-sign step of a call
// (POST /v1/contracts/{id}/endorse). A deploy and a call are ordinary
// transactions, submitted with POST /v1/tx.

// ContractBackend is implemented by a Backend whose chain gives deploy and
// call transactions their effects.
type ContractBackend interface {
	// HostedContracts lists the contracts running on this node.
	HostedContracts() ([]string, error)
	// Contract returns what the chain records of contract c; an error
	// matching ErrNotFound when it does not know c.
	Contract(c interfaces.StarID) (ContractInfo, error)
	// ContractState returns contract c's value under its own key key.
	ContractState(c interfaces.StarID, key []byte) (ContractValue, error)
	// Endorse executes call on this node, a host of the contract, and
	// co-signs the result. ErrNotFound: no such contract; ErrNotHost: this
	// node does not host it; ErrCallRefused: the contract refused the call
	// or it ran past this host's bound (nothing is co-signed).
	Endorse(ctx context.Context, call interfaces.Call) (Endorsed, error)
}

// Errors of Endorse, answered 403 and 422.
var (
	ErrNotHost     = errors.New("not a host of this contract")
	ErrCallRefused = errors.New("call refused")
)

// ContractsNotServed answers the contract endpoints on a node whose
// manifest declares no contract runtime.
const ContractsNotServed = "contracts are not served by this node: its manifest declares no contract runtime " +
	`(plugin "contracts" "microservices" { source = "builtin" })`

// ContractMethod is one method of a contract's interface.
type ContractMethod struct {
	Name   string `json:"name"`
	Input  string `json:"input"`
	Output string `json:"output"`
}

// ContractInfo is GET /v1/contracts/{id}.
type ContractInfo struct {
	Contract  string           `json:"contract"`
	Name      string           `json:"name"`
	Runtime   string           `json:"runtime"`
	CodeHash  string           `json:"code_hash"`
	Deploy    string           `json:"deploy"` // the deploy transaction's id
	Carried   bool             `json:"bundle_in_deploy"`
	Methods   []ContractMethod `json:"methods"`
	Hosts     []string         `json:"hosts"`
	Threshold int              `json:"threshold"`
	Balance   uint64           `json:"balance"`
	Height    uint64           `json:"height"` // the head this answer reads
	// Running says whether this node runs the contract now (a host starts
	// it at its first call).
	Running bool `json:"running"`
	// Legs are a composite's steps (runtime "composite"), each
	// "<contract>.<method>", in order: each one's output feeds the next.
	Legs []string `json:"legs,omitempty"`
}

// ContractValue is GET /v1/contracts/{id}/state/{key}.
type ContractValue struct {
	Contract string `json:"contract"`
	Key      string `json:"key"`
	Found    bool   `json:"found"`
	Value    string `json:"value"` // hex
	Text     string `json:"text"`  // the value as text
	Version  uint64 `json:"version"`
	Height   uint64 `json:"height"`
}

// EndorseRequest is the body of POST /v1/contracts/{id}/endorse: the call
// (interfaces.Call) a caller will submit as its transaction number seq.
type EndorseRequest struct {
	Caller string `json:"caller"`
	Seq    uint64 `json:"seq"`
	Method string `json:"method"`
	Input  string `json:"input"` // hex
	Amount uint64 `json:"amount"`
	Height uint64 `json:"height"`
}

// Endorsed is a host's answer: the result in its canonical encoding (hex)
// and the host's co-signature over the call and that result.
type Endorsed struct {
	Host      string `json:"host"`
	Signature string `json:"signature"`
	Result    string `json:"result"`
	Output    string `json:"output"` // the result's output as text, for people
}

// CallOf decodes an endorse request for contract c.
func (r EndorseRequest) CallOf(c interfaces.StarID) (interfaces.Call, error) {
	caller, err := interfaces.ParseStarID(r.Caller)
	if err != nil {
		return interfaces.Call{}, &FieldError{Field: "caller", Err: err}
	}
	in, err := hex.DecodeString(r.Input)
	if err != nil {
		return interfaces.Call{}, fieldErr("input", "input is not hex: %v", err)
	}
	if r.Method == "" || len(r.Method) > interfaces.MaxContractName {
		return interfaces.Call{}, fieldErr("method", "method must be 1 to %d bytes", interfaces.MaxContractName)
	}
	if len(in) > interfaces.MaxContractIO {
		return interfaces.Call{}, fieldErr("input", "input of %d bytes, limit %d", len(in), interfaces.MaxContractIO)
	}
	if r.Seq == 0 {
		return interfaces.Call{}, fieldErr("seq", "seq is the caller's transaction number that will carry the call (1 or more)")
	}
	return interfaces.Call{Contract: c, Caller: caller, Seq: r.Seq, Method: r.Method, Input: in, Amount: r.Amount, Height: r.Height}, nil
}

// EndorsementOf decodes a host's answer.
func (e Endorsed) EndorsementOf() (interfaces.CallResult, interfaces.Endorsement, error) {
	var en interfaces.Endorsement
	host, err := interfaces.ParseStarID(e.Host)
	if err != nil {
		return interfaces.CallResult{}, en, fmt.Errorf("endorsement host: %w", err)
	}
	sig, err := hex.DecodeString(e.Signature)
	if err != nil || len(sig) != len(en.Sig) {
		return interfaces.CallResult{}, en, fmt.Errorf("endorsement signature: want %d bytes of hex", len(en.Sig))
	}
	raw, err := hex.DecodeString(e.Result)
	if err != nil {
		return interfaces.CallResult{}, en, fmt.Errorf("endorsed result: %w", err)
	}
	res, err := interfaces.DecodeCallResult(raw)
	if err != nil {
		return res, en, err
	}
	en.Host = host
	copy(en.Sig[:], sig)
	return res, en, nil
}

// EndorsedOf is the answer for a result and its co-signature.
func EndorsedOf(res interfaces.CallResult, en interfaces.Endorsement) Endorsed {
	return Endorsed{Host: en.Host.String(), Signature: hex.EncodeToString(en.Sig[:]), Result: hex.EncodeToString(res.Encode()), Output: string(res.Output)}
}

func contractRoutes() []Route {
	idParam := pathParam("id", "the contract's star, ed25519:<64 hex digits> (or the bare 64 hex digits)", "string")
	return []Route{
		{Method: "GET", Path: "/v1/contracts", Tag: "contracts", Summary: "the contracts running on this node",
			Description: "The contracts this node hosts and has started (a host starts a contract at its first call). 404 when the node runs no contract runtime.",
			OK:          http.StatusOK, Answer: typeOf[[]string](), Errors: []int{404}, handle: (*server).getContracts},
		{Method: "GET", Path: "/v1/contracts/{id}", Tag: "contracts", Summary: "a deployed contract",
			Description: "What its deploy notarized (runtime, code hash, interface, hosts, threshold) and its account's balance. 404 when this chain does not know it: it lives in the cluster that ordered its deploy.",
			Params:      []Param{idParam},
			OK:          http.StatusOK, Answer: typeOf[ContractInfo](), Errors: []int{400, 404}, handle: (*server).getContract},
		{Method: "GET", Path: "/v1/contracts/{id}/state/{key}", Tag: "contracts", Summary: "one key of a contract's state",
			Description: "The value under the contract's own key (as text in the path), its version (the height that last wrote it, 0 if never) and the head it was read at.",
			Params:      []Param{idParam, pathParam("key", "the contract's own key, as text", "string")},
			OK:          http.StatusOK, Answer: typeOf[ContractValue](), Errors: []int{400, 404}, handle: (*server).getContractState},
		{Method: "POST", Path: "/v1/contracts/{id}/endorse", Tag: "contracts", Summary: "execute a call on this host and co-sign its result",
			Description: "The execute and co-sign steps: this node, one of the contract's hosts, runs the call against its state at the given height and co-signs (call, result). 403 when it is no host of the contract; 422 when the contract refused the call or it ran past this host's bound (nothing is co-signed); 409 when the height is not committed here yet or a key it reads was written since (retry at the current height).",
			Params:      []Param{idParam},
			Body:        typeOf[EndorseRequest](), OK: http.StatusOK, Answer: typeOf[Endorsed](), Errors: []int{400, 403, 404, 409, 422}, handle: (*server).postEndorse},
	}
}

// ErrStateMoved is returned (wrapped) by Endorse when the call's height is
// not this host's to execute against; answered 409.
var ErrStateMoved = errors.New("state moved")

func (s *server) contracts(w http.ResponseWriter) (ContractBackend, bool) {
	cb, ok := s.b.(ContractBackend)
	if !ok {
		writeError(w, http.StatusNotFound, "%s", ContractsNotServed)
	}
	return cb, ok
}

func pathContract(r *http.Request) (interfaces.StarID, error) {
	v := r.PathValue("id")
	if !strings.Contains(v, ":") {
		v = "ed25519:" + v
	}
	c, err := interfaces.ParseStarID(v)
	if err != nil {
		return c, &FieldError{Field: "id", Err: fmt.Errorf("id: %w", err)}
	}
	return c, nil
}

func (s *server) getContracts(w http.ResponseWriter, r *http.Request) {
	cb, ok := s.contracts(w)
	if !ok {
		return
	}
	list, err := cb.HostedContracts()
	if err != nil {
		backendError(w, "list contracts", err)
		return
	}
	if list == nil {
		list = []string{}
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *server) getContract(w http.ResponseWriter, r *http.Request) {
	c, err := pathContract(r)
	if err != nil {
		writeFieldError(w, http.StatusBadRequest, err)
		return
	}
	cb, ok := s.contracts(w)
	if !ok {
		return
	}
	info, err := cb.Contract(c)
	if err != nil {
		backendError(w, "read contract", err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

func (s *server) getContractState(w http.ResponseWriter, r *http.Request) {
	c, err := pathContract(r)
	if err != nil {
		writeFieldError(w, http.StatusBadRequest, err)
		return
	}
	key := r.PathValue("key")
	if key == "" || len(key) > interfaces.MaxContractKey-len(interfaces.ContractNamespace(c)) {
		writeFieldError(w, http.StatusBadRequest, fieldErr("key", "key of %d bytes", len(key)))
		return
	}
	cb, ok := s.contracts(w)
	if !ok {
		return
	}
	v, err := cb.ContractState(c, []byte(key))
	if err != nil {
		backendError(w, "read contract state", err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *server) postEndorse(w http.ResponseWriter, r *http.Request) {
	c, err := pathContract(r)
	if err != nil {
		writeFieldError(w, http.StatusBadRequest, err)
		return
	}
	body, ok := readBody(w, r, MaxBody)
	if !ok {
		return
	}
	var req EndorseRequest
	if err := decodeStrict(body, "an endorse request", &req); err != nil {
		writeFieldError(w, http.StatusBadRequest, err)
		return
	}
	call, err := req.CallOf(c)
	if err != nil {
		writeFieldError(w, http.StatusBadRequest, err)
		return
	}
	cb, ok := s.contracts(w)
	if !ok {
		return
	}
	out, err := cb.Endorse(r.Context(), call)
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, out)
	case errors.Is(err, ErrNotHost):
		writeError(w, http.StatusForbidden, "%v", err)
	case errors.Is(err, ErrCallRefused):
		writeError(w, http.StatusUnprocessableEntity, "%v", err)
	case errors.Is(err, ErrStateMoved):
		writeError(w, http.StatusConflict, "%v", err)
	default:
		backendError(w, "endorse call", err)
	}
}

// Contract reads GET /v1/contracts/{id}.
func (c *Client) Contract(ctx context.Context, contract interfaces.StarID) (ContractInfo, error) {
	var out ContractInfo
	err := c.do(ctx, "GET", "/v1/contracts/"+contract.String(), nil, &out)
	return out, err
}

// ContractState reads GET /v1/contracts/{id}/state/{key}.
func (c *Client) ContractState(ctx context.Context, contract interfaces.StarID, key string) (ContractValue, error) {
	var out ContractValue
	err := c.do(ctx, "GET", "/v1/contracts/"+contract.String()+"/state/"+url.PathEscape(key), nil, &out)
	return out, err
}

// Endorse asks a host to execute and co-sign a call.
func (c *Client) Endorse(ctx context.Context, call interfaces.Call) (Endorsed, error) {
	var out Endorsed
	req := EndorseRequest{Caller: call.Caller.String(), Seq: call.Seq, Method: call.Method, Input: hex.EncodeToString(call.Input), Amount: call.Amount, Height: call.Height}
	err := c.do(ctx, "POST", "/v1/contracts/"+call.Contract.String()+"/endorse", req, &out)
	return out, err
}

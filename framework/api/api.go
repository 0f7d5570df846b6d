// Package api is the node's HTTP API: wallets and tools submit signed
// transactions and read blocks, black holes, transactions, balances,
// stars' chains, memes, clusters and the node's health through it, and
// follow what it commits as a Server-Sent Events stream. It listens on
// loopback by default and speaks JSON; transactions travel in their
// canonical binary encoding (hex in JSON), never re-encoded field by
// field, so what a wallet signed is exactly what the node checks. One
// route table (routes.go) builds the mux and the OpenAPI document at
// /openapi.json; docs/api.md describes every route.
//
// Data flow: client → Handler → Backend (the node: its pool, its groups'
// stores and broker); nothing read here feeds consensus.
package api

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/constellation-chain/constellation/interfaces"
)

// Backend is what the API needs from a node.
type Backend interface {
	Self() interfaces.StarID
	Submit(tx *interfaces.Transaction) error
	Head() (uint64, interfaces.Hash)
	Block(height uint64) (*interfaces.Block, error)
	Balance(interfaces.StarID) (uint64, error)
	ChainHead(interfaces.StarID) (uint64, interfaces.Hash, error)
	PoolLen() int
}

// Tiered is implemented by a Backend that runs in a hierarchical network.
type Tiered interface {
	// Tiers reports the node's place in the hierarchy; false for a
	// network of one cluster.
	Tiers() (TierStatus, bool)
}

// Candidacies is implemented by a Backend that keeps a Star Cluster's
// chain in a hierarchical network.
type Candidacies interface {
	// Candidacy reports star's candidacy for this node's cluster as the
	// cluster's chain records it (ErrNotHere when the node keeps no
	// cluster's chain).
	Candidacy(star interfaces.StarID) (Candidacy, error)
}

// Candidacy is GET /v1/candidacy/{star}: whether the star stands for the
// seats of the node's cluster, and the head of its membership chain there
// (what its next TxMember follows).
type Candidacy struct {
	Star     string `json:"star"`
	Cluster  int    `json:"cluster"`
	Standing bool   `json:"standing"` // a genesis delegate, or its last candidacy here is a join
	Genesis  bool   `json:"genesis"`  // a genesis delegate of the cluster
	Seq      uint64 `json:"seq"`
	Last     string `json:"last"`
}

// ErrNotHere is returned (wrapped) by a Backend asked about an account
// another cluster owns; the API answers 421 Misdirected Request.
var ErrNotHere = errors.New("not kept here")

// MaxBody bounds a request body.
const MaxBody = 1 << 20

// Timeouts bound how long a connection may take over each part of a
// request.
type Timeouts struct {
	Header time.Duration // the request line and headers
	Read   time.Duration // the whole request, body included
	Write  time.Duration // the response
	Idle   time.Duration // a keep-alive connection between requests
}

// DefaultTimeouts are the node API's: a whole request (a body is at most
// MaxBody) must arrive within 15 s, so clients holding incomplete bodies
// cannot pile up open connections.
var DefaultTimeouts = Timeouts{Header: 5 * time.Second, Read: 15 * time.Second, Write: 30 * time.Second, Idle: 60 * time.Second}

// NewServer returns the HTTP server of a handler with the given timeouts.
func NewServer(h http.Handler, t Timeouts) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: t.Header, ReadTimeout: t.Read, WriteTimeout: t.Write, IdleTimeout: t.Idle}
}

// FaultSwitch cuts and heals transport links, for partition tests.
type FaultSwitch interface {
	SetPartitioned(peers []interfaces.StarID, cut bool) error
}

// PartitionRequest is the body of POST /v1/debug/partition.
type PartitionRequest struct {
	Peers []string `json:"peers"`
	Cut   bool     `json:"cut"`
}

// Handler returns the API's HTTP handler. faults, when not nil, enables
// POST /v1/debug/partition, which cuts or heals this node's links to the
// named peers; nodes enable it only with --fault-injection, for tests.
func Handler(b Backend, faults FaultSwitch) http.Handler {
	return NewHandler(b, Options{Faults: faults})
}

// NewHandler returns the API's HTTP handler with the given options. The
// routes it serves are Routes() (those a route's condition leaves out,
// such as /metrics for a backend without metrics, are not served); any
// other request is answered 404, or 405 for a served path and another
// method, with a JSON ErrorBody.
func NewHandler(b Backend, opts Options) http.Handler { return buildServer(b, opts) }

// DecodePartition decodes a POST /v1/debug/partition body.
func DecodePartition(body []byte) ([]interfaces.StarID, bool, error) {
	var req PartitionRequest
	if err := decodeStrict(body, `{"peers": [...], "cut": bool}`, &req); err != nil {
		return nil, false, err
	}
	var peers []interfaces.StarID
	for i, p := range req.Peers {
		id, err := interfaces.ParseStarID(p)
		if err != nil {
			return nil, false, fieldErr(fmt.Sprintf("peers[%d]", i), "peers[%d]: %v", i, err)
		}
		peers = append(peers, id)
	}
	return peers, req.Cut, nil
}

func (s *server) partition(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, MaxBody)
	if !ok {
		return
	}
	peers, cut, err := DecodePartition(body)
	if err != nil {
		writeFieldError(w, http.StatusBadRequest, err)
		return
	}
	for i, id := range peers {
		if id == s.b.Self() {
			writeFieldError(w, http.StatusBadRequest, fieldErr(fmt.Sprintf("peers[%d]", i), "peers: %s is this node; a node cannot be partitioned from itself", id))
			return
		}
	}
	if err := s.faults.SetPartitioned(peers, cut); err != nil {
		writeError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	req := PartitionRequest{Peers: starStrings(peers), Cut: cut}
	writeJSON(w, http.StatusOK, req)
}

func (s *server) getStatus(w http.ResponseWriter, r *http.Request) {
	b := s.b
	h, hash := b.Head()
	st := Status{Star: b.Self().String(), Height: h, Hash: hash.String(), Pool: b.PoolLen()}
	if t, ok := b.(Tiered); ok {
		if ts, ok := t.Tiers(); ok {
			st.Tiers = &ts
		}
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *server) getBlock(w http.ResponseWriter, r *http.Request) {
	h, err := pathUint(r, "height")
	if err != nil {
		writeFieldError(w, http.StatusBadRequest, err)
		return
	}
	if head, _ := s.b.Head(); h == 0 || h > head {
		writeJSON(w, http.StatusNotFound, ErrorBody{Error: fmt.Sprintf("no block at height %d (head is %d)", h, head), Field: "height"})
		return
	}
	blk, err := s.b.Block(h)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "read block %d: %v", h, err)
		return
	}
	writeJSON(w, http.StatusOK, BlockSummaryOf(blk))
}

func (s *server) getCandidacy(w http.ResponseWriter, r *http.Request) {
	star, err := pathStar(r, "star")
	if err != nil {
		writeFieldError(w, http.StatusBadRequest, err)
		return
	}
	cb, ok := s.b.(Candidacies)
	if !ok {
		writeError(w, http.StatusNotFound, "this node keeps no Star Cluster's chain of a hierarchical network")
		return
	}
	c, err := cb.Candidacy(star)
	switch {
	case errors.Is(err, ErrNotHere):
		writeError(w, http.StatusMisdirectedRequest, "%v", err)
	case err != nil:
		writeError(w, http.StatusInternalServerError, "read candidacy: %v", err)
	default:
		writeJSON(w, http.StatusOK, c)
	}
}

func (s *server) getAccount(w http.ResponseWriter, r *http.Request) {
	star, err := pathStar(r, "star")
	if err != nil {
		writeFieldError(w, http.StatusBadRequest, err)
		return
	}
	bal, err := s.b.Balance(star)
	if errors.Is(err, ErrNotHere) {
		writeError(w, http.StatusMisdirectedRequest, "%v", err)
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, "read balance: %v", err)
		return
	}
	seq, last, err := s.b.ChainHead(star)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "read chain head: %v", err)
		return
	}
	writeJSON(w, http.StatusOK, Account{Star: star.String(), Balance: bal, Seq: seq, Last: last.String()})
}

// Status is GET /v1/status.
type Status struct {
	Star   string `json:"star"`
	Height uint64 `json:"height"`
	Hash   string `json:"hash"`
	Pool   int    `json:"pool"`
	// Tiers is set in a hierarchical network. Height, Hash and Pool are
	// then those of the node's cluster chain (or of the galaxy's, for a
	// node in no cluster).
	Tiers *TierStatus `json:"tiers,omitempty"`
}

// TierStatus is a node's view of the hierarchy.
type TierStatus struct {
	// Cluster is the node's cluster, or -1 when it is no delegate.
	Cluster int `json:"cluster"`
	// Clusters is the network's number of clusters.
	Clusters int `json:"clusters"`
	// Finalized is the highest checkpoint of Cluster a black hole this
	// node heard of includes: blocks up to it are final.
	Finalized uint64 `json:"finalized"`
	// BlackHoles is the height of the newest black hole heard of.
	BlackHoles uint64 `json:"black_holes"`
	// Galaxy is set for a galaxy member: its own galaxy chain's height.
	Galaxy *uint64 `json:"galaxy,omitempty"`
	// Closed, from a galaxy member, are the clusters that closed (merged
	// back into the cluster they split from), as of the last black hole
	// it folded; Clusters counts them too.
	Closed []int `json:"closed,omitempty"`
}

// Account is GET /v1/accounts/{star}.
type Account struct {
	Star    string `json:"star"`
	Balance uint64 `json:"balance"`
	Seq     uint64 `json:"seq"`
	Last    string `json:"last"`
}

// SubmitRequest is the body of POST /v1/tx: the canonical encoding in hex.
type SubmitRequest struct {
	Tx string `json:"tx"`
}

// SubmitResponse answers a POST /v1/tx.
type SubmitResponse struct {
	ID string `json:"id"`
}

// BlockSummary is GET /v1/blocks/{height}.
type BlockSummary struct {
	Height    uint64   `json:"height"`
	Epoch     uint64   `json:"epoch"`
	Hash      string   `json:"hash"`
	Prev      string   `json:"prev"`
	StateRoot string   `json:"state_root"`
	Timestamp int64    `json:"timestamp"`
	Txs       []string `json:"txs"`
	Proposers []string `json:"proposers"`
	Faults    int      `json:"faults"`
	Cluster   uint32   `json:"cluster"`
	// Receipts counts the block's transfers to other clusters' accounts,
	// Credited the receipts its credits carried in from other clusters.
	Receipts int `json:"receipts"`
	Credited int `json:"credited"`
	// Credits counts the block's credit transactions (made by the
	// nodes; the rest of Txs came from users).
	Credits int `json:"credits"`
	// Moves counts the accounts the block sent to other clusters by
	// migration (move receipts; Receipts leaves them out).
	Moves int `json:"moves"`
	// Members are the delegates of the block's membership epoch (sorted);
	// Handover, in the block that ends an epoch of a rotating cluster, the
	// next epoch's delegates, and Founded the first delegates of clusters
	// this block founded, by cluster.
	Members  []string            `json:"members"`
	Handover []string            `json:"handover,omitempty"`
	Founded  map[uint32][]string `json:"founded,omitempty"`
	// Clusters, in a black hole (a galaxy block), is how many Star
	// Clusters are in force once it is applied (BlockMeta.Clusters).
	Clusters uint32 `json:"clusters,omitempty"`
}

func starStrings(ss []interfaces.StarID) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.String()
	}
	return out
}

// BlockSummaryOf summarises b.
func BlockSummaryOf(b *interfaces.Block) BlockSummary {
	s := BlockSummary{
		Height: b.Header.Height, Epoch: b.Header.Epoch, Hash: b.Hash().String(), Prev: b.Header.Prev.String(),
		StateRoot: b.Header.StateRoot.String(), Timestamp: b.Header.Timestamp, Faults: len(b.Meta.Faults),
		Txs: []string{}, Proposers: []string{}, Cluster: uint32(b.Header.Cluster),
	}
	for _, t := range b.Txs {
		s.Txs = append(s.Txs, t.ID().String())
		if t.Kind == interfaces.TxCredit {
			s.Credits++
			if c, err := interfaces.DecodeCreditPayload(t.Payload); err == nil {
				s.Credited += len(c.Batch.Receipts)
			}
		}
	}
	for _, r := range b.Receipts {
		for _, x := range r.Receipts {
			if x.Kind == interfaces.ReceiptMove {
				s.Moves++
			} else {
				s.Receipts++
			}
		}
	}
	for _, p := range b.Meta.Proposers {
		s.Proposers = append(s.Proposers, p.String())
	}
	s.Members = starStrings(b.Meta.Members)
	s.Clusters = b.Meta.Clusters
	if b.Meta.Handover != nil {
		s.Handover = starStrings(b.Meta.Handover.Members)
	}
	for _, f := range b.Meta.Founded {
		if s.Founded == nil {
			s.Founded = map[uint32][]string{}
		}
		s.Founded[uint32(f.Cluster)] = starStrings(f.Members)
	}
	return s
}

// readBody reads a request body of at most limit bytes; on failure it has
// answered with a 4xx and returns false.
func readBody(w http.ResponseWriter, r *http.Request, limit int) ([]byte, bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, ErrorBody{Error: fmt.Sprintf("read body: %v", err), Field: "body"})
		return nil, false
	}
	if len(body) > limit {
		writeJSON(w, http.StatusRequestEntityTooLarge, ErrorBody{Error: fmt.Sprintf("body exceeds %d bytes", limit), Field: "body"})
		return nil, false
	}
	return body, true
}

func submit(b Backend, w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, MaxBody)
	if !ok {
		return
	}
	tx, err := DecodeSubmit(body)
	if err != nil {
		writeFieldError(w, http.StatusBadRequest, err)
		return
	}
	if err := b.Submit(tx); err != nil {
		writeJSON(w, submitStatus(err), ErrorBody{Error: err.Error(), Field: "tx"})
		return
	}
	writeJSON(w, http.StatusAccepted, SubmitResponse{ID: tx.ID().String()})
}

// trailing refuses anything but white space after a decoded JSON value:
// a body with a second value or garbage after the first is malformed,
// not a valid request with something ignored.
func trailing(dec *json.Decoder) error {
	var extra json.RawMessage
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
		return nil
	case err != nil:
		return fmt.Errorf("body has bytes after the JSON object (at offset %d): %w", dec.InputOffset(), err)
	default:
		return fmt.Errorf("body has a second JSON value after the object (at offset %d)", dec.InputOffset()-int64(len(extra)))
	}
}

// DecodeSubmit decodes a POST /v1/tx body.
func DecodeSubmit(body []byte) (*interfaces.Transaction, error) {
	var req SubmitRequest
	if err := decodeStrict(body, `{"tx": "<hex>"}`, &req); err != nil {
		return nil, err
	}
	raw, err := hex.DecodeString(req.Tx)
	if err != nil {
		return nil, fieldErr("tx", "tx is not hex: %w", err)
	}
	tx, err := interfaces.DecodeTransaction(raw)
	if err != nil {
		return nil, &FieldError{Field: "tx", Err: err}
	}
	return tx, nil
}

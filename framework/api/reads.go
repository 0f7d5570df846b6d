package api

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"

	"github.com/constellation-chain/constellation/interfaces"
)

// The read endpoints beyond blocks and accounts: transactions by id, black
// holes, a star's chain, memes and scores, clusters and their delegates,
// and contracts. Each is served when the Backend implements its interface;
// a Backend without it answers 404 saying what this node does not serve.

// TxReader is implemented by a Backend that finds committed transactions
// by id in the chains it keeps.
type TxReader interface {
	// Tx returns the committed transaction id and where it is; an error
	// matching ErrNotFound when no chain this node keeps holds it.
	Tx(id interfaces.Hash) (TxRecord, error)
}

// TxRecord is GET /v1/txs/{id}, and one entry of a star's chain: a
// committed transaction, its fields as JSON, its canonical encoding, and
// the block that holds it.
type TxRecord struct {
	ID           string `json:"id"`
	Kind         string `json:"kind"`
	Sender       string `json:"sender"`
	Seq          uint64 `json:"seq"`
	Prev         string `json:"prev"`
	Counterparty string `json:"counterparty,omitempty"`
	// To and Amount are a transfer's.
	To     string `json:"to,omitempty"`
	Amount uint64 `json:"amount,omitempty"`
	// Payload is the payload in hex; Tx the whole canonical encoding in
	// hex, as POST /v1/tx takes it, for anyone who wants to check the
	// signatures.
	Payload string `json:"payload"`
	Tx      string `json:"tx"`
	// Chain names the chain that holds it ("cluster/0", "galaxy"),
	// Height and Block the block, Timestamp the block's (unix ms).
	Chain     string `json:"chain"`
	Height    uint64 `json:"height"`
	Block     string `json:"block"`
	Timestamp int64  `json:"timestamp"`
}

// TxStatuser is implemented by backends that say where a transaction
// stands, committed or not (GET /v1/txs/{id}/status).
type TxStatuser interface {
	TxStatus(id interfaces.Hash) (TxStatus, error)
}

// Transaction states (TxStatus.Status).
const (
	TxCommitted = "committed" // a chain this node keeps holds it
	TxPending   = "pending"   // this node's pool holds it
	TxDropped   = "dropped"   // this node's pool dropped it, uncommitted; Reason says why
	TxUnknown   = "unknown"   // none of these: never seen here, forgotten, or another cluster's
)

// TxStatus is where a transaction stands on this node.
type TxStatus struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	// Reason, for a dropped transaction, is why it can never be
	// included: another transaction took its sequence, it does not
	// chain from its sender's committed head, it waited behind a gap in
	// its sender's sequence, its sender's balance stayed short, or the
	// ledger refused it (with the rule).
	Reason string `json:"reason,omitempty"`
	// Chain is the chain that holds it, or whose pool holds or dropped
	// it; Height the block, for a committed one.
	Chain  string `json:"chain,omitempty"`
	Height uint64 `json:"height,omitempty"`
}

func (s *server) getTxStatus(w http.ResponseWriter, r *http.Request) {
	var get func(interfaces.Hash) (TxStatus, error)
	if ts, ok := s.b.(TxStatuser); ok {
		get = ts.TxStatus
	}
	byID(w, r, get, "this node does not say where transactions stand", "transaction status")
}

// byID answers a GET of what path parameter {id} names: 400 for a bad
// id, 404 (missing) when the backend cannot look it up (get nil), else
// what get returns.
func byID[T any](w http.ResponseWriter, r *http.Request, get func(interfaces.Hash) (T, error), missing, what string) {
	id, err := pathHash(r, "id")
	if err != nil {
		writeFieldError(w, http.StatusBadRequest, err)
		return
	}
	if get == nil {
		writeError(w, http.StatusNotFound, "%s", missing)
		return
	}
	v, err := get(id)
	if err != nil {
		backendError(w, what, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// TxRecordOf describes tx, committed in block b of chain.
func TxRecordOf(tx *interfaces.Transaction, b *interfaces.Block, chain string) TxRecord {
	r := TxRecord{
		ID: tx.ID().String(), Kind: tx.Kind.String(), Sender: tx.Sender.String(), Seq: tx.Seq, Prev: tx.Prev.String(),
		Payload: hex.EncodeToString(tx.Payload), Tx: hex.EncodeToString(tx.Encode()),
		Chain: chain, Height: b.Header.Height, Block: b.Hash().String(), Timestamp: b.Header.Timestamp,
	}
	if !tx.Counterparty.IsZero() {
		r.Counterparty = tx.Counterparty.String()
	}
	if tx.Kind == interfaces.TxTransfer {
		if p, err := interfaces.DecodeTransferPayload(tx.Payload); err == nil {
			r.To, r.Amount = p.To.String(), p.Amount
		}
	}
	return r
}

// ChainReader is implemented by a Backend that walks a star's own chain
// (its ExtendedTrustChain: each transaction names the previous one).
type ChainReader interface {
	// Chain returns up to limit of star's committed transactions, newest
	// first, starting at transaction from (the chain's head when from is
	// zero). ErrNotHere when another cluster keeps the account;
	// ErrNotFound when from is not a committed transaction of star's.
	Chain(star interfaces.StarID, from interfaces.Hash, limit int) (StarChain, error)
}

// StarChain is GET /v1/accounts/{star}/chain.
type StarChain struct {
	Star string `json:"star"`
	// Seq and Last are the chain's head: its length and last transaction.
	Seq  uint64     `json:"seq"`
	Last string     `json:"last"`
	Txs  []TxRecord `json:"txs"`
	// Next, when the chain goes on below the last entry of Txs, is the id
	// to ask for next (?from=Next).
	Next string `json:"next,omitempty"`
}

// Bounds of GET /v1/accounts/{star}/chain.
const (
	DefaultChainLimit = 20
	MaxChainLimit     = 200
)

// BlackHoleReader is implemented by a Backend that keeps the galaxy's
// chain (a galaxy member).
type BlackHoleReader interface {
	// BlackHole returns the black hole at height; ErrNotHere when this
	// node keeps no galaxy chain, ErrNotFound above its head.
	BlackHole(height uint64) (BlackHole, error)
}

// BlackHole is GET /v1/blackholes/{height}: a galaxy block, with the
// cluster checkpoints it orders and the beacon it publishes.
type BlackHole struct {
	BlockSummary
	// Certificate is the galaxy's threshold signature on it, in hex, once
	// this node holds it.
	Certified   bool            `json:"certified"`
	Certificate string          `json:"certificate,omitempty"`
	Checkpoints []CheckpointRef `json:"checkpoints"`
	Beacon      *BeaconRef      `json:"beacon,omitempty"`
}

// CheckpointRef is a cluster block a black hole orders.
type CheckpointRef struct {
	Cluster uint32 `json:"cluster"`
	Height  uint64 `json:"height"`
	Hash    string `json:"hash"`
	Txs     uint32 `json:"txs"`
}

// BeaconRef is the beacon a black hole publishes: the certificate of the
// black hole at Height, the delegate sets drawn with it, and how many
// mint receipts, account moves and new clusters it carries.
type BeaconRef struct {
	Height uint64        `json:"height"`
	Sets   []DelegateSet `json:"sets"`
	Mint   int           `json:"mint"`
	Moves  int           `json:"moves"`
	Opens  int           `json:"opens"`
}

// DelegateSet is one cluster's delegates.
type DelegateSet struct {
	Cluster uint32   `json:"cluster"`
	Members []string `json:"members"`
}

// BlackHoleOf describes black hole b with its certificate (nil when this
// node holds none yet).
func BlackHoleOf(b *interfaces.Block, cert []byte) BlackHole {
	bh := BlackHole{BlockSummary: BlockSummaryOf(b), Certified: len(cert) > 0, Checkpoints: []CheckpointRef{}}
	if len(cert) > 0 {
		bh.Certificate = hex.EncodeToString(cert)
	}
	for _, tx := range b.Txs {
		switch tx.Kind {
		case interfaces.TxCheckpoint:
			if cp, err := interfaces.DecodeCheckpointPayload(tx.Payload); err == nil {
				bh.Checkpoints = append(bh.Checkpoints, CheckpointRef{Cluster: uint32(cp.Header.Cluster), Height: cp.Header.Height, Hash: cp.Header.Hash().String(), Txs: cp.Header.TxCount})
			}
		case interfaces.TxBeacon:
			if p, err := interfaces.DecodeBeaconPayload(tx.Payload); err == nil {
				br := &BeaconRef{Height: p.Height, Mint: len(p.Mint), Moves: len(p.Moves), Opens: len(p.Opens), Sets: []DelegateSet{}}
				for _, s := range p.Sets {
					br.Sets = append(br.Sets, DelegateSet{Cluster: uint32(s.Cluster), Members: starStrings(s.Members)})
				}
				bh.Beacon = br
			}
		}
	}
	return bh
}

// MemeReader is implemented by a Backend that runs a reputation engine.
type MemeReader interface {
	// Meme returns star's score; with explain, also its breakdown when
	// the engine can explain (Meme.Explain nil and ExplainNote saying why
	// otherwise).
	Meme(star interfaces.StarID, explain bool) (Meme, error)
	// Memes returns the scores of the stars this node knows of: the
	// delegates and candidates of the clusters and the galaxy.
	Memes() (MemeList, error)
}

// Meme is GET /v1/memes/{star}: a star's Proof-of-Meme score. Scores are
// fixed point (ScoreOne, 1e9, is 1.0); ScoreText is the same as a decimal.
type Meme struct {
	Star      string `json:"star"`
	Score     int64  `json:"score"`
	ScoreText string `json:"score_text"`
	// Chain names whose reputation state answered ("galaxy" in a
	// hierarchical network: the one delegate draws read), Height the
	// block it has folded in last.
	Chain       string           `json:"chain"`
	Height      uint64           `json:"height"`
	Explain     *MemeExplanation `json:"explain,omitempty"`
	ExplainNote string           `json:"explain_note,omitempty"`
}

// MemeExplanation is the built-in reputation's breakdown of a score (what
// `constellation reputation explain` prints). Scores are fixed point.
type MemeExplanation struct {
	Known           bool          `json:"known"`
	Newcomer        bool          `json:"newcomer"`
	Round           uint64        `json:"round"`
	FirstSeen       uint64        `json:"first_seen"`
	FirstMember     uint64        `json:"first_member"`
	FaultsTotal     uint64        `json:"faults_total"`
	TxSent          uint64        `json:"tx_sent"`
	TxReceived      uint64        `json:"tx_received"`
	Features        []MemeFeature `json:"features"`
	TPR             int64         `json:"tpr"`
	FlowCredit      int64         `json:"flow_credit"`
	AdmissionCredit int64         `json:"admission_credit"`
	FaultPenalty    int64         `json:"fault_penalty"`
	Score           int64         `json:"score"`
	Bucket          int           `json:"bucket"`
	BucketName      string        `json:"bucket_name"`
}

// MemeFeature is one feature of a meme: its raw value in Unit, its
// normalized value and weight (fixed point), and where it comes from.
type MemeFeature struct {
	Name       string `json:"name"`
	Raw        uint64 `json:"raw"`
	Unit       string `json:"unit"`
	Normalized int64  `json:"normalized"`
	Weight     int64  `json:"weight"`
	Source     string `json:"source"`
}

// MemeList is GET /v1/memes.
type MemeList struct {
	Chain    string `json:"chain"`
	Height   uint64 `json:"height"`
	ScoreOne int64  `json:"score_one"`
	Memes    []Meme `json:"memes"`
}

// ScoreText writes a score as the decimal it stands for (0.5, 1,
// 0.688203164).
func ScoreText(s interfaces.Score) string {
	if s < 0 {
		return "-" + ScoreText(-s)
	}
	whole, frac := s/interfaces.ScoreOne, s%interfaces.ScoreOne
	if frac == 0 {
		return fmt.Sprintf("%d", whole)
	}
	return strings.TrimRight(fmt.Sprintf("%d.%09d", whole, frac), "0")
}

// ClusterReader is implemented by a Backend that knows the network's
// clusters.
type ClusterReader interface {
	Clusters() (Clusters, error)
}

// Clusters is GET /v1/clusters: every cluster this node knows of, with its
// delegates, and the galaxy in a hierarchical network.
type Clusters struct {
	Clusters []ClusterInfo `json:"clusters"`
	Galaxy   *GalaxyInfo   `json:"galaxy,omitempty"`
}

// ClusterInfo is GET /v1/clusters/{cluster}.
type ClusterInfo struct {
	Cluster uint32 `json:"cluster"`
	// Delegates run the cluster's consensus now, as Source knows:
	// "chain" (this node keeps the cluster's chain: the delegates of its
	// head block's membership epoch), "beacon" (the latest delegate set
	// a black hole published) or "genesis" (the genesis delegates).
	Delegates []string `json:"delegates"`
	Source    string   `json:"source"`
	// Height is the cluster chain's height when Source is "chain", the
	// black hole's when "beacon".
	Height uint64 `json:"height"`
	// Next are the delegates the head block hands the cluster over to.
	Next []string `json:"next,omitempty"`
	// Candidates stand for the cluster's seats (known to galaxy members).
	Candidates []string `json:"candidates,omitempty"`
	// Finalized is the highest checkpoint of the cluster a black hole this
	// node heard of includes.
	Finalized uint64 `json:"finalized"`
	// Here says whether this node keeps the cluster's chain.
	Here bool `json:"here"`
}

// GalaxyInfo is the galaxy as a node knows it.
type GalaxyInfo struct {
	Members []string `json:"members"`
	// Candidates are the stars standing for a rotating galaxy's seats
	// (on a node that keeps the galaxy's chain).
	Candidates []string `json:"candidates,omitempty"`
	// BlackHoles is the newest black hole this node heard of.
	BlackHoles uint64 `json:"black_holes"`
	Here       bool   `json:"here"`
}

func (s *server) getTx(w http.ResponseWriter, r *http.Request) {
	var get func(interfaces.Hash) (TxRecord, error)
	if tr, ok := s.b.(TxReader); ok {
		get = tr.Tx
	}
	byID(w, r, get, "this node does not look transactions up by id", "read transaction")
}

func (s *server) getChain(w http.ResponseWriter, r *http.Request) {
	star, err := pathStar(r, "star")
	if err != nil {
		writeFieldError(w, http.StatusBadRequest, err)
		return
	}
	limit, err := queryLimit(r, DefaultChainLimit, MaxChainLimit)
	if err != nil {
		writeFieldError(w, http.StatusBadRequest, err)
		return
	}
	var from interfaces.Hash
	if v := r.URL.Query().Get("from"); v != "" {
		if from, err = parseHashParam("from", v); err != nil {
			writeFieldError(w, http.StatusBadRequest, err)
			return
		}
	}
	cr, ok := s.b.(ChainReader)
	if !ok {
		writeError(w, http.StatusNotFound, "this node does not walk stars' chains")
		return
	}
	c, err := cr.Chain(star, from, limit)
	if err != nil {
		backendError(w, "read chain", err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *server) getBlackHole(w http.ResponseWriter, r *http.Request) {
	h, err := pathUint(r, "height")
	if err != nil {
		writeFieldError(w, http.StatusBadRequest, err)
		return
	}
	br, ok := s.b.(BlackHoleReader)
	if !ok {
		writeError(w, http.StatusMisdirectedRequest, "this node keeps no galaxy chain: ask a galaxy member")
		return
	}
	if h == 0 {
		writeJSON(w, http.StatusNotFound, ErrorBody{Error: "no black hole at height 0: the first is 1", Field: "height"})
		return
	}
	bh, err := br.BlackHole(h)
	if err != nil {
		backendError(w, fmt.Sprintf("read black hole %d", h), err)
		return
	}
	writeJSON(w, http.StatusOK, bh)
}

func (s *server) getMemes(w http.ResponseWriter, r *http.Request) {
	mr, ok := s.b.(MemeReader)
	if !ok {
		writeError(w, http.StatusNotFound, "this node runs no reputation engine")
		return
	}
	l, err := mr.Memes()
	if err != nil {
		backendError(w, "read scores", err)
		return
	}
	writeJSON(w, http.StatusOK, l)
}

func (s *server) getMeme(w http.ResponseWriter, r *http.Request) {
	star, err := pathStar(r, "star")
	if err != nil {
		writeFieldError(w, http.StatusBadRequest, err)
		return
	}
	explain, err := queryBool(r, "explain")
	if err != nil {
		writeFieldError(w, http.StatusBadRequest, err)
		return
	}
	mr, ok := s.b.(MemeReader)
	if !ok {
		writeError(w, http.StatusNotFound, "this node runs no reputation engine")
		return
	}
	m, err := mr.Meme(star, explain)
	if err != nil {
		backendError(w, "read score", err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

func (s *server) clusters() (Clusters, error) {
	cr, ok := s.b.(ClusterReader)
	if !ok {
		return Clusters{}, fmt.Errorf("%w: this node does not report clusters", ErrNotFound)
	}
	return cr.Clusters()
}

func (s *server) getClusters(w http.ResponseWriter, r *http.Request) {
	cs, err := s.clusters()
	if err != nil {
		backendError(w, "read clusters", err)
		return
	}
	writeJSON(w, http.StatusOK, cs)
}

func (s *server) getCluster(w http.ResponseWriter, r *http.Request) {
	c, err := pathUint(r, "cluster")
	if err != nil || c > 1<<32-1 {
		writeFieldError(w, http.StatusBadRequest, fieldErr("cluster", "cluster %q is not a cluster number", clip(r.PathValue("cluster"))))
		return
	}
	cs, err := s.clusters()
	if err != nil {
		backendError(w, "read clusters", err)
		return
	}
	for _, ci := range cs.Clusters {
		if uint64(ci.Cluster) == c {
			writeJSON(w, http.StatusOK, ci)
			return
		}
	}
	writeJSON(w, http.StatusNotFound, ErrorBody{Error: fmt.Sprintf("no cluster %d: this node knows of %d", c, len(cs.Clusters)), Field: "cluster"})
}

package api

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/constellation-chain/constellation/framework/events"
	"github.com/constellation-chain/constellation/framework/pool"
	"github.com/constellation-chain/constellation/interfaces"
)

// fakeChain is a chain with a store and a broker, as a group has: commit
// stores a block and publishes it.
type fakeChain struct {
	name   string
	galaxy bool
	mu     sync.Mutex
	blocks []*interfaces.Block // blocks[i] is height i+1
	broker *events.Broker[*interfaces.Block]
	reads  int // blocks read through Blocks
}

func newFakeChain(name string, galaxy bool) *fakeChain {
	return &fakeChain{name: name, galaxy: galaxy, broker: events.New[*interfaces.Block]()}
}

// commit appends a block carrying faults faults and publishes it.
func (c *fakeChain) commit(faults int) *interfaces.Block {
	c.mu.Lock()
	prev := interfaces.GenesisHash(c.name)
	if n := len(c.blocks); n > 0 {
		prev = c.blocks[n-1].Hash()
	}
	b := &interfaces.Block{Header: interfaces.BlockHeader{Height: uint64(len(c.blocks) + 1), Prev: prev, Timestamp: int64(len(c.blocks))}}
	for i := range faults {
		b.Meta.Faults = append(b.Meta.Faults, interfaces.Fault{Star: interfaces.DevStar(fmt.Sprint("liar", i)), Kind: interfaces.FaultEquivocation, Epoch: b.Header.Height})
	}
	b.Seal()
	c.blocks = append(c.blocks, b)
	c.mu.Unlock()
	c.broker.Publish(b.Header.Height, b)
	return b
}

func (c *fakeChain) head() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return uint64(len(c.blocks))
}

func (c *fakeChain) readBlocks(from, to uint64, fn func(*interfaces.Block) error) error {
	for h := from; h <= to; h++ {
		c.mu.Lock()
		if h == 0 || h > uint64(len(c.blocks)) {
			c.mu.Unlock()
			return fmt.Errorf("block %d: %w", h, ErrNotFound)
		}
		b := c.blocks[h-1]
		c.reads++
		c.mu.Unlock()
		if err := fn(b); err != nil {
			return err
		}
	}
	return nil
}

func (c *fakeChain) source() EventSource {
	return EventSource{Name: c.name, Galaxy: c.galaxy, Head: c.head, Subscribe: c.broker.Subscribe, Blocks: c.readBlocks}
}

func (c *fakeChain) storeReads() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reads
}

// fullBackend serves every optional interface, over fake chains.
type fullBackend struct {
	*fakeBackend
	chains []*fakeChain
	mu     sync.Mutex
	views  []ChainView
}

func newFullBackend(chains ...*fakeChain) *fullBackend {
	return &fullBackend{fakeBackend: &fakeBackend{pool: pool.New(pool.Options{})}, chains: chains}
}

func (f *fullBackend) EventSources() []EventSource {
	var out []EventSource
	for _, c := range f.chains {
		out = append(out, c.source())
	}
	return out
}

func (f *fullBackend) ChainHealth() []ChainView {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]ChainView(nil), f.views...)
}

func (f *fullBackend) setViews(v ...ChainView) {
	f.mu.Lock()
	f.views = v
	f.mu.Unlock()
}

func (f *fullBackend) MetricsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprintln(w, "constellation_up 1")
	})
}

var knownTx = interfaces.Hash{7}

func (f *fullBackend) Tx(id interfaces.Hash) (TxRecord, error) {
	if id != knownTx {
		return TxRecord{}, fmt.Errorf("%w: transaction %s", ErrNotFound, id.Short())
	}
	return TxRecord{ID: id.String(), Kind: "transfer", Chain: "cluster/0", Height: 3}, nil
}

var droppedTx = interfaces.Hash{8}

func (f *fullBackend) TxStatus(id interfaces.Hash) (TxStatus, error) {
	switch id {
	case knownTx:
		return TxStatus{ID: id.String(), Status: TxCommitted, Chain: "cluster/0", Height: 3}, nil
	case droppedTx:
		return TxStatus{ID: id.String(), Status: TxDropped, Chain: "cluster/0", Reason: "another transaction of sender x took sequence 1"}, nil
	}
	return TxStatus{ID: id.String(), Status: TxUnknown}, nil
}

func (f *fullBackend) Chain(star interfaces.StarID, from interfaces.Hash, limit int) (StarChain, error) {
	if star == interfaces.DevStar("elsewhere") {
		return StarChain{}, fmt.Errorf("%w: another cluster's", ErrNotHere)
	}
	out := StarChain{Star: star.String(), Seq: 2, Txs: []TxRecord{{Seq: 2}, {Seq: 1}}}
	return out, nil
}

func (f *fullBackend) BlackHole(height uint64) (BlackHole, error) {
	if height > 5 {
		return BlackHole{}, fmt.Errorf("%w: head is 5", ErrNotFound)
	}
	b := &interfaces.Block{Header: interfaces.BlockHeader{Height: height}}
	b.Seal()
	return BlackHoleOf(b, []byte{1, 2}), nil
}

func (f *fullBackend) Meme(star interfaces.StarID, explain bool) (Meme, error) {
	m := Meme{Star: star.String(), Score: int64(interfaces.ScoreOne / 2), ScoreText: ScoreText(interfaces.ScoreOne / 2), Chain: "cluster/0"}
	if explain {
		m.Explain = &MemeExplanation{Known: true, Score: m.Score, Features: []MemeFeature{{Name: "trust"}}}
	}
	return m, nil
}

func (f *fullBackend) Memes() (MemeList, error) {
	m, _ := f.Meme(interfaces.DevStar("a"), false)
	return MemeList{Chain: "cluster/0", ScoreOne: int64(interfaces.ScoreOne), Memes: []Meme{m}}, nil
}

func (f *fullBackend) Clusters() (Clusters, error) {
	return Clusters{Clusters: []ClusterInfo{
		{Cluster: 0, Delegates: []string{interfaces.DevStar("a").String()}, Source: "chain", Here: true},
		{Cluster: 1, Delegates: []string{}, Source: "genesis"},
	}}, nil
}

func (f *fullBackend) Candidacy(s interfaces.StarID) (Candidacy, error) {
	return Candidacy{Star: s.String()}, nil
}

// serveFull serves b over a real loopback HTTP server with opts (and a
// fault switch, so that every route is served).
func serveFull(t *testing.T, b Backend, opts Options) (*Client, *server) {
	t.Helper()
	if opts.Faults == nil {
		opts.Faults = &recordingSwitch{}
	}
	s := buildServer(b, opts)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return &Client{Base: srv.URL, HTTP: &http.Client{Timeout: 20 * time.Second}}, s
}

// listen opens an ephemeral loopback port.
func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

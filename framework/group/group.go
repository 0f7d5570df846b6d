// Package group runs one consensus instance of a node: its engine, its
// write-ahead log and replay, retransmission, block sync, and the HyloChain
// fold of its decisions into its own chain (store). A node runs several
// groups at once (its Star Cluster, later the galaxy) over one transport;
// each group's messages are signed for its instance and travel on topics of
// its own, so groups never see each other's traffic. All protocol inputs of
// a group go through one goroutine, Run's loop, so its engine sees a single
// ordered stream of Propose and Step calls.
//
// Data flow: Submit → pool → (each proposal tick) a contribution reaped from
// the pool, with the provable faults and latency this member observed →
// Consensus.Propose → decisions → hylochain.Fold → store commit (block and
// state changes in one bbolt transaction) → pool cleanup → subscribers.
package group

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/constellation-chain/constellation/framework/blocksync"
	"github.com/constellation-chain/constellation/framework/events"
	"github.com/constellation-chain/constellation/framework/hylochain"
	"github.com/constellation-chain/constellation/framework/ledger"
	"github.com/constellation-chain/constellation/framework/metrics"
	"github.com/constellation-chain/constellation/framework/outbox"
	"github.com/constellation-chain/constellation/framework/pool"
	"github.com/constellation-chain/constellation/framework/sigcache"
	"github.com/constellation-chain/constellation/framework/store"
	"github.com/constellation-chain/constellation/framework/wal"
	"github.com/constellation-chain/constellation/interfaces"
)

// Config is what a group needs. The caller (framework/node) resolves the
// manifest and plugins into it.
type Config struct {
	// Name names the group within the network ("cluster/0" when empty);
	// with the genesis seed, the start epoch and the members it derives the
	// instance id.
	Name string
	// StartEpoch is the first epoch of the first membership epoch (0 for a
	// group that runs from genesis), and LastEpoch its last (0: no end).
	// Members and ConsensusKeys are that membership's.
	StartEpoch uint64
	LastEpoch  uint64
	// Next are the later membership epochs, in order, each starting the
	// epoch after the previous one's LastEpoch. At each boundary the group
	// ends its instance and starts a new one with the next members and
	// keys (a new instance id, so new topics), on the same chain, with no
	// epoch lost or decided twice. A star that is not a member of a
	// membership epoch keeps its chain and stops deciding.
	Next      []Membership
	Key       ed25519.PrivateKey
	DataDir   string
	Genesis   ledger.Genesis
	Cluster   interfaces.ClusterID
	Members   []interfaces.StarID // the cluster's delegates; sorted here
	Consensus interfaces.ConsensusFactory
	// ConsensusKeys is the engine's key material for this node (see
	// interfaces.ConsensusConfig.Keys).
	ConsensusKeys   []byte
	ConsensusParams []byte
	// BatchSize is B, the target number of transactions per block across
	// all members; each member proposes about B/N.
	BatchSize int
	// Interval is how long the node waits between proposals when fewer than
	// B/N transactions wait in the pool.
	Interval time.Duration
	// EmptyInterval, when positive, is how long a member with nothing to
	// order waits after its last block before it proposes an empty
	// contribution (CometBFT's create_empty_blocks_interval). It proposes
	// at once, as ever, when a transaction is includable, evidence waits
	// to be carried, or another member's message shows the next epoch
	// under way, so an idle network makes a block every EmptyInterval
	// and a loaded one is not slowed. Zero proposes every Interval.
	EmptyInterval time.Duration
	// Transport carries consensus messages between members; nil for a
	// single-member network.
	Transport interfaces.Transport
	Pool      pool.Options
	// Reputation, when set, observes every committed block and gives the
	// pool its sender priorities.
	Reputation *Reputation
	// SyncInterval is how often members exchange heads to find missing
	// blocks; default one second.
	SyncInterval time.Duration
	Logger       hclog.Logger
	// Misbehave, when set, makes this node Byzantine for tests: each
	// consensus payload the engine sends to a peer is replaced by what it
	// returns (nil drops it), and each is signed as usual, so the faults it
	// causes are provable. It is never set from a manifest; only the
	// CLI's byzantine test build (go build -tags byzantine) offers it.
	Misbehave func(to interfaces.StarID, payload []byte) [][]byte
	// Rules are the hierarchy's ledger rules for this chain (nil: a
	// network of one cluster).
	Rules *ledger.Rules
	// Contracts gives deploy and call transactions their effects
	// (framework/ledger/contracts.go); every node of the network must
	// agree on it.
	Contracts bool
	// Certify makes the members threshold-sign every committed block
	// (see certify.go); OnCertified, when set, is called on the group's
	// goroutine with each block and its certificate, and must not block.
	Certify     bool
	OnCertified func(b *interfaces.Block, cert []byte)
	// Rotation, when set, makes the group's later membership epochs from
	// its own chain, with keys generated without a dealer (rotation.go);
	// Next must then be empty.
	Rotation *Rotation
	// Now returns the time used for proposal timestamps and block events;
	// nil means time.Now. It never reaches consensus except through the
	// timestamps the decided contributions carry.
	Now func() time.Time
	// Metrics, when set, is the node's registry; the group reports its
	// chain, epochs, faults, pool and log there, under its Name. Nothing
	// read back from it reaches consensus.
	Metrics *metrics.Registry
}

// Membership is one membership epoch of a group after the first.
type Membership struct {
	Members []interfaces.StarID
	// Keys is this star's engine key material in it (nil when not a
	// member).
	Keys      []byte
	LastEpoch uint64 // 0: no end
}

// era is a membership epoch as the group runs it.
type era struct {
	start, last uint64 // last 0: no end
	members     []interfaces.StarID
	keys        []byte
	id          interfaces.InstanceID
	topic       string
	// keyless: this star is a member but could not assemble its keys
	// (rotation.go), so it follows the chain instead.
	keyless bool
}

// sits reports whether this star takes part in the era.
func (e era) sits(s interfaces.StarID) bool { return e.member(s) && !e.keyless }

func (e era) member(s interfaces.StarID) bool {
	_, ok := slices.BinarySearchFunc(e.members, s, interfaces.CompareStars)
	return ok
}

// contains reports whether epoch belongs to the era.
func (e era) contains(epoch uint64) bool { return epoch >= e.start && (e.last == 0 || epoch <= e.last) }

// BlockEvent announces a committed block.
type BlockEvent struct {
	Block      *interfaces.Block
	Hash       interfaces.Hash
	Rejected   int // decided transactions the ledger refused
	Duplicates int // transactions more than one member proposed (applied once)
	At         time.Time
}

// Group is one consensus instance of a running star. Submit, Head,
// Balance and Subscribe may be called from any goroutine; Run must be
// called once.
type Group struct {
	cfg    Config
	self   interfaces.StarID
	log    hclog.Logger
	store  *store.Store
	wal    *wal.Log
	pool   *pool.Pool
	engine interfaces.Consensus
	rng    *rand.Rand

	// instance names the consensus instance; every consensus message is
	// signed over it and travels on its own topic.
	instance interfaces.InstanceID
	topic    string
	eras     []era
	cur      int                         // the era running now
	retired  bool                        // not a member of the current era: keeps its chain, decides nothing
	early    []*interfaces.SignedMessage // messages for the next era, fed to its engine when it starts
	checker  interfaces.FaultChecker     // the engine, when it can check evidence
	signed   *signedCache
	book     *faultBook
	lat      *latencyTracker
	rot      *rotator // nil: memberships are configured, not rotated
	// expect is the membership epoch a completed key generation will
	// start, as anticipated a block before the handover schedules it, so
	// that its members' first messages are kept (rotation.go).
	expect *era
	// size, era and eraStart mirror the running membership epoch's member
	// count, index and first epoch for other goroutines (Submit, the
	// transport's handlers, Membership).
	size     atomic.Int32
	era      atomic.Int32
	eraStart atomic.Uint64

	inbox     chan *interfaces.SignedMessage // verified by the transport handler
	badSigned uint64                         // messages refused there (atomic)
	dropped   uint64                         // messages dropped at a full inbox (atomic)
	// horizon mirrors undecided() for the transport's handlers, and
	// leftToSync counts the messages they left to block sync (atomic).
	horizon    atomic.Uint64
	leftToSync uint64

	syncInbox chan interfaces.Envelope
	certInbox chan *certMsg
	cert      *certState
	outTxs    chan *interfaces.Transaction
	outbox    *outbox.Outbox
	// Messages sent since the decision before last, for retransmission
	// when the epoch stalls (a link may lose frames when it breaks).
	olderOut, recentOut []interfaces.OutMessage
	lastDecision        time.Time
	lastRetransmit      time.Time
	kick                chan struct{}
	// heard is one more than the newest epoch another member's consensus
	// message was for (0: none yet), lastBlock when the last block was
	// committed here: what EmptyInterval's wait looks at (idle).
	heard     uint64
	lastBlock time.Time
	syncer    *blocksync.Syncer
	// recent holds the last consensus messages received, fed again to a
	// fresh engine after catch-up moves it to a later epoch.
	recent     []*interfaces.SignedMessage
	recentNext int // where the next message overwrites the ring, once full

	events      *events.Broker[BlockEvent]
	seed        interfaces.Hash
	head        interfaces.BlockHeader // the last committed block's header; zero before block 1
	proposed    bool                   // proposed to engine.Epoch() already
	replayed    []interfaces.OutMessage
	replaying   bool
	cancelTopic []func()
	certCancel  func() // the certificate topic's subscription
	// ended are the engines of the last membership epochs that ended
	// (those this star was a member of, at most maxEnded), kept to
	// certify their last blocks, by instance.
	ended   map[interfaces.InstanceID]endedSigner
	watched map[string]func() // consensus topics subscribed, by topic
	mx      *metrics.Group    // nil: no metrics
	health  healthState       // for the node API's health check (health.go)
}

// ErrStopped is returned by calls made after the node stopped.
var ErrStopped = errors.New("node stopped")

// Open opens (or creates) the node's store, checks it belongs to this
// network, and builds the consensus engine at the epoch after the last
// committed block.
func Open(cfg Config) (*Group, error) {
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 1000
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 500 * time.Millisecond
	}
	if cfg.SyncInterval <= 0 {
		cfg.SyncInterval = time.Second
	}
	self, err := interfaces.StarIDFromPublicKey(cfg.Key.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, fmt.Errorf("node key: %w", err)
	}
	if cfg.Name == "" {
		cfg.Name = fmt.Sprintf("cluster/%d", cfg.Cluster)
	}
	eras, err := buildEras(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Rotation != nil && len(cfg.Next) > 0 {
		return nil, errors.New("a rotating group's membership epochs come from its chain; configure no later ones")
	}
	if !eras[0].member(self) && len(cfg.Next) == 0 && cfg.Rotation == nil {
		return nil, fmt.Errorf("this node (%s) is not among the cluster's %d members", self, len(eras[0].members))
	}
	members := eras[0].members
	cfg.Members = members

	st, err := store.Open(filepath.Join(cfg.DataDir, "chain"), store.Options{})
	if err != nil {
		return nil, err
	}
	if err := st.Init(cfg.Genesis); err != nil {
		st.Close()
		return nil, err
	}
	n := &Group{
		cfg:       cfg,
		self:      self,
		log:       cfg.Logger,
		store:     st,
		eras:      eras,
		signed:    newSignedCache(),
		book:      newFaultBook(),
		lat:       newLatencyTracker(members, self),
		inbox:     make(chan *interfaces.SignedMessage, 4096),
		syncInbox: make(chan interfaces.Envelope, 256),
		certInbox: make(chan *certMsg, 1024),
		cert:      newCertState(),
		outTxs:    make(chan *interfaces.Transaction, 65536),
		outbox:    outbox.New(cfg.Transport, cfg.Logger),
		kick:      make(chan struct{}, 1),
		events:    events.New[BlockEvent](),
	}
	if cfg.Rotation != nil {
		if n.rot, err = newRotator(*cfg.Rotation, cfg.Genesis.Seed, cfg.Name); err != nil {
			st.Close()
			return nil, err
		}
		rules := ledger.Rules{}
		if cfg.Rules != nil {
			rules = *cfg.Rules
		}
		rules.KeyGen, rules.Handover, rules.Founded = n.admitKeyGen, n.handover, n.founded
		n.cfg.Rules = &rules
		cfg.Rules = n.cfg.Rules
	}
	popts := cfg.Pool
	if cfg.Reputation != nil && popts.Priority == nil {
		popts.Priority = cfg.Reputation.Priority
	}
	if cfg.Rules != nil && popts.Certified == nil {
		popts.Certified = cfg.Rules.CheckCertified
	}
	// One signature check per transaction and node: the pool verifies each
	// arrival once, and the ledger trusts its verdicts.
	sigs := sigcache.New(0)
	rules := ledger.Rules{}
	if cfg.Rules != nil {
		rules = *cfg.Rules
	}
	rules.Signatures = sigs
	if cfg.Contracts {
		rules.Contracts = &ledger.ContractRules{LoadTx: ledger.LoadTxFrom(st.TxHeight, st.Block)}
	}
	n.cfg.Rules = &rules
	cfg.Rules = n.cfg.Rules
	popts.Signatures = sigs
	popts.Head = func(s interfaces.StarID) (uint64, interfaces.Hash) {
		seq, last, err := st.ChainHead(s)
		if err != nil {
			return 0, interfaces.Hash{}
		}
		return seq, last
	}
	popts.Forgot = func(kind string) { n.mx.Evicted(kind) } // n.mx is set below, before anything runs
	n.pool = pool.New(popts)

	head := st.Parent()
	// The engine's seed must be the same after a restart, or a replayed
	// engine could draw different randomness and contradict what it sent.
	seed := interfaces.DomainSum("constellation/consensus-seed/v1", cfg.Key.Seed())
	n.rng = rand.New(rand.NewChaCha8(interfaces.DomainSum("constellation/sampling-seed/v1", seed[:], head.Hash[:])))
	n.seed = seed
	if head.Height > 0 {
		b, err := st.Block(head.Height)
		if err != nil {
			st.Close()
			return nil, fmt.Errorf("read head block: %w", err)
		}
		n.head = b.Header
	}
	n.horizon.Store(n.undecided())
	if err := n.loadChainFaults(head.Height); err != nil {
		st.Close()
		return nil, err
	}
	if n.rot != nil && head.Height > 0 {
		// The membership epochs so far, from the chain.
		n.replaying = true
		err := st.Blocks(1, head.Height, n.rotate)
		n.replaying = false
		if err != nil {
			st.Close()
			return nil, fmt.Errorf("rebuild the rotation from the chain: %w", err)
		}
	}
	for n.cur+1 < len(n.eras) && !n.eras[n.cur].contains(n.undecided()) {
		n.cur++
	}
	n.enterEra()
	if cfg.Reputation != nil {
		if err := Rebuild(cfg.Reputation, head.Height, st.Blocks); err != nil {
			st.Close()
			return nil, err
		}
	}
	if err := n.startEngine(); err != nil {
		st.Close()
		return nil, err
	}
	if cfg.Transport != nil && (!n.retired || n.rot != nil) {
		if err := n.subscribe(); err != nil {
			n.unsubscribe()
			st.Close()
			return nil, err
		}
	}
	walDir := filepath.Join(cfg.DataDir, "wal")
	if _, err := os.Stat(walDir); head.Height > 0 && errors.Is(err, os.ErrNotExist) {
		n.closeStorage()
		return nil, fmt.Errorf("%w: %s is missing, but the chain beside it holds %d blocks: the log of what this node sent "+
			"in the epochs still open is gone, and a node that forgets what it sent can contradict itself. "+
			"If this star never took part in consensus from this directory (its chain was copied here), "+
			"create the empty directory %s and start again; otherwise run `constellation node repair --data %s --discard-open-epochs` "+
			"(read its --help first: the node must stay out of consensus until the others decide the epochs it forgets)",
			wal.ErrCorrupt, walDir, head.Height, walDir, cfg.DataDir)
	}
	if n.wal, err = wal.Open(walDir); err != nil {
		n.closeStorage()
		return nil, fmt.Errorf("%s: %w", cfg.Name, err)
	}
	// Replay the log into the current instance; if that commits the end
	// of its membership epoch, start the next instance and replay the
	// log's entries for it too, so it never contradicts what it sent
	// before the restart.
	for {
		if err := n.replay(); err != nil {
			n.closeStorage()
			return nil, err
		}
		was := n.cur
		if err := n.advanceIfEnded(); err != nil {
			n.closeStorage()
			return nil, err
		}
		if n.cur == was || n.retired {
			break
		}
	}
	if err := n.restoreEndedSigners(); err != nil {
		n.closeStorage()
		return nil, err
	}
	n.health.rose(time.Now()) // the window for the first block starts now
	n.mx = cfg.Metrics.Group(cfg.Name)
	n.mx.Head(n.head)
	n.mx.Pool(n.pool.Len)
	n.wal.ObserveSync(n.mx.WALSynced)
	n.outbox.OnDrop(n.mx.SendDropped)
	n.log.Info("group opened", "group", cfg.Name, "instance", n.instance.Short(), "star", self.Short(), "height", head.Height, "epoch", n.engine.Epoch(), "members", len(members), "consensus", cfg.Consensus.Info().Name)
	return n, nil
}

// retiredEngine stands in for the engine of a membership epoch this star
// is not a member of: it decides nothing and sends nothing.
type retiredEngine struct{}

func (retiredEngine) Propose([]byte) (interfaces.Output, error) { return interfaces.Output{}, nil }
func (retiredEngine) Step(interfaces.StarID, []byte) (interfaces.Output, error) {
	return interfaces.Output{}, nil
}
func (retiredEngine) Epoch() uint64 { return 0 }

// buildEras lays out cfg's membership epochs.
func buildEras(cfg Config) ([]era, error) {
	norm := sortedStars
	eras := []era{{start: cfg.StartEpoch, last: cfg.LastEpoch, members: norm(cfg.Members), keys: cfg.ConsensusKeys}}
	for i, m := range cfg.Next {
		prev := eras[len(eras)-1]
		if prev.last == 0 || prev.last < prev.start {
			return nil, fmt.Errorf("membership epoch %d has no last epoch, so membership epoch %d can never start", i, i+1)
		}
		eras = append(eras, era{start: prev.last + 1, last: m.LastEpoch, members: norm(m.Members), keys: m.Keys})
	}
	for i := range eras {
		e := &eras[i]
		if len(e.members) == 0 {
			return nil, fmt.Errorf("membership epoch %d has no members", i)
		}
		if e.last != 0 && e.last < e.start {
			return nil, fmt.Errorf("membership epoch %d ends (epoch %d) before it starts (epoch %d)", i, e.last, e.start)
		}
		e.id = interfaces.NewInstanceID(cfg.Genesis.Seed, cfg.Name, e.start, e.members)
		e.topic = interfaces.ConsensusTopic(e.id)
	}
	return eras, nil
}

// enterEra makes the current era's members, keys and instance the group's.
func (n *Group) enterEra() {
	e := n.eras[n.cur]
	n.cfg.Members, n.cfg.ConsensusKeys = e.members, e.keys
	n.instance, n.topic = e.id, e.topic
	n.lat = newLatencyTracker(e.members, n.self)
	n.retired = !e.sits(n.self)
	n.syncer = nil
	n.size.Store(int32(len(e.members)))
	n.era.Store(int32(n.cur))
	n.eraStart.Store(e.start)
}

// eraOf returns the era epoch belongs to.
func (n *Group) eraOf(epoch uint64) era {
	for _, e := range n.eras {
		if e.contains(epoch) {
			return e
		}
	}
	return n.eras[n.cur]
}

// advanceIfEnded starts the next membership epoch's instance once the
// block of the current one's last epoch is committed: the old instance's
// topics are left, the new members, keys and instance id are taken, and
// messages that arrived early for the new instance are fed to it.
func (n *Group) advanceIfEnded() error {
	for n.cur+1 < len(n.eras) && n.head.Height > 0 && n.eras[n.cur].last != 0 && n.head.Epoch >= n.eras[n.cur].last {
		// The new instance's topic stays subscribed if it already is:
		// re-subscribing would drop what is queued on it.
		n.unsubscribeKeeping(n.eras[n.cur+1].topic)
		if ts, ok := n.engine.(interfaces.ThresholdSigner); ok && !n.retired {
			n.keepSigner(ts)
		}
		n.cur++
		n.enterEra()
		// What the ended instance sent is settled: never resent, and
		// never signed for the new instance.
		n.olderOut, n.recentOut, n.recent, n.recentNext, n.replayed = nil, nil, nil, 0, nil
		n.log.Info("membership epoch ended; starting the next instance", "group", n.cfg.Name, "instance", n.instance.Short(), "first_epoch", n.eras[n.cur].start, "members", len(n.cfg.Members), "member", !n.retired)
		if n.retired {
			n.early = nil
			n.engine, n.checker = retiredEngine{}, nil
			if n.rot != nil && n.cfg.Transport != nil {
				if err := n.subscribe(); err != nil { // to follow the chain
					return err
				}
			}
			continue
		}
		if err := n.startEngine(); err != nil {
			return err
		}
		if n.cfg.Transport != nil {
			if err := n.subscribe(); err != nil {
				return err
			}
		}
		if n.wal != nil && !n.replaying {
			if err := n.rotateLog(); err != nil {
				return err
			}
		}
	}
	return nil
}

// startEngine builds a consensus engine at the epoch after the last
// committed block.
func (n *Group) startEngine() error {
	if n.retired {
		n.engine, n.checker = retiredEngine{}, nil
		return nil
	}
	var epoch uint64
	if n.head.Height > 0 {
		epoch = n.head.Epoch + 1
	}
	engine, err := n.cfg.Consensus.NewConsensus(interfaces.ConsensusConfig{
		Self:      n.self,
		Members:   n.cfg.Members,
		Epoch:     epoch,
		LastEpoch: n.eras[n.cur].last,
		Keys:      n.cfg.ConsensusKeys,
		Seed:      n.seed,
		BatchSize: n.cfg.BatchSize,
		Params:    n.cfg.ConsensusParams,
	})
	if err != nil {
		return fmt.Errorf("start consensus %s at epoch %d: %w", n.cfg.Consensus.Info().Name, epoch, err)
	}
	n.engine = engine
	n.checker, _ = engine.(interfaces.FaultChecker)
	n.proposed = false
	return nil
}

// chainFaultLookback is how many recent blocks' faults a node loads at
// start, so it does not carry evidence the chain already holds.
const chainFaultLookback = 256

// loadChainFaults remembers the faults of the blocks up to height.
func (n *Group) loadChainFaults(height uint64) error {
	if height == 0 {
		return nil
	}
	from := uint64(1)
	if height > chainFaultLookback {
		from = height - chainFaultLookback + 1
	}
	err := n.store.Blocks(from, height, func(b *interfaces.Block) error {
		n.book.committed(b.Meta.Faults)
		return nil
	})
	if err != nil {
		return fmt.Errorf("read recent blocks' faults: %w", err)
	}
	return nil
}

// undecided is the oldest epoch not yet decided and committed.
func (n *Group) undecided() uint64 {
	if n.head.Height == 0 {
		return 0
	}
	return n.head.Epoch + 1
}

// maxEpochsAhead bounds how far beyond the oldest undecided epoch a
// consensus message may be signed for; later ones are dropped before the
// engine and the log (an honest member is never that far ahead without
// this one's help, and the log would have to keep them forever).
const maxEpochsAhead = 2048

// syncWindow is how far beyond its oldest undecided epoch a node queues
// consensus messages as they arrive. An honest member signs for an epoch
// only once the ones before it are decided, so a message further ahead
// means this node is behind: it catches up through block sync, and the
// messages of the epochs sync brings would only fill the inbox (and the
// log) ahead of the ones it needs at the group's frontier. Once it is
// within the window it takes part again.
const syncWindow = 16

// accept decodes and verifies a consensus message from the transport. It
// runs on the transport's goroutines, so signature checks do not load the
// consensus loop. A message that fails is dropped: unsigned bytes prove
// nothing about anyone.
func (n *Group) accept(e interfaces.Envelope, inst interfaces.InstanceID) (*interfaces.SignedMessage, error) {
	m, err := interfaces.DecodeSignedMessage(e.Payload)
	if err != nil {
		return nil, err
	}
	if m.From != e.From {
		return nil, fmt.Errorf("message signed by %s arrived from %s", m.From.Short(), e.From.Short())
	}
	if m.Instance != inst {
		return nil, fmt.Errorf("message for instance %s on the topic of %s", m.Instance.Short(), inst.Short())
	}
	if m.To != interfaces.Broadcast && m.To != n.self {
		return nil, fmt.Errorf("message signed for %s", m.To.Short())
	}
	if err := m.Verify(); err != nil {
		return nil, err
	}
	return m, nil
}

// subscribe registers the consensus and block-sync handlers.
func (n *Group) subscribe() error {
	tr := n.cfg.Transport
	if n.retired {
		if n.certifying() {
			if err := n.subscribeCerts(); err != nil {
				return err
			}
		}
		return n.follow()
	}
	// The current instance's topic, and the next one's, whose messages
	// may come before this member ends the current membership epoch.
	watch := []era{n.eras[n.cur]}
	if next := n.cur + 1; next < len(n.eras) && n.eras[next].member(n.self) {
		watch = append(watch, n.eras[next])
	}
	for _, e := range watch {
		if err := n.watch(e); err != nil {
			return err
		}
	}
	if len(n.cfg.Members) > 1 {
		cancel, err := tr.Subscribe(interfaces.TxTopic(n.cfg.Cluster), n.receiveTxs)
		if err != nil {
			return fmt.Errorf("subscribe to transactions: %w", err)
		}
		n.cancelTopic = append(n.cancelTopic, cancel)
		if err := n.follow(); err != nil {
			return err
		}
	}
	if n.certifying() {
		return n.subscribeCerts()
	}
	return nil
}

// watch subscribes to era e's consensus topic, unless it is already.
func (n *Group) watch(e era) error {
	if _, ok := n.watched[e.topic]; ok {
		return nil
	}
	cancel, err := n.cfg.Transport.Subscribe(e.topic, func(env interfaces.Envelope) {
		m, err := n.accept(env, e.id)
		if err != nil {
			n.mx.Refused()
			if c := atomic.AddUint64(&n.badSigned, 1); c&(c-1) == 0 { // log at 1, 2, 4, … refusals
				n.log.Warn("consensus message refused", "from", env.From.Short(), "error", err, "refused", c)
			}
			return
		}
		n.queueStep(env, m)
	})
	if err != nil {
		return fmt.Errorf("subscribe to consensus messages: %w", err)
	}
	if n.watched == nil {
		n.watched = map[string]func(){}
	}
	n.watched[e.topic] = cancel
	return nil
}

// queueStep queues a verified consensus message for the run loop, unless it
// is for an epoch this node gets by block sync (beyond syncWindow), or
// the inbox is full. It runs on the transport's goroutines.
func (n *Group) queueStep(env interfaces.Envelope, m *interfaces.SignedMessage) {
	if m.Epoch > n.horizon.Load()+syncWindow {
		// This node is behind (a peer back from a partition or a
		// restart sees the others' current epochs): those epochs come
		// to it as blocks through sync, and queueing their messages
		// would only flood the inbox ahead of the ones it can use.
		n.mx.LeftToSync()
		if c := atomic.AddUint64(&n.leftToSync, 1); c&(c-1) == 0 {
			n.log.Info("behind the group; leaving consensus messages of later epochs to block sync (logged at 1, 2, 4, … messages)", "from", env.From.Short(), "epoch", m.Epoch, "undecided", n.horizon.Load(), "left", c)
		}
		return
	}
	select {
	case n.inbox <- m:
	default:
		// Logged at the 1st, 2nd, 4th, … drop with the count, not once
		// per message: a peer back from a partition can send thousands
		// in a second, and the log is no place to count them.
		n.mx.Dropped()
		if c := atomic.AddUint64(&n.dropped, 1); c&(c-1) == 0 {
			n.log.Warn("consensus inbox full; dropping messages (logged at 1, 2, 4, … drops)", "from", env.From.Short(), "dropped", c)
		}
	}
}

// follow syncs the chain from the current membership epoch's members: a
// member's way of catching up, and a non-member's way of keeping the chain.
func (n *Group) follow() error {
	n.syncer = blocksync.New(n.self, n.cfg.Members, (len(n.cfg.Members)-1)/3)
	n.health.setPeers(n.self, n.cfg.Members)
	n.syncer.Heard = func(from interfaces.StarID, height uint64, hash interfaces.Hash) {
		n.health.heard(from, height, hash, time.Now())
	}
	cancel, err := n.cfg.Transport.Subscribe(n.syncTopic(), func(e interfaces.Envelope) {
		select {
		case n.syncInbox <- e:
		default:
		}
	})
	if err != nil {
		return fmt.Errorf("subscribe to block sync: %w", err)
	}
	n.cancelTopic = append(n.cancelTopic, cancel)
	return nil
}

// syncTopic is the group's block-sync topic. It is the group's, not one
// instance's: a star that fell behind a membership boundary asks the
// members it knows of, who serve whichever epoch they are in.
func (n *Group) syncTopic() string {
	id := interfaces.DomainSum("constellation/group-sync/v1", []byte(n.cfg.Genesis.Seed), []byte(n.cfg.Name))
	return blocksync.Topic(interfaces.InstanceID(id))
}

func (n *Group) unsubscribe() { n.unsubscribeKeeping("") }

// unsubscribeKeeping leaves every topic but the consensus topic keep.
func (n *Group) unsubscribeKeeping(keep string) {
	for _, c := range n.cancelTopic {
		c()
	}
	n.cancelTopic = nil
	for topic, c := range n.watched {
		if topic != keep {
			c()
			delete(n.watched, topic)
		}
	}
}

// Membership returns the index of the membership epoch the group runs
// (0 for the first) and its first epoch. Safe from any goroutine.
func (n *Group) Membership() (index int, first uint64) {
	return int(n.era.Load()), n.eraStart.Load()
}

// Self returns the node's star identity.
func (n *Group) Self() interfaces.StarID { return n.self }

// Head returns the last committed block's height and hash.
func (n *Group) Head() (uint64, interfaces.Hash) {
	h, hash, _ := n.store.Head()
	return h, hash
}

// Store exposes the node's store for read-only queries.
func (n *Group) Store() *store.Store { return n.store }

// Balance returns a star's committed balance.
func (n *Group) Balance(s interfaces.StarID) (uint64, error) { return n.store.Balance(s) }

// ChainHead returns a star's committed sequence number and last transaction.
func (n *Group) ChainHead(s interfaces.StarID) (uint64, interfaces.Hash, error) {
	return n.store.ChainHead(s)
}

// PoolLen returns how many transactions wait.
func (n *Group) PoolLen() int { return n.pool.Len() }

// PoolStatus says whether the pool holds transaction id, or else why it
// dropped it uncommitted ("" when it did not, or forgot).
func (n *Group) PoolStatus(id interfaces.Hash) (pending bool, reason string) {
	return n.pool.Status(id)
}

// Submit adds a signed transaction to the pool. The error says why a
// transaction was refused (bad signature, duplicate, stale sequence, full).
// A duplicate, one the pool holds and the chain has not committed, is
// gossiped again all the same: a node that is not a delegate only holds
// what it gossiped, and gossip published before the node had heard the
// topic's subscribers reached nobody, so a client that submits again
// until the chain holds its transaction is how it gets there.
func (n *Group) Submit(tx *interfaces.Transaction) error {
	err := n.pool.Add(tx)
	if err != nil && !errors.Is(err, pool.ErrDuplicate) {
		return err
	}
	if n.cfg.Transport != nil && n.size.Load() > 1 {
		// Every delegate keeps the whole cluster's pool, so each can sample
		// its B/N slice from all of it.
		select {
		case n.outTxs <- tx:
		default:
			n.log.Debug("transaction gossip queue full; the transaction stays local")
		}
	}
	if err != nil {
		return err
	}
	n.kickIfFull()
	return nil
}

// receiveTxs adds a gossiped batch of transactions to the pool.
func (n *Group) receiveTxs(e interfaces.Envelope) {
	batch, err := interfaces.DecodeTxBatch(e.Payload)
	if err != nil {
		n.log.Debug("malformed transaction gossip", "from", e.From.Short(), "error", err)
		return
	}
	// One batch verification for the gossiped batch; duplicates and stale
	// ones are expected, nothing to do about them.
	n.pool.AddBatch(batch.Txs)
	n.kickIfFull()
}

// gossipTxs publishes submitted transactions to the cluster's topic in
// batches, until ctx ends.
func (n *Group) gossipTxs(ctx context.Context) {
	const maxBatch = 512
	flush := time.NewTicker(10 * time.Millisecond)
	defer flush.Stop()
	var batch []*interfaces.Transaction
	send := func() {
		if len(batch) == 0 {
			return
		}
		b := interfaces.TxBatch{Txs: batch}
		if err := n.cfg.Transport.Publish(ctx, interfaces.TxTopic(n.cfg.Cluster), b.Encode()); err != nil {
			n.log.Debug("publish transactions", "error", err)
		}
		batch = nil
	}
	for {
		select {
		case <-ctx.Done():
			return
		case tx := <-n.outTxs:
			batch = append(batch, tx)
			if len(batch) >= maxBatch {
				send()
			}
		case <-flush.C:
			send()
		}
	}
}

func (n *Group) kickIfFull() {
	if n.pool.Includable() >= n.share() {
		select {
		case n.kick <- struct{}{}:
		default:
		}
	}
}

// Subscribe returns a channel of committed blocks and a cancel function. A
// subscriber that does not keep up never stalls the group and never loses
// track: it gets a gap marker naming the heights it missed (read them with
// Resume) before the next block it has room for.
func (n *Group) Subscribe(buffer int) (<-chan events.Event[BlockEvent], func()) {
	return n.events.Subscribe(buffer)
}

// Resume calls fn for each committed block a gap marker names, in order.
func (n *Group) Resume(g events.Gap, fn func(*interfaces.Block) error) error {
	return n.store.Blocks(g.From, g.To, fn)
}

// share is B/N, the number of transactions this member proposes per epoch.
func (n *Group) share() int {
	s := n.cfg.BatchSize / int(n.size.Load())
	if s < 1 {
		s = 1
	}
	return s
}

// Run drives the node until ctx is done, then closes the store. Every
// protocol input passes through this one goroutine.
func (n *Group) Run(ctx context.Context) error {
	defer n.close()
	if n.cfg.Transport != nil && len(n.cfg.Members) > 1 {
		gctx, stop := context.WithCancel(ctx)
		defer stop()
		go n.gossipTxs(gctx)
	}
	// What the log says this node sent is sent again, and kept for
	// retransmission like anything sent from here on: the peers that
	// restarted with it may not be connected yet, and if every member
	// restarted, nothing else would ever repeat these messages.
	for _, m := range n.replayed {
		n.send(ctx, m)
	}
	n.keepSent(n.replayed)
	n.replayed = nil
	n.submitKeyGen() // a key generation open when the node stopped
	ticker := time.NewTicker(n.cfg.Interval)
	defer ticker.Stop()
	syncTicker := time.NewTicker(n.cfg.SyncInterval)
	defer syncTicker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-syncTicker.C:
			if n.syncer != nil {
				n.sendSync(ctx, n.syncer.Tick(n))
			}
			n.askCertificates(ctx)
		case m := <-n.certInbox:
			n.takeShare(ctx, m, false)
		case env := <-n.syncInbox:
			if err := n.handleSync(ctx, env); err != nil {
				return err
			}
		case env := <-n.inbox:
			if err := n.step(ctx, env); err != nil {
				return err
			}
		case <-ticker.C:
			if err := n.propose(ctx); err != nil {
				return err
			}
			n.retransmitIfStalled(ctx)
		case <-n.kick:
			if err := n.propose(ctx); err != nil {
				return err
			}
		}
	}
}

// Close releases a group that was opened but will not Run (Run closes it
// itself when it returns).
func (n *Group) Close() { n.close() }

func (n *Group) close() {
	n.unsubscribe()
	if n.certCancel != nil {
		n.certCancel()
	}
	n.closeStorage()
	n.events.Close()
	n.mx.Close()
	n.log.Info("group stopped", "group", n.cfg.Name)
}

// propose contributes to the current epoch once: a random B/N slice of the
// pool's head (HoneyBadger's sampling, so members rarely propose the same
// transactions), chosen by sender so each sender's run stays in sequence.
func (n *Group) propose(ctx context.Context) error {
	if n.proposed || n.retired {
		return nil
	}
	if last := n.eras[n.cur].last; last != 0 && n.engine.Epoch() > last {
		return nil // the next membership epoch's instance proposes from there
	}
	if n.idle() {
		return nil // nothing to order yet: no empty block before EmptyInterval
	}
	share := n.share()
	candidates := n.pool.Reap(n.cfg.BatchSize)
	txs := candidates
	if len(n.cfg.Members) > 1 && len(candidates) > share {
		txs = sampleBySender(n.rng, candidates, share)
	}
	n.log.Debug("proposing", "epoch", n.engine.Epoch(), "pool", n.pool.Len(), "reaped", len(candidates), "proposed", len(txs))
	now := n.cfg.Now()
	epoch := n.engine.Epoch()
	batch := interfaces.TxBatch{
		Timestamp: now.UnixMilli(),
		Txs:       txs,
		Faults:    n.book.take(epoch, n.head.Epoch, n.head.Height > 0),
		Latency:   n.lat.report(),
	}
	data := batch.Encode()
	if err := n.wal.Append(wal.Entry{Kind: wal.KindPropose, Epoch: epoch, Data: data}); err != nil {
		return err
	}
	n.lat.proposed(epoch, now)
	n.proposed = true
	out, err := n.engine.Propose(data)
	if err != nil {
		return fmt.Errorf("consensus propose: %w", err)
	}
	return n.handle(ctx, out)
}

// step feeds one message to the engine, and any others already waiting, so
// one fsync of the log covers them all before their answers are sent.
func (n *Group) step(ctx context.Context, m *interfaces.SignedMessage) error {
	var batch []interfaces.Inbound
	now := n.cfg.Now()
	undecided := n.undecided()
	take := func(m *interfaces.SignedMessage) error {
		if m.Instance != n.instance {
			// The next membership epoch's is kept until its instance
			// starts; a late one of an ended instance is settled.
			next := n.cur + 1
			early := next < len(n.eras) && m.Instance == n.eras[next].id
			early = early || n.expect != nil && m.Instance == n.expect.id
			if early && len(n.early) < maxRecent {
				n.early = append(n.early, m)
			}
			return nil
		}
		if m.Epoch > undecided+maxEpochsAhead {
			return nil
		}
		if m.Epoch >= undecided {
			n.heard = max(n.heard, m.Epoch+1)
		}
		n.remember(m)
		n.signed.add(m)
		n.lat.heard(m.Epoch, undecided, m.From, now)
		if err := n.wal.Append(wal.Entry{Kind: wal.KindStep, Epoch: m.Epoch, From: m.From, Data: m.Encode()}); err != nil {
			return err
		}
		batch = append(batch, interfaces.Inbound{From: m.From, Payload: m.Payload})
		return nil
	}
	if err := take(m); err != nil {
		return err
	}
collect:
	for len(batch) < maxStepBatch {
		select {
		case m := <-n.inbox:
			if err := take(m); err != nil {
				return err
			}
		default:
			break collect
		}
	}
	if len(batch) == 0 {
		return nil
	}
	// One call for the batch: an out-of-process engine crosses the process
	// boundary once (interfaces.BatchStepper).
	out, err := interfaces.StepAll(n.engine, batch)
	if err != nil {
		return fmt.Errorf("consensus step: %w", err)
	}
	if err := n.handle(ctx, out); err != nil {
		return err
	}
	if n.cfg.EmptyInterval > 0 && !n.proposed && n.othersBusy() {
		// Another member started the epoch this one waited to start:
		// join at once (HoneyBadger needs N-f contributions).
		return n.propose(ctx)
	}
	return nil
}

// othersBusy reports whether another member's message was for the
// undecided epoch or a later one.
func (n *Group) othersBusy() bool { return n.heard > n.undecided() }

// idle reports whether this member waits, with EmptyInterval, before
// contributing to the next epoch: no transaction is includable, no
// evidence waits, no other member started the epoch, and the last block
// is younger than EmptyInterval.
func (n *Group) idle() bool {
	if n.cfg.EmptyInterval <= 0 || n.lastBlock.IsZero() || n.othersBusy() || n.book.waiting() {
		return false
	}
	return n.pool.Includable() == 0 && n.cfg.Now().Sub(n.lastBlock) < n.cfg.EmptyInterval
}

// maxStepBatch bounds the messages fed to the engine in one call.
const maxStepBatch = 256

// replay rebuilds the engine's state from the write-ahead log: inputs are
// fed again in order; decisions not yet committed (a crash between deciding
// and committing) are committed now; messages are sent again once Run
// starts, which is harmless since they are the ones sent before.
func (n *Group) replay() error {
	var out interfaces.Output
	count := 0
	n.replaying = true
	defer func() { n.replaying = false }()
	err := n.wal.Replay(func(e wal.Entry) error {
		count++
		var o interfaces.Output
		var err error
		switch e.Kind {
		case wal.KindPropose:
			if last := n.eras[n.cur].last; e.Epoch != n.engine.Epoch() || (last != 0 && e.Epoch > last) {
				return nil // an epoch already closed, or another instance's
			}
			n.proposed = true
			o, err = n.engine.Propose(e.Data)
		case wal.KindStep:
			m, derr := interfaces.DecodeSignedMessage(e.Data)
			if derr != nil {
				return fmt.Errorf("replay consensus log: entry %d: %w", count, derr)
			}
			if m.Instance != n.instance {
				return nil // another membership epoch's
			}
			n.signed.add(m)
			o, err = n.engine.Step(m.From, m.Payload)
		}
		if err != nil {
			return fmt.Errorf("replay consensus log: %w", err)
		}
		out.Messages = append(out.Messages, o.Messages...)
		n.collect(o.Faults)
		for _, d := range o.Decisions {
			if n.head.Height > 0 && d.Epoch <= n.head.Epoch || n.pastEra(d.Epoch) {
				continue
			}
			if err := n.commit(d); err != nil {
				return err
			}
			n.proposed = false
		}
		return nil
	})
	if err != nil {
		return err
	}
	n.replayed = out.Messages
	if count > 0 {
		n.log.Info("replayed consensus log", "entries", count, "messages", len(out.Messages))
	}
	return nil
}

func (n *Group) closeStorage() {
	if n.wal != nil {
		if err := n.wal.Close(); err != nil {
			n.log.Error("close consensus log", "error", err)
		}
	}
	if err := n.store.Close(); err != nil {
		n.log.Error("close store", "error", err)
	}
}

// sampleBySender picks about want transactions from txs (which holds each
// sender's run in sequence order) by taking whole sender runs in a random
// order; a partial run is cut at its end, never in its middle.
func sampleBySender(rng *rand.Rand, txs []*interfaces.Transaction, want int) []*interfaces.Transaction {
	type run struct{ from, to int }
	var runs []run
	for i := 0; i < len(txs); {
		j := i + 1
		for j < len(txs) && txs[j].Sender == txs[i].Sender {
			j++
		}
		runs = append(runs, run{i, j})
		i = j
	}
	rng.Shuffle(len(runs), func(i, j int) { runs[i], runs[j] = runs[j], runs[i] })
	out := make([]*interfaces.Transaction, 0, want)
	for _, r := range runs {
		for k := r.from; k < r.to && len(out) < want; k++ {
			out = append(out, txs[k])
		}
		if len(out) >= want {
			break
		}
	}
	return out
}

func (n *Group) handle(ctx context.Context, out interfaces.Output) error {
	if len(out.Messages) > 0 {
		// Persist before send: the inputs behind these messages must
		// survive a crash, so a restarted node repeats rather than
		// contradicts them.
		if err := n.wal.Sync(); err != nil {
			return err
		}
	}
	for _, m := range out.Messages {
		n.send(ctx, m)
	}
	n.keepSent(out.Messages)
	if len(out.Decisions) > 0 {
		n.lastDecision = time.Now()
		n.olderOut, n.recentOut = n.recentOut, nil
	}
	n.collect(out.Faults)
	for _, d := range out.Decisions {
		if n.pastEra(d.Epoch) {
			// The chain ended this instance's membership epoch before
			// this decision (a rotation scheduled it); the next
			// instance decides this epoch, and its transactions stay
			// in the pool for it.
			continue
		}
		if err := n.commit(d); err != nil {
			return err
		}
		n.proposed = false
		if b, err := n.store.Block(n.head.Height); err == nil {
			n.certifyCommitted(ctx, b)
		}
	}
	if len(out.Decisions) > 0 {
		was := n.cur
		if err := n.advanceIfEnded(); err != nil {
			return err
		}
		if n.cur != was && !n.retired && len(n.early) > 0 {
			early := n.early
			n.early = nil
			for _, m := range early {
				if err := n.step(ctx, m); err != nil {
					return err
				}
			}
		}
	}
	if !n.proposed && !n.retired && n.pool.Includable() >= n.share() {
		select {
		case n.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

// send signs m once (ed25519 is deterministic, so a retransmission carries
// the same bytes) and queues it for its recipients.
func (n *Group) send(ctx context.Context, m interfaces.OutMessage) {
	if n.cfg.Transport == nil {
		return
	}
	targets := []interfaces.StarID{m.To}
	if m.To == interfaces.Broadcast {
		targets = n.cfg.Members
	}
	if n.cfg.Misbehave != nil {
		for _, to := range targets {
			if to == n.self {
				continue
			}
			for _, p := range n.cfg.Misbehave(to, m.Payload) {
				sm := interfaces.SignedMessage{Instance: n.instance, Epoch: m.Epoch, To: m.To, Payload: p}
				sm.Sign(n.cfg.Key)
				n.enqueue(ctx, to, n.topic, sm.Encode())
			}
		}
		return
	}
	sm := interfaces.SignedMessage{Instance: n.instance, Epoch: m.Epoch, To: m.To, Payload: m.Payload}
	sm.Sign(n.cfg.Key)
	raw := sm.Encode()
	for _, to := range targets {
		if to != n.self {
			n.enqueue(ctx, to, n.topic, raw)
		}
	}
}

// collect keeps the provable faults among those the engine reported, to
// carry in a later contribution; the others are counted and logged, and go
// no further.
func (n *Group) collect(fs []interfaces.Fault) {
	for _, f := range fs {
		p, err := n.provable(f)
		n.mx.Fault(f.Kind, err == nil)
		if err != nil {
			n.book.local++
			n.log.Debug("fault seen, not provable", "star", f.Star.Short(), "kind", f.Kind, "epoch", f.Epoch, "why", err)
			continue
		}
		n.book.add(p)
	}
}

// enqueue hands a message to the peer's queue in the outbox; its writer
// stops when ctx (Run's) ends.
func (n *Group) enqueue(ctx context.Context, to interfaces.StarID, topic string, payload []byte) {
	n.outbox.Send(ctx, to, topic, payload)
}

// commit folds a decision into the next block (framework/hylochain) and
// commits block and state changes in one store transaction.
func (n *Group) commit(d interfaces.Decision) error {
	parent := hylochain.Parent{Ref: n.store.Parent(), Timestamp: n.cfg.Genesis.Timestamp}
	if n.head.Height > 0 {
		parent.Timestamp = n.head.Timestamp
	}
	res, err := hylochain.Fold(n.foldInstance(d.Epoch), n.store, parent, d)
	if err != nil {
		return err
	}
	block := res.Block
	if err := n.store.CommitBlock(block, res.Changes); err != nil {
		return fmt.Errorf("commit block %d: %w", block.Header.Height, err)
	}
	if len(res.Undecodable) > 0 || res.BadEvidence > 0 {
		n.log.Warn("decided contributions carried what the fold refused", "height", block.Header.Height, "undecodable", len(res.Undecodable), "bad_evidence", res.BadEvidence)
	}
	n.head = block.Header
	n.lastBlock = n.cfg.Now()
	n.horizon.Store(n.undecided())
	n.book.committed(block.Meta.Faults)
	n.mx.Committed(block)
	if t := n.lat.startedAt(d.Epoch); !n.replaying && !t.IsZero() {
		n.mx.EpochDecided(n.cfg.Now().Sub(t))
	}
	n.lat.decided(d.Epoch)
	if !n.replaying {
		if err := n.rotateLog(); err != nil {
			return err
		}
	}
	n.pool.Committed(block.Txs)
	n.pool.Drop(res.Refused, res.RefusedWhy)
	n.pool.Short(res.Short)
	n.observe(block)
	if err := n.rotate(block); err != nil {
		return err
	}
	if !n.replaying {
		n.submitKeyGen()
	}
	n.publish(BlockEvent{Block: block, Hash: block.Hash(), Rejected: res.Rejected, Duplicates: res.Duplicates, At: n.cfg.Now()})
	return nil
}

// pastEra reports whether epoch is past the end of the running
// membership epoch.
func (n *Group) pastEra(epoch uint64) bool {
	last := n.eras[n.cur].last
	return last != 0 && epoch > last
}

// foldInstance describes to the fold the instance that decides epoch.
// Evidence of an earlier membership epoch is checked by the current
// engine's rules, which are the same engine's.
func (n *Group) foldInstance(epoch uint64) hylochain.Instance {
	e := n.eraOf(epoch)
	return hylochain.Instance{ID: e.id, Cluster: n.cfg.Cluster, Members: e.members, Checker: n.checker, Rules: n.cfg.Rules}
}

// rotateLog starts a new log segment and drops the segments whose every
// input is for a decided epoch.
func (n *Group) rotateLog() error {
	if err := n.wal.Rotate(); err != nil {
		return err
	}
	if keepWholeLog {
		return nil
	}
	return n.wal.Prune(n.undecided())
}

// keepWholeLog turns pruning off, for this package's tests that refold a
// whole chain from its log.
var keepWholeLog = false

// Block returns the committed block at height.
func (n *Group) Block(height uint64) (*interfaces.Block, error) { return n.store.Block(height) }

// maxRecent bounds the consensus messages kept for a fresh engine.
const maxRecent = 8192

// remember keeps env in the ring of recent consensus messages.
func (n *Group) remember(m *interfaces.SignedMessage) {
	if len(n.recent) < maxRecent {
		n.recent = append(n.recent, m)
		return
	}
	n.recent[n.recentNext] = m
	n.recentNext = (n.recentNext + 1) % maxRecent
}

// recentInOrder returns the remembered messages, oldest first.
func (n *Group) recentInOrder() []*interfaces.SignedMessage {
	out := make([]*interfaces.SignedMessage, 0, len(n.recent))
	out = append(out, n.recent[n.recentNext:]...)
	return append(out, n.recent[:n.recentNext]...)
}

func (n *Group) sendSync(ctx context.Context, out []blocksync.Out) {
	for _, o := range out {
		n.enqueue(ctx, o.To, n.syncTopic(), o.Payload)
	}
}

// handleSync answers a block-sync message and adopts the blocks a quorum of
// members vouched for.
func (n *Group) handleSync(ctx context.Context, env interfaces.Envelope) error {
	if n.syncer == nil {
		// Queued before the group entered a new membership epoch, which
		// drops the old epoch's syncer until it follows the new one.
		return nil
	}
	out, ready, err := n.syncer.Handle(env.From, env.Payload, n)
	if err != nil {
		n.log.Debug("block sync", "error", err)
	}
	n.sendSync(ctx, out)
	if len(ready) == 0 {
		return nil
	}
	for _, b := range ready {
		if err := n.adopt(b); err != nil {
			n.log.Warn("fetched block refused", "height", b.Header.Height, "error", err)
			n.health.refusedBlock(time.Now(), fmt.Sprintf("block %d, vouched for by a quorum of peers: %v", b.Header.Height, err))
			return nil
		}
		n.certifyCommitted(ctx, b)
	}
	if err := n.advanceIfEnded(); err != nil {
		return err
	}
	// The engine is behind the chain now: restart it at the next epoch and
	// feed it the messages that arrived meanwhile, which may belong to the
	// epoch it joins.
	if err := n.startEngine(); err != nil {
		return err
	}
	n.log.Info("caught up", "height", ready[len(ready)-1].Header.Height, "blocks", len(ready), "epoch", n.engine.Epoch())
	recent := n.recentInOrder()
	var out2 interfaces.Output
	for _, m := range recent {
		o, err := n.engine.Step(m.From, m.Payload)
		if err != nil {
			return fmt.Errorf("consensus step: %w", err)
		}
		out2.Append(o)
	}
	if err := n.rotateLog(); err != nil {
		return err
	}
	for _, m := range recent {
		if err := n.wal.Append(wal.Entry{Kind: wal.KindStep, Epoch: m.Epoch, From: m.From, Data: m.Encode()}); err != nil {
			return err
		}
	}
	return n.handle(ctx, out2)
}

// adopt verifies a block fetched from peers against the local state and
// commits it.
func (n *Group) adopt(b *interfaces.Block) error {
	parent := n.store.Parent()
	ch, err := ledger.VerifyBlockWith(n.store, parent, b, n.cfg.Rules)
	if err != nil {
		return err
	}
	if admitted, bad := hylochain.AdmitFaults(n.foldInstance(b.Header.Epoch), b.Meta.Faults); bad > 0 || len(admitted) != len(b.Meta.Faults) {
		return fmt.Errorf("block %d carries %d faults whose evidence does not verify", b.Header.Height, len(b.Meta.Faults)-len(admitted))
	}
	if err := n.store.CommitBlock(b, ch); err != nil {
		return fmt.Errorf("commit fetched block %d: %w", b.Header.Height, err)
	}
	n.head = b.Header
	n.horizon.Store(n.undecided())
	n.book.committed(b.Meta.Faults)
	n.mx.Committed(b)
	n.pool.Committed(b.Txs)
	n.observe(b)
	if err := n.rotate(b); err != nil {
		return err
	}
	n.submitKeyGen()
	n.publish(BlockEvent{Block: b, Hash: b.Hash(), At: n.cfg.Now()})
	return nil
}

func (n *Group) publish(ev BlockEvent) {
	n.health.rose(time.Now())
	n.events.Publish(ev.Block.Header.Height, ev)
}

// keepSent keeps messages just sent for retransmission.
func (n *Group) keepSent(ms []interfaces.OutMessage) {
	n.recentOut = append(n.recentOut, ms...)
	if len(n.recentOut) > maxRecentOut {
		n.recentOut = n.recentOut[len(n.recentOut)-maxRecentOut:]
	}
}

// maxRecentOut bounds the messages kept for retransmission.
const maxRecentOut = 1 << 14

// stallAfter is how long without a decision before the node sends its
// recent consensus messages again.
func (n *Group) stallAfter() time.Duration {
	return max(10*n.cfg.Interval, 2*time.Second)
}

// retransmitIfStalled re-sends the consensus messages of the current and
// previous epoch when no epoch has been decided for a while. The protocol
// assumes reliable links; a transport may lose frames when a connection
// breaks, and engines ignore duplicates, so repeating is always safe.
func (n *Group) retransmitIfStalled(ctx context.Context) {
	if n.cfg.Transport == nil || len(n.cfg.Members) < 2 {
		return
	}
	now := time.Now()
	if n.lastDecision.IsZero() || (n.cfg.EmptyInterval > 0 && !n.proposed && !n.othersBusy()) {
		// Nothing in flight (an idle wait, EmptyInterval): no stall.
		n.lastDecision = now
	}
	if now.Sub(n.lastDecision) < n.stallAfter() || now.Sub(n.lastRetransmit) < n.stallAfter() {
		return
	}
	n.lastRetransmit = now
	n.log.Info("no decision for a while; sending recent consensus messages again", "since", now.Sub(n.lastDecision).Round(time.Millisecond), "messages", len(n.olderOut)+len(n.recentOut))
	for _, m := range n.olderOut {
		n.send(ctx, m)
	}
	for _, m := range n.recentOut {
		n.send(ctx, m)
	}
}

// observe feeds a committed block to reputation. A reputation failure is
// logged, not fatal: the block is committed and reputation does not decide
// what is valid.
func (n *Group) observe(b *interfaces.Block) {
	if n.cfg.Reputation == nil {
		return
	}
	if err := n.cfg.Reputation.Observe(b); err != nil {
		n.log.Error("reputation", "error", err)
	}
}

// Instance returns the id of the consensus instance this node runs.
func (n *Group) Instance() interfaces.InstanceID { return n.instance }

// CertificateMessage is what a group threshold-signs to certify its block
// (interfaces.CertificateMessage).
var CertificateMessage = interfaces.CertificateMessage

// signer returns the engine's threshold signer.
func (n *Group) signer() (interfaces.ThresholdSigner, error) {
	ts, ok := n.engine.(interfaces.ThresholdSigner)
	if !ok {
		return nil, fmt.Errorf("consensus %s cannot threshold-sign", n.cfg.Consensus.Info().Name)
	}
	return ts, nil
}

// certInstance is the instance a certificate of a block of epoch names:
// its membership epoch's, or for a group that reshares its key
// (Rotation.Reshare) the first one's for every block. Its group key never
// changes, so what verifiers check a certificate against does not either.
func (n *Group) certInstance(epoch uint64) interfaces.InstanceID {
	if n.cfg.Rotation != nil && n.cfg.Rotation.Reshare {
		return n.eras[0].id
	}
	return n.eraOf(epoch).id
}

// CertificateShare returns this member's share of the group's certificate
// of the committed block at height. Call it from the goroutine that runs
// the group, or after Run returned.
func (n *Group) CertificateShare(height uint64) (interfaces.SignatureShare, error) {
	b, err := n.store.Block(height)
	if err != nil {
		return interfaces.SignatureShare{}, err
	}
	ts, err := n.signerFor(b.Header.Epoch)
	if err != nil {
		return interfaces.SignatureShare{}, err
	}
	sh, err := ts.SignShare(CertificateMessage(n.certInstance(b.Header.Epoch), b.Hash()))
	return interfaces.SignatureShare{Member: n.self, Share: sh}, err
}

// Certify combines members' shares into the group's certificate of the
// block at height (f+1 valid shares suffice).
func (n *Group) Certify(height uint64, shares []interfaces.SignatureShare) ([]byte, error) {
	b, err := n.store.Block(height)
	if err != nil {
		return nil, err
	}
	ts, err := n.signerFor(b.Header.Epoch)
	if err != nil {
		return nil, err
	}
	return ts.CombineShares(CertificateMessage(n.certInstance(b.Header.Epoch), b.Hash()), shares)
}

// VerifyCertificate checks the group's certificate of the block at height
// under the key of the membership epoch that decided it.
func (n *Group) VerifyCertificate(height uint64, sig []byte) error {
	b, err := n.store.Block(height)
	if err != nil {
		return err
	}
	ts, err := n.signerFor(b.Header.Epoch)
	if err != nil {
		return err
	}
	return ts.VerifyGroupSignature(CertificateMessage(n.certInstance(b.Header.Epoch), b.Hash()), sig)
}

// Refused counts the consensus messages this group's transport handler
// refused (undecodable, unsigned, for another instance or recipient).
func (n *Group) Refused() uint64 { return atomic.LoadUint64(&n.badSigned) }

// Dropped returns how many consensus messages were dropped because the
// engine's inbox was full.
func (n *Group) Dropped() uint64 { return atomic.LoadUint64(&n.dropped) }

// Topic returns the transport topic of the instance's consensus messages.
func (n *Group) Topic() string { return n.topic }

// Cluster returns the cluster whose chain this group keeps
// (interfaces.GalaxyCluster for the galaxy).
func (n *Group) Cluster() interfaces.ClusterID { return n.cfg.Cluster }

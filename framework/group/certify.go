package group

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/constellation-chain/constellation/interfaces"
)

// Certification: when Config.Certify is set, the members of a group
// threshold-sign every block they commit. Each member broadcasts its share
// on the instance's certificate topic; any f+1 valid shares combine into
// the group's certificate, which is unique for the block (BLS), so every
// member stores the same bytes. The certificate is what makes a cluster's
// checkpoint acceptable to the galaxy and a black hole acceptable to
// clusters and light clients.
//
// A member that restarted, or lost shares on the way, asks again: on each
// sync tick it rebroadcasts its shares for the newest blocks it has not
// certified, and a member that holds a certificate answers a share for it
// with the whole certificate.

// certTopic is the topic of the group's certificate shares. It is the
// group's, not one instance's, so the last blocks of a membership epoch
// are certified by its members after the next one started.
func (n *Group) certTopic() string {
	return "cert/" + interfaces.DomainSum("constellation/group-cert/v1", []byte(n.cfg.Genesis.Seed), []byte(n.cfg.Name)).String()
}

// certMsg is a share of, or the whole, certificate of one block.
type certMsg struct {
	Height uint64
	Hash   interfaces.Hash
	Member interfaces.StarID
	Whole  bool // Share holds the combined certificate
	Share  []byte
}

func (m *certMsg) encode() []byte {
	e := interfaces.NewEncoder(160 + len(m.Share))
	e.U8(1)
	e.U64(m.Height)
	e.Fixed(m.Hash[:])
	e.Fixed(m.Member[:])
	e.Bool(m.Whole)
	e.VarBytes(m.Share)
	return e.Bytes()
}

func decodeCertMsg(b []byte) (*certMsg, error) {
	d := interfaces.NewDecoder(b)
	m := &certMsg{}
	if v := d.U8(); d.Err() == nil && v != 1 {
		d.Fail(fmt.Errorf("certificate message version %d, want 1", v))
	}
	m.Height = d.U64()
	d.Fixed(m.Hash[:])
	d.Fixed(m.Member[:])
	m.Whole = d.Bool()
	m.Share = d.VarBytes(interfaces.MaxCertificate)
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("decode certificate message: %w", err)
	}
	return m, nil
}

// maxCertAhead bounds how far above the head shares are kept for later.
const maxCertAhead = 64

// certRetry is how many of the newest uncertified blocks a member asks
// about on each sync tick.
const certRetry = 8

// certState is the group's certification bookkeeping (Run's goroutine).
type certState struct {
	shares    map[uint64]map[interfaces.StarID][]byte // valid shares of uncertified blocks
	early     map[uint64][]*certMsg                   // shares of blocks not committed here yet
	certified uint64                                  // every block at or below is certified or skipped
	// floor is the lowest height that may still lack a certificate this
	// member can help make (askOldest); 0 until the first scan.
	floor uint64
	next  uint64 // where askOldest's turn goes on from (0: the floor)
}

// maxShareHeights bounds the uncertified heights whose shares are kept.
const maxShareHeights = 4 * maxCertAhead

// certScan bounds the blocks askOldest looks at on one sync tick.
const certScan = 4096

func newCertState() *certState {
	return &certState{shares: map[uint64]map[interfaces.StarID][]byte{}, early: map[uint64][]*certMsg{}}
}

// certifying reports whether this group certifies its blocks.
// A member that left with the last membership epoch still certifies that
// epoch's last blocks.
func (n *Group) certifying() bool {
	return n.cfg.Certify && n.cfg.Transport != nil && (!n.retired || len(n.ended) > 0)
}

// endedSigner is the signer of a membership epoch that ended.
type endedSigner struct {
	ts    interfaces.ThresholdSigner
	order int
}

// maxEnded bounds the ended membership epochs whose signers are kept: a
// block is certified within moments of its commit, so only the last few
// can still lack a certificate.
const maxEnded = 8

// keepSigner keeps the running engine's signer as the membership epoch
// ends, dropping the oldest kept beyond maxEnded.
func (n *Group) keepSigner(ts interfaces.ThresholdSigner) {
	if n.ended == nil {
		n.ended = map[interfaces.InstanceID]endedSigner{}
	}
	n.ended[n.instance] = endedSigner{ts: ts, order: n.cur}
	if len(n.ended) > maxEnded {
		var oldest interfaces.InstanceID
		first := true
		for id, e := range n.ended {
			if first || e.order < n.ended[oldest].order {
				oldest, first = id, false
			}
		}
		delete(n.ended, oldest)
	}
}

// restoreEndedSigners gives a member that restarted the signers of the
// membership epochs that ended last, as keepSigner gave them to it while
// it ran: the last blocks of one may be committed but not yet certified
// when the node stops, and a checkpoint without its certificate holds
// back every later one of the cluster (the galaxy takes them in order).
// Only epochs that ended within maxCertAhead epochs of the head can
// still lack a certificate anyone asks for.
func (n *Group) restoreEndedSigners() error {
	if !n.cfg.Certify || n.cfg.Transport == nil {
		return nil
	}
	for j := max(0, n.cur-maxEnded); j < n.cur; j++ {
		e := n.eras[j]
		if _, ok := n.ended[e.id]; ok || !e.sits(n.self) || e.last+maxCertAhead <= n.head.Epoch {
			continue
		}
		engine, err := n.cfg.Consensus.NewConsensus(interfaces.ConsensusConfig{
			Self:      n.self,
			Members:   e.members,
			Epoch:     e.last,
			LastEpoch: e.last,
			Keys:      e.keys,
			Seed:      n.seed,
			BatchSize: n.cfg.BatchSize,
			Params:    n.cfg.ConsensusParams,
		})
		if err != nil {
			return fmt.Errorf("the signer of membership epoch %s (epochs %d to %d): %w", e.id.Short(), e.start, e.last, err)
		}
		ts, ok := engine.(interfaces.ThresholdSigner)
		if !ok {
			return nil // an engine that cannot sign certifies nothing
		}
		if n.ended == nil {
			n.ended = map[interfaces.InstanceID]endedSigner{}
		}
		n.ended[e.id] = endedSigner{ts: ts, order: j}
	}
	return nil
}

// signerFor returns the signer of the membership epoch that decided
// epoch: the running engine's, or the one that ended last.
func (n *Group) signerFor(epoch uint64) (interfaces.ThresholdSigner, error) {
	id := n.eraOf(epoch).id
	switch {
	case id == n.instance && !n.retired:
		return n.signer()
	}
	if e, ok := n.ended[id]; ok {
		return e.ts, nil
	}
	return nil, fmt.Errorf("epoch %d belongs to a membership epoch this member holds no keys of", epoch)
}

// subscribeCerts registers the certificate topic's handler.
func (n *Group) subscribeCerts() error {
	if n.certCancel != nil {
		return nil // one subscription for the group's life
	}
	cancel, err := n.cfg.Transport.Subscribe(n.certTopic(), func(e interfaces.Envelope) {
		m, err := decodeCertMsg(e.Payload)
		if err != nil || (!m.Whole && m.Member != e.From) {
			return
		}
		select {
		case n.certInbox <- m:
		default:
		}
	})
	if err != nil {
		return fmt.Errorf("subscribe to certificates: %w", err)
	}
	n.certCancel = cancel
	return nil
}

// certifyCommitted signs this member's share of block b and broadcasts it.
func (n *Group) certifyCommitted(ctx context.Context, b *interfaces.Block) {
	if !n.certifying() {
		return
	}
	h := b.Header.Height
	if !n.eraOf(b.Header.Epoch).sits(n.self) {
		return // a follower, or a member retired before this epoch: no share of it
	}
	sh, err := n.CertificateShare(h)
	if err != nil {
		n.log.Warn("certificate share", "height", h, "error", err)
		return
	}
	m := &certMsg{Height: h, Hash: b.Hash(), Member: n.self, Share: sh.Share}
	n.takeShare(ctx, m, true)
	n.publishCert(ctx, m)
	for _, e := range n.cert.early[h] {
		n.takeShare(ctx, e, false)
	}
	delete(n.cert.early, h)
}

func (n *Group) publishCert(ctx context.Context, m *certMsg) {
	if err := n.cfg.Transport.Publish(ctx, n.certTopic(), m.encode()); err != nil {
		n.log.Debug("publish certificate share", "error", err)
	}
}

// takeShare handles a share (or a whole certificate) on Run's goroutine.
func (n *Group) takeShare(ctx context.Context, m *certMsg, own bool) {
	if !n.certifying() {
		return
	}
	head := n.head.Height
	if m.Height > head {
		if m.Height <= head+maxCertAhead && len(n.cert.early[m.Height]) < 2*len(n.cfg.Members) {
			n.cert.early[m.Height] = append(n.cert.early[m.Height], m)
		}
		return
	}
	have, err := n.store.Certificate(m.Height)
	if err != nil {
		return
	}
	if have != nil {
		if !m.Whole && !own {
			// It asks for a certificate this member has: answer with it.
			n.publishCert(ctx, &certMsg{Height: m.Height, Hash: m.Hash, Whole: true, Share: have})
		}
		return
	}
	b, err := n.store.Block(m.Height)
	if err != nil || b.Hash() != m.Hash {
		return
	}
	msg := CertificateMessage(n.certInstance(b.Header.Epoch), m.Hash)
	if m.Whole {
		if n.verifyCertificate(b.Header.Epoch, msg, m.Share) == nil {
			n.storeCertificate(b, m.Share)
		}
		return
	}
	ts, err := n.signerFor(b.Header.Epoch)
	if err != nil {
		return
	}
	e := n.eraOf(b.Header.Epoch)
	if !own && ts.VerifyShare(m.Member, msg, m.Share) != nil {
		return
	}
	got := n.cert.shares[m.Height]
	if got == nil {
		got = map[interfaces.StarID][]byte{}
		n.cert.shares[m.Height] = got
	}
	got[m.Member] = m.Share
	if len(got) < (len(e.members)-1)/3+1 {
		return
	}
	var list []interfaces.SignatureShare
	for s, sh := range got {
		list = append(list, interfaces.SignatureShare{Member: s, Share: sh})
	}
	slices.SortFunc(list, func(a, b interfaces.SignatureShare) int { return interfaces.CompareStars(a.Member, b.Member) })
	sig, err := ts.CombineShares(msg, list)
	if err != nil {
		return // more shares will come
	}
	n.storeCertificate(b, sig)
}

func (n *Group) storeCertificate(b *interfaces.Block, sig []byte) {
	h := b.Header.Height
	if err := n.store.PutCertificate(h, sig); err != nil {
		n.log.Warn("store certificate", "height", h, "error", err)
		return
	}
	delete(n.cert.shares, h)
	if len(n.cert.shares) > maxShareHeights {
		// Heights that never completed: keep the newest, so a member
		// cannot fill this with shares of every old block.
		hs := slices.Sorted(maps.Keys(n.cert.shares))
		for _, k := range hs[:len(hs)-maxShareHeights/2] {
			delete(n.cert.shares, k)
		}
	}
	if n.cfg.OnCertified != nil {
		n.cfg.OnCertified(b, sig)
	}
}

// askCertificates rebroadcasts this member's shares of the newest
// committed blocks it holds no certificate of.
func (n *Group) askCertificates(ctx context.Context) {
	if !n.certifying() || n.head.Height == 0 {
		return
	}
	asked := 0
	for h := n.head.Height; h >= 1 && h+maxCertAhead > n.head.Height && asked < certRetry; h-- {
		if h <= n.cert.certified {
			break
		}
		have, err := n.store.Certificate(h)
		if err != nil {
			return
		}
		if have != nil {
			continue
		}
		b, err := n.store.Block(h)
		if err != nil {
			return
		}
		if _, err := n.signerFor(b.Header.Epoch); err != nil {
			break // an older instance's block: its members moved on
		}
		sh, err := n.CertificateShare(h)
		if err != nil {
			return
		}
		n.publishCert(ctx, &certMsg{Height: h, Hash: b.Hash(), Member: n.self, Share: sh.Share})
		asked++
	}
	if asked == 0 {
		n.cert.certified = n.head.Height
	}
	n.askOldest(ctx)
}

// askOldest asks about the oldest committed blocks below
// askCertificates' window that this member holds no certificate of, from
// cert.floor up. Every share of a block can be lost (a member that started
// late, an inbox that overflowed under load), and a cluster block left
// without a certificate holds back every later checkpoint of the cluster,
// since the galaxy takes them in order. A member that has the certificate
// answers with it (takeShare), so a member that lacks one gets it this way
// too.
//
// While this member still holds the block's signer it asks with its
// share, which may complete the certificate where nobody has it yet.
// Once that signer is gone (maxEnded membership epochs later) it asks
// with an empty share, which only a holder of the certificate answers, and
// checks the answer with the group key (verifyCertificate). A block it can
// neither sign nor check is passed over.
//
// Each tick asks about the oldest certRetry/2 uncertified blocks and
// about certRetry/2 more in turn from cert.next, so blocks nobody can
// answer do not stop the asks about those above them.
func (n *Group) askOldest(ctx context.Context) {
	if n.cert.floor == 0 {
		n.cert.floor = 1
	}
	// The oldest first, since the galaxy takes checkpoints in order; then
	// the next ones in turn.
	top, scanned := n.askFrom(ctx, n.cert.floor, certRetry/2, certScan)
	n.cert.next = max(n.cert.next, top)
	n.cert.next, _ = n.askFrom(ctx, n.cert.next, certRetry/2, certScan-scanned)
	if n.cert.next+maxCertAhead > n.head.Height {
		n.cert.next = 0 // the top: from the oldest again
	}
}

// askFrom asks about up to asks uncertified blocks from height h up,
// below askCertificates' window, looking at no more than scan blocks. It
// returns the height after the last one it looked at and how many it
// looked at, and moves cert.floor past the blocks at the floor that need
// no asking.
func (n *Group) askFrom(ctx context.Context, h uint64, asks, scan int) (uint64, int) {
	asked, scanned := 0, 0
	for ; h+maxCertAhead <= n.head.Height && asked < asks && scanned < scan; h++ {
		scanned++
		have, err := n.store.Certificate(h)
		if err != nil {
			return h, scanned
		}
		if have == nil {
			b, err := n.store.Block(h)
			if err != nil {
				return h, scanned
			}
			m := &certMsg{Height: h, Hash: b.Hash(), Member: n.self}
			if _, err := n.signerFor(b.Header.Epoch); err == nil {
				sh, err := n.CertificateShare(h)
				if err != nil {
					return h, scanned
				}
				m.Share = sh.Share
				n.takeShare(ctx, m, true) // with the others' answers, it may complete here
				n.publishCert(ctx, m)
				asked++
				continue
			}
			if _, err := n.groupKeyOf(b.Header.Epoch); err == nil {
				n.publishCert(ctx, m)
				asked++
				continue
			}
			// Neither a key to sign with nor one to check the answer:
			// this member cannot help, and asks no more about it.
		}
		if h == n.cert.floor {
			n.cert.floor++
		}
	}
	return h, scanned
}

// groupKeyOf returns the public group key of the membership epoch that
// decided epoch, for checking a certificate without its signer: the first
// key where the group reshares it, else the key inside the epoch's key
// material. It fails for an engine without group keys (not an
// interfaces.GroupVerifier) or an epoch this member holds no keys of.
func (n *Group) groupKeyOf(epoch uint64) ([]byte, error) {
	gv, ok := n.cfg.Consensus.(interfaces.GroupVerifier)
	if !ok {
		return nil, fmt.Errorf("the consensus engine has no group keys to check a certificate with")
	}
	if r := n.cfg.Rotation; r != nil && r.Reshare && len(r.Key) > 0 {
		return r.Key, nil
	}
	e := n.eraOf(epoch)
	if len(e.keys) == 0 {
		return nil, fmt.Errorf("epoch %d belongs to a membership epoch this member holds no keys of", epoch)
	}
	return gv.GroupKey(e.keys)
}

// verifyCertificate checks a whole certificate of a block of epoch: with
// the epoch's signer while this member holds it, else with the group key.
func (n *Group) verifyCertificate(epoch uint64, msg, sig []byte) error {
	if ts, err := n.signerFor(epoch); err == nil {
		return ts.VerifyGroupSignature(msg, sig)
	}
	key, err := n.groupKeyOf(epoch)
	if err != nil {
		return err
	}
	return n.cfg.Consensus.(interfaces.GroupVerifier).VerifyGroupKey(key, msg, sig)
}

// Certificate returns the group's certificate of the block at height, nil
// when it has none (yet).
func (n *Group) Certificate(height uint64) ([]byte, error) { return n.store.Certificate(height) }

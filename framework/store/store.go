// Package store is the kernel's durable chain storage on bbolt. It keeps the
// HyloChain blocks of one chain (zstd-compressed canonical encodings), the
// indexes by block hash and transaction id, and the ledger state (balances
// and per-star chain heads) that the blocks produce. It sits below the
// ledger in the data flow: the node builds a block with a ledger.Builder
// reading this store as its ledger.View, then hands the block and its
// ledger.Changes to CommitBlock, which writes both in one bbolt transaction.
//
// Durability and atomicity come from bbolt: a read-write transaction is
// written copy-on-write and made visible by one meta-page write, fsynced on
// commit (unless Options.NoSync). A process killed at any point therefore
// reopens at its last committed block with state consistent with it; the
// crash test in this package checks that with SIGKILL.
package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/klauspost/compress/zstd"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/constellation-chain/constellation/framework/ledger"
	"github.com/constellation-chain/constellation/interfaces"
)

// FileName is the database file inside the data directory.
const FileName = "chain.db"

// formatVersion is the layout version written to the meta bucket. A store
// with another version is refused rather than misread.
const formatVersion = 1

// MaxBlockBytes bounds one block's uncompressed encoding (256 MiB): larger
// blocks are refused on commit, and the decompressor never allocates more
// for a stored (possibly corrupt) block.
const MaxBlockBytes = 256 << 20

// DefaultLockTimeout is how long Open waits for another process to release
// the data directory when Options.LockTimeout is zero.
const DefaultLockTimeout = time.Second

// Bucket names.
var (
	bucketMeta     = []byte("meta")     // fixed keys below
	bucketBlocks   = []byte("blocks")   // height (u64 BE) -> zstd(block.Encode())
	bucketHashes   = []byte("hashes")   // block hash -> height (u64 BE)
	bucketBalances = []byte("balances") // star -> balance (u64 BE)
	bucketHeads    = []byte("heads")    // star -> seq (u64 BE) || last tx id
	bucketTxs      = []byte("txs")      // tx id -> height (u64 BE)
	bucketCerts    = []byte("certs")    // height (u64 BE) -> the group's certificate of the block

	allBuckets = [][]byte{bucketMeta, bucketBlocks, bucketHashes, bucketBalances, bucketHeads, bucketTxs, bucketCerts}
)

// Keys in the meta bucket.
var (
	keyFormat      = []byte("format")       // u32 BE formatVersion
	keyGenesis     = []byte("genesis")      // ledger.Genesis.Encode()
	keyGenesisHash = []byte("genesis_hash") // interfaces.GenesisHash(seed)
	keyGenesisRoot = []byte("genesis_root") // genesis state root
	keyHeadHeight  = []byte("head_height")  // u64 BE
	keyHeadHash    = []byte("head_hash")    // hash of the head block (genesis hash at 0)
	keyHeadRoot    = []byte("head_root")    // state root after the head block
)

// ErrNotFound is returned (wrapped) for a block that is not stored.
var ErrNotFound = errors.New("not found")

// ErrNotInitialized is returned by operations that need a genesis before
// Init has been called on a new data directory.
var ErrNotInitialized = errors.New("store has no genesis yet (Init was not called)")

// Options tune Open.
type Options struct {
	// LockTimeout bounds how long Open waits for the data directory's file
	// lock; DefaultLockTimeout when zero. Another node process holding the
	// directory makes Open fail with a clear error after it.
	LockTimeout time.Duration
	// NoSync skips the fsync after each commit. A killed process still loses
	// nothing (the OS has the writes), but a machine crash or power loss
	// can lose or corrupt recent blocks. For benchmarks and throwaway
	// development networks only; false by default.
	NoSync bool
}

// Store is one chain's blocks and state in dir/chain.db. All methods are
// safe for concurrent use; CommitBlock calls are serialized. A ledger
// Builder reading the store as its View assumes no commit happens while it
// builds, which holds when one goroutine builds and commits, as the kernel
// does.
type Store struct {
	dir string
	db  *bolt.DB
	enc *zstd.Encoder
	dec *zstd.Decoder

	mu          sync.RWMutex // guards the fields below and serializes commits
	initialized bool
	genesisHash interfaces.Hash
	genesisRoot interfaces.Hash
	head        ledger.Parent
	closed      bool
}

// Open opens (creating if needed) the store in data directory dir. If
// another process holds the directory, Open fails after opts.LockTimeout
// with an error saying so. A new store must be given its genesis with Init
// before blocks are committed; an existing one is ready at its last
// committed block, though the caller should still call Init to check that
// the directory belongs to the network it expects.
func Open(dir string, opts Options) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open store: create data directory: %w", err)
	}
	timeout := opts.LockTimeout
	if timeout <= 0 {
		timeout = DefaultLockTimeout
	}
	path := filepath.Join(dir, FileName)
	db, err := openBolt(path, &bolt.Options{Timeout: timeout, NoSync: opts.NoSync})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open store: data directory %s is in use by another process (no lock on %s after %s)", dir, path, timeout)
	}
	if errors.Is(err, berrors.ErrInvalid) || errors.Is(err, berrors.ErrChecksum) || errors.Is(err, berrors.ErrVersionMismatch) {
		return nil, fmt.Errorf("open store %s: %w: the file is damaged (its meta pages do not check); %s", path, err, DamagedHint)
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &Store{dir: dir, db: db}
	if err := s.checkSize(path); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.setup(); err != nil {
		db.Close()
		if strings.Contains(err.Error(), DamagedHint) {
			return nil, fmt.Errorf("open store %s: %w", path, err)
		}
		return nil, fmt.Errorf("open store %s: %w; if the file was written by this version, it is damaged: %s", path, err, DamagedHint)
	}
	return s, nil
}

// openBolt opens the database, turning a panic or a memory fault inside
// bbolt (it reads the meta and freelist pages of a damaged file through
// its memory map) into ErrDamaged.
func openBolt(path string, o *bolt.Options) (db *bolt.DB, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			size := "unknown size"
			if st, serr := os.Stat(path); serr == nil {
				size = fmt.Sprintf("%d bytes", st.Size())
			}
			db, err = nil, fmt.Errorf("%w (%s; bbolt: %v); %s", ErrDamaged, size, r, DamagedHint)
		}
	}()
	return bolt.Open(path, 0o600, o)
}

// DiskFullHint ends the error of a commit that found the disk full.
const DiskFullHint = "free space on it and start the node again: it resumes at its last stored block and catches up from its peers"

// ErrDamaged reports a database file that bbolt cannot read.
var ErrDamaged = errors.New("the database file is damaged")

// DamagedHint ends every error about a damaged database file: what the
// operator does about it.
const DamagedHint = "to recover, restore the data directory from a backup, or resync the node from its peers " +
	"(docs/operators.md, \"Damaged storage\")"

// checkSize refuses a file shorter than its own meta page says it is (a
// copy cut short, a truncated disk image): every page past the end would
// be a fault in the memory map at the first read.
func (s *Store) checkSize(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("open store %s: %w", path, err)
	}
	var want int64
	if err := s.view(func(tx *bolt.Tx) error { want = tx.Size(); return nil }); err != nil {
		return err
	}
	if st.Size() < want {
		return fmt.Errorf("open store %s: the file is %d bytes, but its meta page says the database is %d bytes: "+
			"it was cut short (a partial copy or a full disk?); %s", path, st.Size(), want, DamagedHint)
	}
	return nil
}

func (s *Store) setup() error {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return fmt.Errorf("zstd encoder: %w", err)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(MaxBlockBytes))
	if err != nil {
		enc.Close()
		return fmt.Errorf("zstd decoder: %w", err)
	}
	s.enc, s.dec = enc, dec
	err = s.update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return s.loadMeta(tx)
	})
	if err != nil {
		enc.Close()
		dec.Close()
		return err
	}
	return nil
}

// loadMeta reads the format, genesis and head from the meta bucket into s.
// A store without a genesis is left uninitialized.
func (s *Store) loadMeta(tx *bolt.Tx) error {
	m := tx.Bucket(bucketMeta)
	if f := m.Get(keyFormat); f != nil {
		if len(f) != 4 || binary.BigEndian.Uint32(f) != formatVersion {
			return fmt.Errorf("store format %x is not supported (want version %d)", f, formatVersion)
		}
	}
	if m.Get(keyGenesisHash) == nil {
		return nil
	}
	var err error
	get := func(key []byte) (out interfaces.Hash) {
		v := m.Get(key)
		if err == nil && len(v) != interfaces.HashSize {
			err = fmt.Errorf("meta %s has %d bytes, want %d", key, len(v), interfaces.HashSize)
		}
		copy(out[:], v)
		return out
	}
	s.genesisHash = get(keyGenesisHash)
	s.genesisRoot = get(keyGenesisRoot)
	s.head.Hash = get(keyHeadHash)
	s.head.StateRoot = get(keyHeadRoot)
	hh := m.Get(keyHeadHeight)
	if err == nil && len(hh) != 8 {
		err = fmt.Errorf("meta %s has %d bytes, want 8", keyHeadHeight, len(hh))
	}
	if err != nil {
		return fmt.Errorf("read store metadata: %w", err)
	}
	s.head.Height = binary.BigEndian.Uint64(hh)
	s.initialized = true
	return nil
}

// Dir returns the data directory.
func (s *Store) Dir() string { return s.dir }

// Close closes the database. It is safe to call more than once; other
// methods fail after it.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	err := s.db.Close()
	s.enc.Close()
	s.dec.Close()
	if err != nil {
		return fmt.Errorf("close store %s: %w", s.dir, err)
	}
	return nil
}

// Init gives a new store its genesis state, or checks that an existing
// store was created with the same genesis. A store created from another
// genesis (a different seed, timestamp or allocations) is refused with an
// error saying the data directory belongs to another network.
func (s *Store) Init(g ledger.Genesis) error {
	ch, root, err := ledger.GenesisChanges(g)
	if err != nil {
		return fmt.Errorf("init store: %w", err)
	}
	gh := g.Hash()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("init store: %w", berrors.ErrDatabaseNotOpen)
	}
	if s.initialized {
		if s.genesisHash == gh && s.genesisRoot == root {
			return nil
		}
		stored, serr := s.Genesis()
		seed := "?"
		if serr == nil {
			seed = stored.Seed
		}
		if s.genesisHash == gh {
			return fmt.Errorf("init store: data directory %s belongs to another network: same seed %q but different genesis allocations or timestamp (genesis state %s, expected %s)",
				s.dir, g.Seed, s.genesisRoot.Short(), root.Short())
		}
		return fmt.Errorf("init store: data directory %s belongs to another network (seed %q, genesis %s), not to seed %q (genesis %s); use another data directory",
			s.dir, seed, s.genesisHash.Short(), g.Seed, gh.Short())
	}
	err = s.update(func(tx *bolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		puts := []struct{ k, v []byte }{
			{keyFormat, binary.BigEndian.AppendUint32(nil, formatVersion)},
			{keyGenesis, g.Encode()},
			{keyGenesisHash, gh[:]},
			{keyGenesisRoot, root[:]},
			{keyHeadHeight, u64(0)},
			{keyHeadHash, gh[:]},
			{keyHeadRoot, root[:]},
		}
		for _, p := range puts {
			if err := m.Put(p.k, p.v); err != nil {
				return fmt.Errorf("write meta %s: %w", p.k, err)
			}
		}
		bal := tx.Bucket(bucketBalances)
		for _, b := range ch.Balances {
			if err := bal.Put(b.Star[:], u64(b.Amount)); err != nil {
				return fmt.Errorf("write genesis balance of %s: %w", b.Star, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("init store: %w", err)
	}
	s.initialized = true
	s.genesisHash, s.genesisRoot = gh, root
	s.head = ledger.Parent{Height: 0, Hash: gh, StateRoot: root}
	return nil
}

// Genesis returns the genesis the store was initialized with.
func (s *Store) Genesis() (ledger.Genesis, error) {
	var g ledger.Genesis
	err := s.view(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bucketMeta).Get(keyGenesis)
		if raw == nil {
			return ErrNotInitialized
		}
		var err error
		g, err = ledger.DecodeGenesis(raw)
		return err
	})
	if err != nil {
		return ledger.Genesis{}, fmt.Errorf("read stored genesis: %w", err)
	}
	return g, nil
}

// Head returns the height, hash and state root of the last committed block
// (height 0, the genesis hash and the genesis state root before any block;
// all zero before Init).
func (s *Store) Head() (height uint64, hash, stateRoot interfaces.Hash) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.head.Height, s.head.Hash, s.head.StateRoot
}

// Parent returns the head as the ledger.Parent the next block builds on.
func (s *Store) Parent() ledger.Parent {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.head
}

// CommitBlock writes b, its hash and transaction indexes and its state
// changes ch in one bbolt read-write transaction, fsynced on commit: after
// a crash either all of it is there or none. b must be the next block
// (Height = head+1, Prev = head hash) and ch must be the Changes a
// ledger.Builder produced for it on this store's state (or that
// ledger.VerifyBlock returned); ledger.CheckCommit is applied, so a block
// whose header does not commit to its body or to ch is refused. CommitBlock
// does not re-run transaction validation: that is the Builder's job.
func (s *Store) CommitBlock(b *interfaces.Block, ch *ledger.Changes) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("commit block: %w", berrors.ErrDatabaseNotOpen)
	}
	if !s.initialized {
		return fmt.Errorf("commit block: %w", ErrNotInitialized)
	}
	if err := ledger.CheckCommit(s.head, b, ch); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	h := b.Header.Height
	raw := b.Encode()
	if len(raw) > MaxBlockBytes {
		return fmt.Errorf("commit block %d: encoding has %d bytes, limit %d", h, len(raw), MaxBlockBytes)
	}
	compressed := s.enc.EncodeAll(raw, make([]byte, 0, len(raw)/2+64))
	hash := b.Hash()
	height := u64(h)
	err := s.update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketBlocks).Put(height, compressed); err != nil {
			return fmt.Errorf("write block: %w", err)
		}
		hashes := tx.Bucket(bucketHashes)
		if old := hashes.Get(hash[:]); old != nil {
			return fmt.Errorf("block hash %s is already stored", hash.Short())
		}
		if err := hashes.Put(hash[:], height); err != nil {
			return fmt.Errorf("write block hash index: %w", err)
		}
		txs := tx.Bucket(bucketTxs)
		for i, id := range ch.TxIDs {
			if old := txs.Get(id[:]); old != nil {
				return fmt.Errorf("transaction %d (%s) is already committed", i, id.Short())
			}
			if err := txs.Put(id[:], height); err != nil {
				return fmt.Errorf("write transaction index: %w", err)
			}
		}
		bal := tx.Bucket(bucketBalances)
		for _, c := range ch.Balances {
			if err := bal.Put(c.Star[:], u64(c.Amount)); err != nil {
				return fmt.Errorf("write balance of %s: %w", c.Star.Short(), err)
			}
		}
		heads := tx.Bucket(bucketHeads)
		for _, c := range ch.Heads {
			if err := heads.Put(c.Star[:], encodeHead(c)); err != nil {
				return fmt.Errorf("write chain head of %s: %w", c.Star.Short(), err)
			}
		}
		m := tx.Bucket(bucketMeta)
		root := b.Header.StateRoot
		for _, p := range []struct{ k, v []byte }{{keyHeadHeight, height}, {keyHeadHash, hash[:]}, {keyHeadRoot, root[:]}} {
			if err := m.Put(p.k, p.v); err != nil {
				return fmt.Errorf("write meta %s: %w", p.k, err)
			}
		}
		return nil
	})
	if errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("%w: the disk holding %s is full, and block %d was not stored; %s", err, filepath.Join(s.dir, FileName), h, DiskFullHint)
	}
	if err != nil {
		return fmt.Errorf("commit block %d: %w", h, err)
	}
	s.head = ledger.Parent{Height: h, Hash: hash, StateRoot: b.Header.StateRoot}
	return nil
}

// PutCertificate stores the group's certificate (threshold signature) of
// the committed block at height. The caller verified it.
func (s *Store) PutCertificate(height uint64, cert []byte) error {
	if len(cert) == 0 || len(cert) > interfaces.MaxCertificate {
		return fmt.Errorf("store certificate of block %d: %d bytes", height, len(cert))
	}
	return s.update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketBlocks).Get(u64(height)) == nil {
			return fmt.Errorf("store certificate: no block %d", height)
		}
		return tx.Bucket(bucketCerts).Put(u64(height), cert)
	})
}

// Certificate returns the stored certificate of the block at height, or
// nil when there is none yet.
func (s *Store) Certificate(height uint64) ([]byte, error) {
	var out []byte
	err := s.view(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketCerts).Get(u64(height)); v != nil {
			out = append([]byte(nil), v...)
		}
		return nil
	})
	return out, err
}

// Balance implements ledger.View.
func (s *Store) Balance(star interfaces.StarID) (uint64, error) {
	var v uint64
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		v, err = readU64(tx.Bucket(bucketBalances).Get(star[:]))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("read balance of %s: %w", star.Short(), err)
	}
	return v, nil
}

// ChainHead implements ledger.View.
func (s *Store) ChainHead(star interfaces.StarID) (uint64, interfaces.Hash, error) {
	var h ledger.Head
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		h, err = decodeHead(star, tx.Bucket(bucketHeads).Get(star[:]))
		return err
	})
	if err != nil {
		return 0, interfaces.ZeroHash, fmt.Errorf("read chain head of %s: %w", star.Short(), err)
	}
	return h.Seq, h.Last, nil
}

// TxHeight implements ledger.View.
func (s *Store) TxHeight(id interfaces.Hash) (uint64, bool, error) {
	var (
		h  uint64
		ok bool
	)
	err := s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketTxs).Get(id[:])
		if v == nil {
			return nil
		}
		ok = true
		var err error
		h, err = readU64(v)
		return err
	})
	if err != nil {
		return 0, false, fmt.Errorf("read height of transaction %s: %w", id.Short(), err)
	}
	return h, ok, nil
}

// Block returns the block at height. A missing block gives an error
// matching ErrNotFound; stored bytes that do not decompress, decode, commit
// to their body or carry the right height give an error naming the height.
func (s *Store) Block(height uint64) (*interfaces.Block, error) {
	var b *interfaces.Block
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		b, err = s.readBlock(tx, height)
		return err
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// BlockByHash returns the block with header hash h.
func (s *Store) BlockByHash(h interfaces.Hash) (*interfaces.Block, error) {
	var b *interfaces.Block
	err := s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketHashes).Get(h[:])
		if v == nil {
			return fmt.Errorf("block %s: %w", h.Short(), ErrNotFound)
		}
		height, err := readU64(v)
		if err != nil {
			return fmt.Errorf("block %s: hash index: %w", h.Short(), err)
		}
		if b, err = s.readBlock(tx, height); err != nil {
			return err
		}
		if b.Hash() != h {
			return fmt.Errorf("block %d: hash index names it for %s but its hash is %s", height, h.Short(), b.Hash().Short())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// blocksPerRead is how many compressed blocks Blocks copies out of one read
// transaction before decoding them and calling back with no transaction open.
const blocksPerRead = 64

// Blocks calls fn for each block from height from to height to inclusive,
// in order, stopping at the first error (from fn or from reading). Every
// height in the range must be stored. No bbolt transaction is open while fn
// runs, so fn may call any Store method, including CommitBlock.
func (s *Store) Blocks(from, to uint64, fn func(*interfaces.Block) error) error {
	if from > to {
		return nil
	}
	for next := from; ; {
		end := to
		if to-next >= blocksPerRead {
			end = next + blocksPerRead - 1
		}
		batch := make([][]byte, 0, end-next+1)
		err := s.view(func(tx *bolt.Tx) error {
			bk := tx.Bucket(bucketBlocks)
			for h := next; ; h++ {
				v := bk.Get(u64(h))
				if v == nil {
					return fmt.Errorf("block %d: %w", h, ErrNotFound)
				}
				batch = append(batch, append([]byte(nil), v...))
				if h == end {
					return nil
				}
			}
		})
		if err != nil {
			return err
		}
		for i, raw := range batch {
			b, err := s.decodeBlock(next+uint64(i), raw)
			if err != nil {
				return err
			}
			if err := fn(b); err != nil {
				return err
			}
		}
		if end == to {
			return nil
		}
		next = end + 1
	}
}

func (s *Store) readBlock(tx *bolt.Tx, height uint64) (*interfaces.Block, error) {
	v := tx.Bucket(bucketBlocks).Get(u64(height))
	if v == nil {
		return nil, fmt.Errorf("block %d: %w", height, ErrNotFound)
	}
	return s.decodeBlock(height, v)
}

// decodeBlock decompresses and decodes the stored bytes of block height and
// checks that the block is the one stored under that height.
func (s *Store) decodeBlock(height uint64, compressed []byte) (*interfaces.Block, error) {
	raw, err := s.dec.DecodeAll(compressed, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: block %d: stored bytes do not decompress (%w): the file is damaged; %s", filepath.Join(s.dir, FileName), height, err, DamagedHint)
	}
	b, err := interfaces.DecodeBlock(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: block %d: stored bytes do not decode (%w): the file is damaged; %s", filepath.Join(s.dir, FileName), height, err, DamagedHint)
	}
	if b.Header.Height != height {
		return nil, fmt.Errorf("%s: block %d: stored block says height %d: the file is damaged; %s", filepath.Join(s.dir, FileName), height, b.Header.Height, DamagedHint)
	}
	return b, nil
}

// view runs fn in a read transaction. A panic inside bbolt (which it raises
// on some kinds of file corruption) becomes an error instead of taking the
// node down.
//
// Reads go through a memory map, so a damaged page reference can point
// outside the file; SetPanicOnFault turns that fault (which would
// otherwise end the process with a stack trace) into a panic recovered
// here. bbolt rolls the transaction back on the way out.
func (s *Store) view(fn func(*bolt.Tx) error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("read %s: database panicked, the file may be corrupt: %v; %s", filepath.Join(s.dir, FileName), r, DamagedHint)
		}
	}()
	return s.db.View(fn)
}

// update runs fn in a read-write transaction, committed (and fsynced) when
// fn returns nil and rolled back otherwise, turning bbolt panics into
// errors like view.
func (s *Store) update(fn func(*bolt.Tx) error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("write %s: database panicked, the file may be corrupt: %v; %s", filepath.Join(s.dir, FileName), r, DamagedHint)
		}
	}()
	return s.db.Update(fn)
}

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), v) }

// readU64 decodes a stored u64; a missing value reads as 0.
func readU64(v []byte) (uint64, error) {
	if v == nil {
		return 0, nil
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("stored value has %d bytes, want 8 (corrupt store?)", len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

const headSize = 8 + interfaces.HashSize

func encodeHead(h ledger.Head) []byte {
	out := make([]byte, 0, headSize)
	out = binary.BigEndian.AppendUint64(out, h.Seq)
	return append(out, h.Last[:]...)
}

// decodeHead decodes a stored chain head; a missing value is the zero head.
func decodeHead(star interfaces.StarID, v []byte) (ledger.Head, error) {
	h := ledger.Head{Star: star}
	if v == nil {
		return h, nil
	}
	if len(v) != headSize {
		return h, fmt.Errorf("stored chain head has %d bytes, want %d (corrupt store?)", len(v), headSize)
	}
	h.Seq = binary.BigEndian.Uint64(v)
	copy(h.Last[:], v[8:])
	return h, nil
}

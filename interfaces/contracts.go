package interfaces

import (
	"context"
)

// Contracts follow Fabric's endorsement model on the trust chain: execute,
// co-sign, order, validate. A deploy (TxDeploy, DeployPayload) notarizes a
// contract's code hash, typed interface, hosts and endorsement threshold.
// A caller asks the hosts to execute a call against the state at a stated
// height; each host co-signs the result (output, writes, read versions,
// events: CallResult); the caller submits the call with the co-signatures
// (TxCall, CallPayload); consensus orders it; the ledger applies its writes
// only if the co-signatures meet the threshold and every read version is
// still current. Nothing a contract computes depends on a clock: CPU and
// memory bounds are host configuration, and a call past its bound is an
// error that is never co-signed.

// ContractState is the read view of one contract's state at one height,
// in the contract's own keys (no namespace prefix). Version is the height
// of the block that last wrote the key; 0 when the key was never written
// (or a read that found nothing).
type ContractState interface {
	Get(key []byte) (value []byte, version uint64, ok bool, err error)
}

// KV is one state write; a nil Value deletes the key.
type KV struct {
	Key, Value []byte
}

// ReadVersion is one key a call read and the version it saw.
type ReadVersion struct {
	Key     []byte
	Version uint64
}

// Event is a log entry a contract emits.
type Event struct {
	Topic string
	Data  []byte
}

// InvokeRequest asks a contract to run one method. Every field is a
// function of the call and the chain at Height, so every host computes the
// same result.
type InvokeRequest struct {
	Contract  StarID // the contract's star (ContractStar of its deploy)
	CodeHash  Hash   // the bundle's content hash, as notarized
	Namespace []byte // where its state lives (ContractNamespace(Contract))
	Method    string
	Caller    StarID
	Input     []byte
	Amount    uint64 // noOs the call moves from the caller to the contract's account
	Height    uint64 // the state height the call executes against
	Timestamp int64  // the timestamp of the block at Height (unix ms)
	Beacon    Hash   // the hash of the block at Height
	State     ContractState
}

// InvokeResult is a contract's answer: a deterministic function of the
// request and the state read. Reads are recorded by the host that served
// the state, never reported by the contract.
type InvokeResult struct {
	Output []byte
	Writes []KV          // contract keys, sorted, unique
	Reads  []ReadVersion // contract keys, sorted, unique
	Events []Event
}

// ContractRuntime starts deployed contracts, each its own process speaking
// the contract RPC, and runs calls on them. It is the host side of
// contract execution; the ledger never calls it (a block only carries
// co-signed results).
//
// Deploy checks the bundle against the notarized code hash before it
// starts anything, and checks the running contract's self-description
// against the notarized interface; a mismatch is an error and nothing
// runs. Invoke may be called concurrently. An error from Invoke (a
// contract-level failure, a crash, a call past the host's bound) means
// there is no result to co-sign.
type ContractRuntime interface {
	Deploy(ctx context.Context, d Deployment) error
	Invoke(ctx context.Context, req InvokeRequest) (InvokeResult, error)
	Close() error
}

// Deployment is what a host needs to start one contract.
type Deployment struct {
	Contract StarID
	Deploy   DeployPayload
	// Bundle is the code: the payload's own bundle when the deploy carried
	// it, otherwise the bytes the host found in its local contracts
	// directory. Its hash must equal Deploy.CodeHash.
	Bundle []byte
}

// ContractsFactory builds contract runtimes.
type ContractsFactory interface {
	Plugin
	NewRuntime(params []byte) (ContractRuntime, error)
}

// ContractChain is the committed chain a host executes calls against.
type ContractChain interface {
	// Block returns the hash and timestamp of the block at height.
	Block(height uint64) (hash Hash, timestamp int64, err error)
	// Value returns contract state (a full key, ContractKey) as of
	// height: its value, its version and whether it has one. It fails when
	// the key was written after height (the host cannot see that far back)
	// or height is not committed here yet.
	Value(height uint64, key []byte) (value []byte, version uint64, ok bool, err error)
}

// ContractHost is a ContractRuntime that executes calls against a chain,
// giving results in the chain's form (full keys), ready to be co-signed.
type ContractHost interface {
	ContractRuntime
	Execute(ctx context.Context, chain ContractChain, call Call) (CallResult, error)
}

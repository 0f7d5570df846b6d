package interfaces

import (
	"context"
	"time"
)

// StateReader is a read view of contract state at one height.
type StateReader interface {
	Get(key []byte) (value []byte, ok bool, err error)
}

// KV is one state write; a nil Value deletes the key.
type KV struct {
	Key, Value []byte
}

// Event is a log entry a contract emits.
type Event struct {
	Topic string
	Data  []byte
}

// Limits bound one invocation.
type Limits struct {
	Timeout     time.Duration
	MemoryBytes uint64
}

// InvokeRequest asks a contract to run one method.
type InvokeRequest struct {
	Contract Hash // the code hash returned by Deploy
	Method   string
	Caller   StarID
	Input    []byte
	State    StateReader
	Limits   Limits
}

// InvokeResult is a contract's answer. It must be a deterministic function
// of the request and the state read.
type InvokeResult struct {
	Output []byte
	Writes []KV
	Events []Event
}

// ContractRuntime deploys and runs contracts, each its own process speaking
// the plugin RPC. Deploy returns the code's content hash, which is notarized
// on chain and checked again before the contract is started.
type ContractRuntime interface {
	Deploy(ctx context.Context, code []byte) (Hash, error)
	Invoke(ctx context.Context, req InvokeRequest) (InvokeResult, error)
	Close() error
}

// ContractsFactory builds contract runtimes.
type ContractsFactory interface {
	Plugin
	NewRuntime(params []byte) (ContractRuntime, error)
}

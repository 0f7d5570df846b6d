package api

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"

	"github.com/constellation-chain/constellation/framework/pool"
	"github.com/constellation-chain/constellation/interfaces"
)

// Bounds of POST /v1/txs. A batch holds at most MaxBatch transactions and
// its body at most MaxBatchBody bytes; over either bound the whole request
// is refused with 413 and nothing is submitted.
const (
	MaxBatch     = 1024
	MaxBatchBody = 8 << 20
)

// BatchSubmitter is implemented by a Backend that takes a whole batch at
// once (one signature batch verification, one gossip message). errs[i] is
// what Submit(txs[i]) would have returned, and the transactions are
// submitted in the order given, so a sender's consecutive transactions in
// one batch are admitted as if submitted one after another. A Backend
// without it gets the batch's transactions one by one through Submit.
// Safe for concurrent use.
type BatchSubmitter interface {
	SubmitBatch(txs []*interfaces.Transaction) (errs []error)
}

// SubmitBatchRequest is the body of POST /v1/txs: each transaction's
// canonical encoding in hex, as POST /v1/tx takes one.
type SubmitBatchRequest struct {
	Txs []string `json:"txs"`
}

// SubmitBatchResponse answers a POST /v1/txs whose body was well formed
// (200): one result per transaction, in the request's order.
type SubmitBatchResponse struct {
	// Accepted counts the results with status 202.
	Accepted int           `json:"accepted"`
	Results  []BatchResult `json:"results"`
}

// BatchResult is one transaction's outcome in a batch. Status is the
// HTTP status POST /v1/tx would have answered for it alone (202 accepted;
// 400 not decodable; 409 duplicate; 422 refused; 503 pool full, worth
// retrying later), and Error its error text. ID is set whenever the entry
// decoded into a transaction, accepted or not.
type BatchResult struct {
	ID     string `json:"id,omitempty"`
	Status int    `json:"status"`
	Error  string `json:"error,omitempty"`
}

// OK reports whether the node accepted the transaction.
func (r BatchResult) OK() bool { return r.Status == http.StatusAccepted }

// DecodeSubmitBatch decodes a POST /v1/txs body. An error is about the
// body as a whole (not JSON, an unknown field, bytes after the object, no
// transactions, more than MaxBatch): nothing in it is to be submitted.
// Otherwise txs and errs have one entry per listed transaction, exactly
// one of txs[i] and errs[i] set: an entry that is not hex or not a
// canonical transaction is that entry's error, which names its index.
func DecodeSubmitBatch(body []byte) (txs []*interfaces.Transaction, errs []error, err error) {
	var req SubmitBatchRequest
	if err := decodeStrict(body, `{"txs": ["<hex>", ...]}`, &req); err != nil {
		return nil, nil, err
	}
	switch n := len(req.Txs); {
	case n == 0:
		return nil, nil, fieldErr("txs", "txs: the list is empty (or missing); a batch holds 1 to 1024 transactions")
	case n > MaxBatch:
		return nil, nil, &batchTooLarge{n: n}
	}
	txs = make([]*interfaces.Transaction, len(req.Txs))
	errs = make([]error, len(req.Txs))
	for i, h := range req.Txs {
		raw, err := hex.DecodeString(h)
		if err != nil {
			errs[i] = fmt.Errorf("txs[%d]: tx is not hex: %w", i, err)
			continue
		}
		tx, err := interfaces.DecodeTransaction(raw)
		if err != nil {
			errs[i] = fmt.Errorf("txs[%d]: %w", i, err)
			continue
		}
		txs[i] = tx
	}
	return txs, errs, nil
}

// batchTooLarge is a batch over MaxBatch: 413, as a body over the byte
// bound is.
type batchTooLarge struct{ n int }

func (e *batchTooLarge) Error() string {
	return fmt.Sprintf("txs: %d transactions; a batch holds at most %d", e.n, MaxBatch)
}

// submitStatus is the HTTP status of a Submit error, the same for
// POST /v1/tx and each result of POST /v1/txs.
func submitStatus(err error) int {
	switch {
	case err == nil:
		return http.StatusAccepted
	case errors.Is(err, pool.ErrFull):
		return http.StatusServiceUnavailable
	case errors.Is(err, pool.ErrDuplicate):
		return http.StatusConflict
	default:
		return http.StatusUnprocessableEntity
	}
}

func submitBatch(b Backend, w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, MaxBatchBody)
	if !ok {
		return
	}
	txs, decErrs, err := DecodeSubmitBatch(body)
	var tooMany *batchTooLarge
	switch {
	case errors.As(err, &tooMany):
		writeJSON(w, http.StatusRequestEntityTooLarge, ErrorBody{Error: err.Error(), Field: "txs"})
		return
	case err != nil:
		writeFieldError(w, http.StatusBadRequest, err)
		return
	}
	resp := SubmitBatchResponse{Results: make([]BatchResult, len(txs))}
	// The decodable transactions go to the backend together, in order.
	var valid []*interfaces.Transaction
	var at []int
	for i, tx := range txs {
		if decErrs[i] != nil {
			resp.Results[i] = BatchResult{Status: http.StatusBadRequest, Error: decErrs[i].Error()}
			continue
		}
		valid, at = append(valid, tx), append(at, i)
	}
	var subErrs []error
	if bs, ok := b.(BatchSubmitter); ok && len(valid) > 0 {
		subErrs = bs.SubmitBatch(valid)
		if len(subErrs) != len(valid) {
			writeError(w, http.StatusInternalServerError, "submit batch: the node answered %d results for %d transactions", len(subErrs), len(valid))
			return
		}
	} else {
		subErrs = make([]error, len(valid))
		for j, tx := range valid {
			subErrs[j] = b.Submit(tx)
		}
	}
	for j, tx := range valid {
		res := BatchResult{ID: tx.ID().String(), Status: submitStatus(subErrs[j])}
		if subErrs[j] != nil {
			res.Error = subErrs[j].Error()
		} else {
			resp.Accepted++
		}
		resp.Results[at[j]] = res
	}
	writeJSON(w, http.StatusOK, resp)
}

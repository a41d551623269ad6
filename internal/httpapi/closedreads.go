package httpapi

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/aiflow/aiflow/internal/blob"
	"github.com/aiflow/aiflow/internal/sfn"
)

// Bounds of the answers closedReads keeps.
const (
	// closedReadsBytes bounds the bytes of all the answers kept: when
	// they would pass it, the cache starts again empty.
	closedReadsBytes = 32 << 20
	// maxClosedRead is the largest answer kept.
	maxClosedRead = 256 << 10
)

// closedReads keeps the answers of GET /v1/executions/{id} for closed
// executions, encoded, so that reading one again costs the engine's
// DescribeExecution and no more: no query for its workflow version or
// its usage, no JSON encoding.
//
// An answer is kept for the execution as the engine describes it: its
// status, stop date and redrive count. A redrive reopens a closed
// execution and counts itself, so the answer read next is built anew
// (and its usage read again: the redriven steps may have called models).
// It also notes how many publishes the use cases had recorded
// (control.Service.Publishes) before its workflow version was read, since
// a publish may give a state machine version another workflow version;
// after one, the answer is built anew. Only the answers to a request
// without a query string whose output holds no reference to a large step
// result are kept: those are the same for every caller allowed to read
// them, while a reference's value may expire.
type closedReads struct {
	mu      sync.RWMutex
	answers map[string]closedRead
	bytes   int
}

// closedRead is one answer kept, and what it was built from.
type closedRead struct {
	status       sfn.ExecutionStatus
	stopDate     time.Time
	redriveCount int
	publishes    uint64
	body         []byte
}

// keepable reports whether the answer to r for e may be kept.
func keepable(r *http.Request, e sfn.Execution) bool {
	return e.Status.Closed() && r.URL.RawQuery == "" && !blob.MayHoldReference([]byte(e.Output))
}

// get returns the answer kept for e, built from the state it is in now.
func (c *closedReads) get(e sfn.Execution, publishes uint64) ([]byte, bool) {
	c.mu.RLock()
	a, ok := c.answers[e.ExecutionARN]
	c.mu.RUnlock()
	if !ok || a.status != e.Status || !a.stopDate.Equal(e.StopDate) || a.redriveCount != e.RedriveCount || a.publishes != publishes {
		return nil, false
	}
	return a.body, true
}

// put keeps the answer body for e, built with publishes noted before its
// workflow version was read.
func (c *closedReads) put(e sfn.Execution, publishes uint64, body []byte) {
	if len(body) > maxClosedRead {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.answers == nil || c.bytes+len(body) > closedReadsBytes {
		c.answers, c.bytes = make(map[string]closedRead), 0
	}
	if old, ok := c.answers[e.ExecutionARN]; ok {
		c.bytes -= len(old.body)
	}
	c.answers[e.ExecutionARN] = closedRead{status: e.Status, stopDate: e.StopDate, redriveCount: e.RedriveCount, publishes: publishes, body: body}
	c.bytes += len(body)
}

// encodeJSON is v as writeJSON writes it.
func encodeJSON(v any) ([]byte, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(body, '\n'), nil
}

// writeJSONBody writes a body encodeJSON made, as writeJSON does.
func writeJSONBody(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

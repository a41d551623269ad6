package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// computeHashByFields is computeHash as it was first written, each field
// written to the hash apart: the chain's hashes must not change.
func computeHashByFields(e *Entry) Hash {
	h := sha256.New()
	h.Write([]byte(hashDomain))
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(e.Seq))
	h.Write(n[:])
	h.Write(e.PrevHash[:])
	for _, f := range []string{
		e.Time.UTC().Format(timeLayout), e.Actor, e.Action, e.Resource, string(e.Outcome),
		e.RequestID, e.SourceIP, e.UserAgent, string(e.Details),
	} {
		binary.BigEndian.PutUint32(n[:4], uint32(len(f)))
		h.Write(n[:4])
		h.Write([]byte(f))
	}
	var out Hash
	h.Sum(out[:0])
	return out
}

// TestComputeHashIsByFields: the one-buffer encoding hashes the bytes the
// field-by-field one did, for short and long records, in and out of UTC.
func TestComputeHashIsByFields(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 2000)
	for i, e := range []Entry{
		{},
		{Seq: 1, Record: record(1)},
		{Seq: 1 << 40, PrevHash: Hash{1, 2, 3}, Record: Record{Time: time.Date(2026, 12, 6, 19, 9, 7, 123456000, time.FixedZone("x", 3600)),
			Actor: "user-1", Action: "executions:start", Resource: "POST /v1/workflows/reply/executions", Outcome: OutcomeSucceeded,
			RequestID: "req", SourceIP: "127.0.0.1", UserAgent: "aiflow-load", Details: json.RawMessage(`{"status":201}`)}},
		{Seq: 7, Record: Record{Actor: long, UserAgent: long, Details: json.RawMessage(`{"a":"` + long + `"}`)}},
		{Seq: 8, Record: Record{Time: time.Date(12026, 1, 2, 3, 4, 5, 6000, time.UTC), Actor: "é"}},
	} {
		require.Equal(t, computeHashByFields(&e), e.computeHash(), "entry %d", i)
	}
}

func FuzzComputeHashIsByFields(f *testing.F) {
	f.Add(int64(1), int64(1765048147123456), "user-1", "executions:start", "POST /x", "req", "127.0.0.1", "ua", []byte(`{"status":201}`))
	f.Fuzz(func(t *testing.T, seq, micros int64, actor, action, resource, requestID, sourceIP, userAgent string, details []byte) {
		e := Entry{Seq: seq, PrevHash: sha256.Sum256(details), Record: Record{
			Time: time.UnixMicro(micros), Actor: actor, Action: action, Resource: resource, Outcome: OutcomeFailed,
			RequestID: requestID, SourceIP: sourceIP, UserAgent: userAgent, Details: details,
		}}
		require.Equal(t, computeHashByFields(&e), e.computeHash())
	})
}

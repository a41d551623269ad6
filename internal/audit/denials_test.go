package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/auth"
	"github.com/aiflow/aiflow/internal/clock/clocktest"
)

type denialsBundle struct {
	*testBundle
	clock   *clocktest.Manual
	denials *Denials
	mu      sync.Mutex
	errs    []error
}

func setupDenials(t *testing.T, opts DenialsOptions) *denialsBundle {
	t.Helper()
	b := &denialsBundle{testBundle: setup(t), clock: clocktest.NewManual(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))}
	opts.NowFunc = b.clock.Now
	opts.ErrorFunc = func(_ context.Context, err error) {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.errs = append(b.errs, err)
	}
	b.denials = NewDenials(b.log, opts)
	t.Cleanup(func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		require.Empty(t, b.errs, "no append failed")
	})
	return b
}

func (b *denialsBundle) deny(from, subject string, status int, path string) {
	r := httptest.NewRequest(http.MethodPost, path, nil)
	r.RemoteAddr = from + ":40000"
	b.denials.Audit(context.Background(), auth.Denial{
		Principal: auth.Principal{Subject: subject}, Permission: auth.PermExecutionsStart,
		Status: status, Reason: fmt.Sprintf("reason %d", status), Request: r,
	})
}

type storedDenial struct {
	actor, action, source string
	details               map[string]any
}

func (b *denialsBundle) records(t *testing.T) []storedDenial {
	t.Helper()
	rows, err := b.pool.Query(context.Background(), `SELECT actor, action, source_ip, details::text FROM api.audit_log ORDER BY seq`)
	require.NoError(t, err)
	defer rows.Close()
	var out []storedDenial
	for rows.Next() {
		var s storedDenial
		var details string
		require.NoError(t, rows.Scan(&s.actor, &s.action, &s.source, &details))
		require.NoError(t, json.Unmarshal([]byte(details), &s.details))
		out = append(out, s)
	}
	require.NoError(t, rows.Err())
	return out
}

// counted is how many denials the records account for: one each, or the
// count of an aggregate.
func counted(recs []storedDenial) int {
	n := 0
	for _, r := range recs {
		if r.action == ActionDenials {
			n += int(r.details["count"].(float64))
		} else {
			n++
		}
	}
	return n
}

func TestDenialsFloodIsBounded(t *testing.T) {
	t.Parallel()
	b := setupDenials(t, DenialsOptions{Interval: time.Minute})
	const perInterval = 300
	for range 3 { // three intervals of a flood
		for i := range perInterval {
			status := http.StatusUnauthorized
			if i >= 20 {
				status = http.StatusTooManyRequests
			}
			b.deny("203.0.113.7", "", status, fmt.Sprintf("/v1/workflows/w%d/executions", i))
			b.clock.Advance(100 * time.Millisecond)
		}
		b.clock.Advance(time.Minute - perInterval*100*time.Millisecond)
	}
	recs := b.records(t)
	require.Len(t, recs, 5, "two records for each closed interval, the first of the last one; %+v", recs)
	require.Equal(t, 3*perInterval-(perInterval-1), counted(recs), "all but the last interval's count are written")

	require.NoError(t, b.denials.Flush(context.Background()))
	recs = b.records(t)
	require.Len(t, recs, 6)
	require.Equal(t, 3*perInterval, counted(recs), "every denial is accounted for")

	agg := recs[1]
	require.Equal(t, ActionDenials, agg.action)
	require.Equal(t, Anonymous, agg.actor)
	require.Equal(t, "203.0.113.7", agg.source)
	require.Equal(t, float64(perInterval-1), agg.details["count"])
	require.Equal(t, map[string]any{"401": float64(19), "429": float64(perInterval - 20)}, agg.details["statuses"])
	require.Equal(t, "2026-05-01T09:00:00Z", agg.details["from"])
	require.Equal(t, "2026-05-01T09:01:00Z", agg.details["to"])
	resources := agg.details["resources"].(map[string]any)
	require.Len(t, resources, maxDistinct+1, "ten resources by name, the rest counted together")
	require.Equal(t, float64(perInterval-1-maxDistinct), resources[otherKey])
	require.Equal(t, map[string]any{"executions:start": float64(perInterval - 1)}, agg.details["permissions"])
}

func TestDenialsCountEachSourceAndActorApart(t *testing.T) {
	t.Parallel()
	b := setupDenials(t, DenialsOptions{})
	for range 50 {
		b.deny("203.0.113.7", "", http.StatusUnauthorized, "/v1/workflows")
	}
	b.deny("198.51.100.1", "", http.StatusUnauthorized, "/v1/workflows")
	b.deny("198.51.100.1", "alice", http.StatusForbidden, "/v1/workflows")
	recs := b.records(t)
	require.Len(t, recs, 3, "each source's and actor's first denial is written at once")
	require.Equal(t, "203.0.113.7", recs[0].source)
	require.Equal(t, "198.51.100.1", recs[1].source)
	require.Equal(t, "alice", recs[2].actor)
	require.Equal(t, "executions:start", recs[2].action)

	b.clock.Advance(time.Minute)
	b.denials.FlushDue(context.Background())
	recs = b.records(t)
	require.Len(t, recs, 4, "the closed interval's count, without another denial")
	require.Equal(t, ActionDenials, recs[3].action)
	require.Equal(t, float64(49), recs[3].details["count"])
	b.denials.FlushDue(context.Background())
	require.Len(t, b.records(t), 4, "nothing twice")
	require.NoError(t, b.denials.Flush(context.Background()))
	require.Len(t, b.records(t), 4, "the intervals without a count write nothing")
}

func TestDenialsMemoryIsBounded(t *testing.T) {
	t.Parallel()
	b := setupDenials(t, DenialsOptions{MaxSources: 2})
	b.deny("192.0.2.1", "", http.StatusUnauthorized, "/v1/a")
	b.deny("192.0.2.1", "", http.StatusUnauthorized, "/v1/a")
	b.deny("192.0.2.2", "", http.StatusUnauthorized, "/v1/a")
	b.deny("192.0.2.3", "", http.StatusUnauthorized, "/v1/a") // closes 192.0.2.1's interval early
	require.Equal(t, 2, b.denials.order.Len())
	recs := b.records(t)
	require.Len(t, recs, 4)
	require.Equal(t, ActionDenials, recs[2].action, "the evicted interval's count is written, not lost")
	require.Equal(t, "192.0.2.1", recs[2].source)
	require.Equal(t, 4, counted(recs))
}

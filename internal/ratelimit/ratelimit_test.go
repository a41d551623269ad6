package ratelimit

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/auth"
	"github.com/aiflow/aiflow/internal/clock/clocktest"
)

func setup(t *testing.T, opts Options) (*Limiter, *clocktest.Manual) {
	t.Helper()
	c := clocktest.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	opts.NowFunc = c.Now
	l, err := New(opts)
	require.NoError(t, err)
	return l, c
}

func TestAllowSpendsTheBurstThenRefills(t *testing.T) {
	t.Parallel()
	l, c := setup(t, Options{Rate: 2, Burst: 3})
	for i := range 3 {
		ok, wait := l.Allow("alice")
		require.True(t, ok, i)
		require.Zero(t, wait)
	}
	ok, wait := l.Allow("alice")
	require.False(t, ok)
	require.Equal(t, 500*time.Millisecond, wait, "one token at 2 per second")

	ok, _ = l.Allow("bob")
	require.True(t, ok, "each key has its own bucket")

	c.Advance(250 * time.Millisecond)
	ok, wait = l.Allow("alice")
	require.False(t, ok)
	require.Equal(t, 250*time.Millisecond, wait)

	c.Advance(250 * time.Millisecond)
	ok, _ = l.Allow("alice")
	require.True(t, ok)
	ok, _ = l.Allow("alice")
	require.False(t, ok, "refused requests take no token, and the refill gave only one")

	c.Advance(time.Hour)
	for range 3 {
		ok, _ = l.Allow("alice")
		require.True(t, ok)
	}
	ok, _ = l.Allow("alice")
	require.False(t, ok, "the bucket holds at most the burst")
}

func TestAllowIgnoresAClockGoingBack(t *testing.T) {
	t.Parallel()
	l, c := setup(t, Options{Rate: 1, Burst: 1})
	ok, _ := l.Allow("k")
	require.True(t, ok)
	c.Advance(-time.Minute)
	ok, wait := l.Allow("k")
	require.False(t, ok)
	require.Equal(t, time.Second, wait)
}

func TestIdleKeysAreForgotten(t *testing.T) {
	t.Parallel()
	l, c := setup(t, Options{Rate: 10, Burst: 20}) // a bucket fills in 2 s
	for i := range 100 {
		l.Allow(fmt.Sprintf("user-%d", i))
	}
	require.Equal(t, 100, l.Len())
	c.Advance(time.Second)
	l.Allow("user-0")
	require.Equal(t, 100, l.Len(), "not idle long enough")
	c.Advance(time.Second)
	l.Allow("late")
	require.Equal(t, 2, l.Len(), "only user-0 (seen a second ago) and late remain")
}

func TestMaxKeysBoundsMemory(t *testing.T) {
	t.Parallel()
	l, _ := setup(t, Options{Rate: 1, Burst: 1, MaxKeys: 3})
	for _, k := range []string{"a", "b", "c"} {
		ok, _ := l.Allow(k)
		require.True(t, ok)
	}
	ok, _ := l.Allow("a") // a is now the most recently seen, b the least
	require.False(t, ok)
	ok, _ = l.Allow("d")
	require.True(t, ok)
	require.Equal(t, 3, l.Len())
	ok, _ = l.Allow("a")
	require.False(t, ok, "a was kept")
	ok, _ = l.Allow("b")
	require.True(t, ok, "b was forgotten, so it starts with a full bucket")
}

func TestNewRejectsBadOptions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{Burst: 1}, "the rate 0 is not a positive"},
		{Options{Rate: -1, Burst: 1}, "the rate -1 is not a positive"},
		{Options{Rate: 1}, "the burst 0 is less than 1"},
		{Options{Rate: 1, Burst: 1, MaxKeys: -1}, "MaxKeys is negative"},
	} {
		_, err := New(tc.opts)
		require.ErrorContains(t, err, tc.want)
	}
}

func TestMiddlewareAnswers429WithRetryAfter(t *testing.T) {
	t.Parallel()
	l, c := setup(t, Options{Rate: 0.4, Burst: 1}) // a token every 2.5 s
	h := l.Middleware(nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	do := func(subject string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "/v1/executions", nil)
		r.RemoteAddr = "192.0.2.1:4000"
		if subject != "" {
			r = r.WithContext(auth.WithPrincipal(r.Context(), auth.Principal{Subject: subject}))
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	require.Equal(t, http.StatusNoContent, do("alice").Code)
	w := do("alice")
	require.Equal(t, http.StatusTooManyRequests, w.Code)
	require.Equal(t, "3", w.Header().Get("Retry-After"), "2.5 s rounds up")
	require.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
	var body map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
	require.Equal(t, map[string]any{
		"type": "about:blank", "title": "Too Many Requests", "status": float64(429), "instance": "/v1/executions",
		"detail": "the rate limit is 0.4 requests per second with bursts of 1; retry in 3 s",
	}, body)

	c.Advance(2400 * time.Millisecond)
	w = do("alice")
	require.Equal(t, http.StatusTooManyRequests, w.Code)
	require.Equal(t, "1", w.Header().Get("Retry-After"), "0.1 s is still at least 1")

	require.Equal(t, http.StatusNoContent, do("bob").Code, "another principal from the same address")
	require.Equal(t, http.StatusNoContent, do("").Code, "no principal: the address's bucket")
	require.Equal(t, http.StatusTooManyRequests, do("").Code)
}

func TestPrincipalKey(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "[2001:db8::1]:443"
	require.Equal(t, "ip:2001:db8::1", PrincipalKey(r))
	r.RemoteAddr = "203.0.113.9" // as the Lambda adapter sets it
	require.Equal(t, "ip:203.0.113.9", PrincipalKey(r))
	r = r.WithContext(auth.WithPrincipal(r.Context(), auth.Principal{Subject: "alice"}))
	require.Equal(t, "sub:alice", PrincipalKey(r))
}

func BenchmarkAllow(b *testing.B) {
	b.ReportAllocs()
	l, err := New(Options{Rate: 1e9, Burst: 1e9})
	if err != nil {
		b.Fatal(err)
	}
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprintf("sub:user-%d", i)
	}
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			l.Allow(keys[i%len(keys)])
			i++
		}
	})
}

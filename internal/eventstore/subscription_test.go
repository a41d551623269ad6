package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/eventstore"
)

// collector gathers what a subscription handler receives.
type collector struct {
	mu   sync.Mutex
	got  []eventstore.Event
	more chan struct{}
}

func newCollector() *collector { return &collector{more: make(chan struct{}, 1000)} }

func (c *collector) handle(_ context.Context, ev eventstore.Event) error {
	c.mu.Lock()
	c.got = append(c.got, ev)
	c.mu.Unlock()
	c.more <- struct{}{}
	return nil
}

func (c *collector) events() []eventstore.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]eventstore.Event(nil), c.got...)
}

// waitFor waits until the collector holds n events; the bound only keeps a
// broken test from hanging.
func (c *collector) waitFor(t *testing.T, n int) []eventstore.Event {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		if got := c.events(); len(got) >= n {
			return got
		}
		select {
		case <-c.more:
		case <-deadline:
			t.Fatalf("waited for %d events, have %d", n, len(c.events()))
		}
	}
}

func types(evs []eventstore.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Type
	}
	return out
}

func run(t *testing.T, sub *eventstore.Subscription) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sub.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			require.ErrorIs(t, <-done, context.Canceled)
		})
	}
	t.Cleanup(stop)
	return stop
}

func TestSubscriptionCatchesUpThenFollowsLive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, true, eventstore.Options{})
	id := stream(t)
	for i := range 5 {
		_, err := s.Append(ctx, id, eventstore.Any, ev(fmt.Sprintf("Old%d", i), `{}`))
		require.NoError(t, err)
	}
	c := newCollector()
	// A long poll interval: only NOTIFY can wake the live part in time.
	sub, err := s.Subscribe(eventstore.SubscriptionOptions{Name: "catch-up", Handler: c.handle, BatchSize: 2, PollInterval: time.Hour})
	require.NoError(t, err)
	stop := run(t, sub)
	require.Equal(t, []string{"Old0", "Old1", "Old2", "Old3", "Old4"}, types(c.waitFor(t, 5)))

	for i := range 3 {
		_, err := s.Append(ctx, id, eventstore.Any, ev(fmt.Sprintf("New%d", i), `{}`))
		require.NoError(t, err)
	}
	got := c.waitFor(t, 8)
	require.Equal(t, []string{"New0", "New1", "New2"}, types(got[5:]))
	waitCheckpoint(t, s, "catch-up", got[7])
	stop()

	st, err := s.SubscriptionState(ctx, "catch-up")
	require.NoError(t, err)
	require.Equal(t, int64(8), st.Handled)

	// A restart resumes after the checkpoint.
	_, err = s.Append(ctx, id, eventstore.Any, ev("AfterRestart", `{}`))
	require.NoError(t, err)
	c2 := newCollector()
	sub2, err := s.Subscribe(eventstore.SubscriptionOptions{Name: "catch-up", Handler: c2.handle})
	require.NoError(t, err)
	run(t, sub2)
	require.Equal(t, []string{"AfterRestart"}, types(c2.waitFor(t, 1)))
}

// TestSubscriptionNeverSkipsAnOutOfOrderCommit: writer A takes a lower
// position, writer B a higher one, and B commits first. A reader going by
// position alone would move past A's event before it is visible and never
// see it; the subscription must deliver both.
func TestSubscriptionNeverSkipsAnOutOfOrderCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, true, eventstore.Options{})
	pool := s.Pool()

	c := newCollector()
	sub, err := s.Subscribe(eventstore.SubscriptionOptions{Name: "out-of-order", Handler: c.handle, PollInterval: 50 * time.Millisecond})
	require.NoError(t, err)
	run(t, sub)

	// Writer A: a slow transaction that has taken its position (and its
	// transaction id) but not committed. It writes the rows exactly as the
	// store does, holding them open.
	txA, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer txA.Rollback(ctx) //nolint:errcheck // committed below
	var posA int64
	require.NoError(t, txA.QueryRow(ctx, `INSERT INTO eventstore.events (position, event_id, stream_id, version, type, schema_version, data, metadata, recorded_at)
		VALUES (nextval('eventstore.position_seq'), gen_random_uuid(), 'slow', 1, 'SlowWriter', 1, '{}', '{}', now()) RETURNING position`).Scan(&posA))

	// Writer B: a normal append, taking a higher position, committed first.
	resB, err := s.Append(ctx, "fast", eventstore.NoStream, ev("FastWriter", `{}`))
	require.NoError(t, err)
	posB := resB.Events[0].Position
	require.Greater(t, posB, posA)

	// B is committed and visible, yet not safe to deliver: A may still
	// commit below it.
	all, err := s.ReadAll(ctx, 0, 10)
	require.NoError(t, err)
	require.Equal(t, []string{"FastWriter"}, types(all), "a position-order reader sees B alone now (and would skip A later)")
	safe, err := s.ReadCommitted(ctx, eventstore.Checkpoint{}, 10)
	require.NoError(t, err)
	require.Empty(t, safe, "nothing is delivered while an older transaction is open")

	require.NoError(t, txA.Commit(ctx))
	got := c.waitFor(t, 2)
	require.Equal(t, []string{"SlowWriter", "FastWriter"}, types(got), "both delivered, in commit-safe order")

	// And many concurrent writers with random commit delays: nothing lost.
	const writers, each = 8, 25
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				tx, err := pool.Begin(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				_, err = tx.Exec(ctx, `INSERT INTO eventstore.events (position, event_id, stream_id, version, type, schema_version, data, metadata, recorded_at)
					VALUES (nextval('eventstore.position_seq'), gen_random_uuid(), $1, $2, 'Concurrent', 1, '{}', '{}', now())`, fmt.Sprintf("w%d", w), i+1)
				if err != nil {
					t.Error(err)
					_ = tx.Rollback(ctx)
					return
				}
				time.Sleep(time.Duration((w*7+i*13)%5) * time.Millisecond) // commits finish out of position order
				if err := tx.Commit(ctx); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	got = c.waitFor(t, 2+writers*each)
	seen := map[int64]bool{}
	for i, e := range got {
		if seen[e.Position] {
			for j, o := range got {
				if o.Position == e.Position || j == i-1 || j == i+1 {
					t.Logf("%d: tx=%d pos=%d %s %s v%d", j, o.TxID, o.Position, o.Type, o.StreamID, o.Version)
				}
			}
		}
		require.False(t, seen[e.Position], "position %d delivered twice", e.Position)
		seen[e.Position] = true
	}
	require.Len(t, seen, 2+writers*each, "every committed event delivered")
}

func TestSubscriptionRetriesAFailingHandler(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, true, eventstore.Options{})
	id := stream(t)
	for _, typ := range []string{"One", "Two", "Three"} {
		_, err := s.Append(ctx, id, eventstore.Any, ev(typ, `{}`))
		require.NoError(t, err)
	}
	var mu sync.Mutex
	var calls []string
	failures := 2
	c := newCollector()
	sub, err := s.Subscribe(eventstore.SubscriptionOptions{
		Name: "flaky", RetryDelay: time.Millisecond,
		Handler: func(ctx context.Context, e eventstore.Event) error {
			mu.Lock()
			calls = append(calls, e.Type)
			fail := e.Type == "Two" && failures > 0
			if fail {
				failures--
			}
			mu.Unlock()
			if fail {
				return errors.New("downstream unavailable")
			}
			return c.handle(ctx, e)
		},
	})
	require.NoError(t, err)
	run(t, sub)
	require.Equal(t, []string{"One", "Two", "Three"}, types(c.waitFor(t, 3)))
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []string{"One", "Two", "Two", "Two", "Three"}, calls, "the failing event is retried, never skipped")
}

// TestSubscriptionTakeover: two processes run one subscription; the holder
// dies mid-event (its connection is cut), the other takes over from the
// checkpoint, and the old holder never moves the checkpoint again.
func TestSubscriptionTakeover(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, true, eventstore.Options{})
	id := stream(t)
	for i := range 6 {
		_, err := s.Append(ctx, id, eventstore.Any, ev(fmt.Sprintf("E%d", i), `{}`))
		require.NoError(t, err)
	}

	blockA := make(chan struct{})
	inA := make(chan struct{}, 10)
	var muA sync.Mutex
	var gotA []string
	subA, err := s.Subscribe(eventstore.SubscriptionOptions{
		Name: "shared", BatchSize: 1, RetryDelay: 20 * time.Millisecond,
		Handler: func(ctx context.Context, e eventstore.Event) error {
			muA.Lock()
			gotA = append(gotA, e.Type)
			muA.Unlock()
			if e.Type == "E2" {
				inA <- struct{}{}
				<-blockA // "dies" here: the process hangs while its connection is cut
			}
			return nil
		},
	})
	require.NoError(t, err)
	run(t, subA)
	<-inA // A holds the subscription and is stuck in E2

	b := newCollector()
	subB, err := s.Subscribe(eventstore.SubscriptionOptions{Name: "shared", Handler: b.handle, BatchSize: 1})
	require.NoError(t, err)
	run(t, subB)

	// B waits while A holds the lock.
	var holders int
	require.NoError(t, s.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
		WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = $1`, eventstore.ApplicationName("shared")).Scan(&holders))
	require.Equal(t, 1, holders)
	require.Empty(t, b.events())

	// A's connection dies (as when its host does): PostgreSQL ends the
	// session and releases the lock.
	_, err = s.Pool().Exec(ctx, `SELECT pg_terminate_backend(l.pid) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
		WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = $1`, eventstore.ApplicationName("shared"))
	require.NoError(t, err)

	got := b.waitFor(t, 4)
	require.Equal(t, []string{"E2", "E3", "E4", "E5"}, types(got), "B resumes at A's last checkpoint: E2 again (at-least-once), nothing skipped")

	close(blockA) // A wakes up; its checkpoint write fails and it goes back to waiting
	_, err = s.Append(ctx, id, eventstore.Any, ev("E6", `{}`))
	require.NoError(t, err)
	require.Equal(t, "E6", b.waitFor(t, 5)[4].Type, "B keeps the subscription")
	muA.Lock()
	require.Equal(t, []string{"E0", "E1", "E2"}, gotA, "A handled nothing after it lost the subscription")
	muA.Unlock()

	waitCheckpoint(t, s, "shared", b.events()[4])
}

// waitCheckpoint waits until the subscription's checkpoint is at e (it moves
// right after the handler returns).
func waitCheckpoint(t *testing.T, s *eventstore.Store, name string, e eventstore.Event) {
	t.Helper()
	want := eventstore.Checkpoint{TxID: e.TxID, Position: e.Position}
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := s.SubscriptionState(context.Background(), name)
		require.NoError(t, err)
		if st.Checkpoint == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("checkpoint of %s is %+v, want %+v", name, st.Checkpoint, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

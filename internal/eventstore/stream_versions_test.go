package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/eventstore"
)

// Concurrent writers to one stream, under each expectation: a stream's
// version is its last event's in eventstore.event_ids, whose unique index
// makes each version taken once, so these hold the guarantees of
// optimistic concurrency to account without a row per stream.

const (
	racers = 6 // writers at once
	rounds = 5 // appends each
)

// requireContiguous checks that the stream holds versions 1..n, each once,
// and returns its events.
func requireContiguous(t *testing.T, s *eventstore.Store, id string, n int) []eventstore.Event {
	t.Helper()
	evs, err := s.ReadStream(context.Background(), id, eventstore.ReadStreamOptions{})
	require.NoError(t, err)
	require.Len(t, evs, n)
	for i, e := range evs {
		require.Equal(t, int64(i+1), e.Version, "versions 1..%d, each once", n)
	}
	v, err := s.StreamVersion(context.Background(), id)
	require.NoError(t, err)
	require.Equal(t, int64(n), v)
	return evs
}

// race runs writers at once, each with its index, and waits for them.
func race(writers int, fn func(w int)) {
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() { fn(w) })
	}
	wg.Wait()
}

func TestConcurrentExactWritersTakeEachVersionOnce(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := openStore(t, false, eventstore.Options{})
	id := stream(t)

	var mu sync.Mutex
	conflicts := 0
	race(racers, func(w int) {
		for i := 0; i < rounds; {
			v, err := s.StreamVersion(ctx, id)
			if err != nil {
				t.Error(err)
				return
			}
			res, err := s.Append(ctx, id, eventstore.Exact(v), ev(fmt.Sprintf("W%d-%d", w, i), `{}`))
			var conflict *eventstore.ConflictError
			switch {
			case err == nil:
				if res.Version != v+1 || res.Events[0].Version != v+1 {
					t.Errorf("appended after %d at %d, event at %d", v, res.Version, res.Events[0].Version)
				}
				i++
			case errors.As(err, &conflict):
				// Another writer took v+1: the stream is past v.
				if conflict.StreamID != id || conflict.Expected != eventstore.Exact(v) || conflict.Actual <= v {
					t.Errorf("conflict %+v after expecting %d", conflict, v)
				}
				mu.Lock()
				conflicts++
				mu.Unlock()
			default:
				t.Errorf("appending after %d: %v", v, err)
				return
			}
		}
	})
	evs := requireContiguous(t, s, id, racers*rounds)
	seen := map[string]bool{}
	for _, e := range evs {
		require.False(t, seen[e.Type], "%s stored once", e.Type)
		seen[e.Type] = true
	}
	t.Logf("%d conflicts", conflicts)
}

func TestConcurrentNoStreamWritersOneWins(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, false, eventstore.Options{})
	for range rounds {
		id := stream(t)
		var mu sync.Mutex
		wins := 0
		race(racers, func(w int) {
			_, err := s.Append(ctx, id, eventstore.NoStream, ev(fmt.Sprintf("W%d-1", w), `{}`), ev(fmt.Sprintf("W%d-2", w), `{}`))
			var conflict *eventstore.ConflictError
			switch {
			case err == nil:
				mu.Lock()
				wins++
				mu.Unlock()
			case errors.As(err, &conflict):
				if conflict.Expected != eventstore.NoStream || conflict.Actual != 2 {
					t.Errorf("conflict %+v, not at the winner's version 2", conflict)
				}
			default:
				t.Errorf("appending to no stream: %v", err)
			}
		})
		require.Equal(t, 1, wins)
		evs := requireContiguous(t, s, id, 2)
		require.Equal(t, evs[0].Type[:len(evs[0].Type)-1], evs[1].Type[:len(evs[1].Type)-1], "both events of the one winner")
	}
}

func TestConcurrentAnyWritersAllAppend(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, false, eventstore.Options{})
	id := stream(t)
	race(racers, func(w int) {
		for i := range rounds {
			res, err := s.Append(ctx, id, eventstore.Any, ev(fmt.Sprintf("W%d-%d-a", w, i), `{}`), ev(fmt.Sprintf("W%d-%d-b", w, i), `{}`))
			if err != nil {
				t.Errorf("appending with any version: %v", err)
				return
			}
			if res.Events[1].Version != res.Events[0].Version+1 || res.Version != res.Events[1].Version {
				t.Errorf("versions %d, %d, stream at %d", res.Events[0].Version, res.Events[1].Version, res.Version)
			}
		}
	})
	evs := requireContiguous(t, s, id, racers*rounds*2)
	for i := 0; i < len(evs); i += 2 {
		require.Equal(t, evs[i].Type[:len(evs[i].Type)-1]+"b", evs[i+1].Type, "an append's events stay together")
	}
}

// Retries of one append (the same ids and content) racing each other,
// expecting Any: one writes, every other finds it stored and reports it.
func TestConcurrentRetriesOfAnAnyAppendLandOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, false, eventstore.Options{})
	id := stream(t)
	_, err := s.Append(ctx, id, eventstore.NoStream, ev("First", `{}`))
	require.NoError(t, err)
	evs := []eventstore.NewEvent{
		{ID: uuid.New(), Type: "Retried", Data: []byte(`{"n":1}`)},
		{ID: uuid.New(), Type: "Retried", Data: []byte(`{"n":2}`)},
	}
	results := make([]eventstore.AppendResult, racers)
	race(racers, func(w int) {
		res, err := s.Append(ctx, id, eventstore.Any, evs...)
		if err != nil {
			t.Errorf("retrying: %v", err)
		}
		results[w] = res
	})
	for _, r := range results {
		require.Equal(t, results[0].Events[0].Position, r.Events[0].Position)
		require.Equal(t, []int64{2, 3}, []int64{r.Events[0].Version, r.Events[1].Version})
	}
	requireContiguous(t, s, id, 3)
}

// Group commits of the same streams given in different orders, from
// writers at once, expecting Any (each takes its streams' locks) or exact
// versions (which take none): none deadlocks, and each stream's versions
// stay contiguous.
func TestConcurrentGroupCommitsAcrossStreams(t *testing.T) {
	t.Parallel()
	for _, exact := range []bool{false, true} {
		t.Run(fmt.Sprintf("exact=%t", exact), func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			s := openStore(t, false, eventstore.Options{})
			ids := []string{stream(t), stream(t), stream(t), stream(t)}
			race(racers, func(w int) {
				for i := 0; i < rounds; {
					reqs := make([]eventstore.AppendRequest, len(ids))
					for k := range ids {
						id := ids[(k+w)%len(ids)] // each writer its own order
						if w%2 == 1 {
							id = ids[len(ids)-1-(k+w)%len(ids)]
						}
						expected := eventstore.Any
						if exact {
							v, err := s.StreamVersion(ctx, id)
							if err != nil {
								t.Error(err)
								return
							}
							expected = eventstore.Exact(v)
						}
						reqs[k] = eventstore.AppendRequest{StreamID: id, Expected: expected, Events: []eventstore.NewEvent{ev(fmt.Sprintf("W%d-%d", w, i), `{}`)}}
					}
					_, err := s.AppendMany(ctx, reqs)
					switch {
					case err == nil:
						i++
					case exact && errors.Is(err, eventstore.ErrConflict):
						// a stream moved since it was read: read again
					default:
						t.Errorf("group commit: %v", err)
						return
					}
				}
			})
			var first []string
			for k, id := range ids {
				evs := requireContiguous(t, s, id, racers*rounds)
				var types []string
				for _, e := range evs {
					types = append(types, e.Type)
				}
				if k == 0 {
					first = types
				}
				require.ElementsMatch(t, first, types, "every group commit stored in every stream")
			}
		})
	}
}

package batchcall_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/batchcall"
)

// recorder is a Run that answers each request with its double and notes
// the batches; while gate is set, each batch waits for it.
type recorder struct {
	mu      sync.Mutex
	batches [][]int
	gate    chan struct{}
	started chan struct{}
}

func (r *recorder) run(ctx context.Context, reqs []int) []string {
	r.mu.Lock()
	r.batches = append(r.batches, append([]int(nil), reqs...))
	gate, started := r.gate, r.started
	r.mu.Unlock()
	if started != nil {
		started <- struct{}{}
	}
	if gate != nil {
		<-gate
	}
	out := make([]string, len(reqs))
	for i, q := range reqs {
		out[i] = fmt.Sprint(q * 2)
	}
	return out
}

func (r *recorder) made() map[int]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := map[int]int{}
	for _, b := range r.batches {
		for _, q := range b {
			n[q]++
		}
	}
	return n
}

// TestACallAloneIsABatchOfOne: with nothing under way, a call is made at
// once, alone.
func TestACallAloneIsABatchOfOne(t *testing.T) {
	t.Parallel()
	r := &recorder{}
	g := &batchcall.Group[int, string]{Run: r.run}
	for i := range 3 {
		got, err := g.Do(t.Context(), i)
		require.NoError(t, err)
		require.Equal(t, fmt.Sprint(i*2), got)
	}
	require.Equal(t, [][]int{{0}, {1}, {2}}, r.batches)
}

// TestCallsThatArriveTogetherAreOneBatch: calls made while a batch is
// under way are made in the next ones, at most Max at a time, each
// answered with its own result.
func TestCallsThatArriveTogetherAreOneBatch(t *testing.T) {
	t.Parallel()
	r := &recorder{gate: make(chan struct{}), started: make(chan struct{}, 100)}
	g := &batchcall.Group[int, string]{Run: r.run, Max: 10, Timeout: time.Minute}
	var wg sync.WaitGroup
	first := make(chan string, 1)
	wg.Go(func() {
		got, err := g.Do(t.Context(), 0)
		require.NoError(t, err)
		first <- got
	})
	<-r.started // the first batch is under way: the rest queue
	const n = 35
	got := make([]string, n+1)
	var queued atomic.Int32
	for i := 1; i <= n; i++ {
		wg.Go(func() {
			queued.Add(1)
			var err error
			got[i], err = g.Do(t.Context(), i)
			require.NoError(t, err)
		})
	}
	require.Eventually(t, func() bool { return queued.Load() == n }, time.Minute, time.Millisecond)
	time.Sleep(10 * time.Millisecond) // let them reach the queue; a late one is a batch later
	close(r.gate)
	wg.Wait()
	require.Equal(t, "0", <-first)
	for i := 1; i <= n; i++ {
		require.Equal(t, fmt.Sprint(i*2), got[i])
	}
	require.Less(t, len(r.batches), n+1, "batched")
	for _, b := range r.batches {
		require.LessOrEqual(t, len(b), 10)
	}
	for q, times := range r.made() {
		require.Equal(t, 1, times, "call %d made once", q)
	}
}

// TestAnAbandonedCall: a call whose caller gives up while it is queued is
// left out when LeaveAbandoned is set and made otherwise; either way the
// calls queued with it are made, even when the one that gave up had been
// handed their batch.
func TestAnAbandonedCall(t *testing.T) {
	t.Parallel()
	for _, leave := range []bool{true, false} {
		t.Run(fmt.Sprint("leave=", leave), func(t *testing.T) {
			t.Parallel()
			r := &recorder{gate: make(chan struct{}), started: make(chan struct{}, 100)}
			g := &batchcall.Group[int, string]{Run: r.run, LeaveAbandoned: leave}
			var wg sync.WaitGroup
			wg.Go(func() {
				_, err := g.Do(t.Context(), 0)
				require.NoError(t, err)
			})
			<-r.started
			// 1 queues first (the next batch is handed to it) and gives
			// up; 2 and 3 queue behind it and wait.
			ctx, cancel := context.WithCancel(t.Context())
			gaveUp := make(chan error, 1)
			wg.Go(func() {
				_, err := g.Do(ctx, 1)
				gaveUp <- err
			})
			require.Eventually(t, func() bool { return len(r.made()) == 1 && batchcall.QueuedCalls(g) == 1 }, time.Minute, time.Millisecond)
			got := make([]string, 4)
			for i := 2; i <= 3; i++ {
				wg.Go(func() {
					var err error
					got[i], err = g.Do(t.Context(), i)
					require.NoError(t, err)
				})
			}
			require.Eventually(t, func() bool { return batchcall.QueuedCalls(g) == 3 }, time.Minute, time.Millisecond)
			cancel()
			require.ErrorIs(t, <-gaveUp, context.Canceled)
			close(r.gate)
			wg.Wait()
			require.Equal(t, []string{"", "", "4", "6"}, got)
			made := r.made()
			require.Equal(t, 1, made[2])
			require.Equal(t, 1, made[3])
			if leave {
				require.Zero(t, made[1], "left out")
			} else {
				require.Equal(t, 1, made[1], "still made")
			}
		})
	}
}

// TestCallsWhoseCallersAllLeftAreStillMade: without LeaveAbandoned, the
// calls queued whose callers have all given up are made by the caller
// of the batch before them, and the group runs nothing after.
func TestCallsWhoseCallersAllLeftAreStillMade(t *testing.T) {
	t.Parallel()
	r := &recorder{gate: make(chan struct{}), started: make(chan struct{}, 100)}
	g := &batchcall.Group[int, string]{Run: r.run}
	done := make(chan error, 1)
	go func() {
		_, err := g.Do(t.Context(), 0)
		done <- err
	}()
	<-r.started
	ctx, cancel := context.WithCancel(t.Context())
	gaveUp := make(chan error, 2)
	for i := 1; i <= 2; i++ {
		go func() {
			_, err := g.Do(ctx, i)
			gaveUp <- err
		}()
	}
	require.Eventually(t, func() bool { return batchcall.QueuedCalls(g) == 2 }, time.Minute, time.Millisecond)
	cancel()
	require.ErrorIs(t, <-gaveUp, context.Canceled)
	require.ErrorIs(t, <-gaveUp, context.Canceled)
	close(r.gate)
	require.NoError(t, <-done)
	made := r.made()
	require.Equal(t, 1, made[1])
	require.Equal(t, 1, made[2])
	require.Zero(t, batchcall.QueuedCalls(g))
	// The group runs again from scratch: a call alone is a batch of one.
	got, err := g.Do(t.Context(), 7)
	require.NoError(t, err)
	require.Equal(t, "14", got)
}

package engine

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSpawnReusesParkedWorkers: functions spawned one after another run
// on one worker, parked between them; many at once start as many workers,
// of which maxParked stay parked; stopping ends every parked worker, and
// idle closes once they have.
func TestSpawnReusesParkedWorkers(t *testing.T) {
	t.Parallel()
	e := &Engine{life: newLifetime()}
	parkedAfter := func(n int) {
		t.Helper()
		require.Eventually(t, func() bool {
			e.life.mu.Lock()
			defer e.life.mu.Unlock()
			return len(e.life.parked) == n && e.life.n == 0
		}, 10*time.Second, time.Millisecond)
	}
	for range 5 {
		done := make(chan struct{})
		require.True(t, e.spawn(activity{what: "one at a time"}, func() { close(done) }))
		<-done
		parkedAfter(1)
	}
	e.life.mu.Lock()
	require.Equal(t, 1, e.life.workers)
	e.life.mu.Unlock()

	release := make(chan struct{})
	var started sync.WaitGroup
	const many = maxParked + 10
	started.Add(many)
	for range many {
		require.True(t, e.spawn(activity{what: "many at once"}, func() { started.Done(); <-release }))
	}
	started.Wait()
	e.life.mu.Lock()
	require.Equal(t, many, e.life.workers)
	require.Len(t, e.life.all, many)
	e.life.mu.Unlock()
	n, what := e.life.stillRunning()
	require.Equal(t, many, n)
	require.Equal(t, fmt.Sprintf("many at once (%d)", many), what)
	close(release)
	parkedAfter(maxParked)
	// The ones beyond maxParked end once they find no room to park, which
	// may be a moment after the others parked.
	require.Eventually(t, func() bool {
		e.life.mu.Lock()
		defer e.life.mu.Unlock()
		return e.life.workers == maxParked
	}, 10*time.Second, time.Millisecond, "the ones beyond maxParked ended")
	e.life.mu.Lock()
	require.Len(t, e.life.all, maxParked)
	for i, w := range e.life.all {
		require.Equal(t, i, w.at)
		require.False(t, w.busy)
	}
	e.life.mu.Unlock()

	e.life.stop()
	select {
	case <-e.life.idle:
	case <-time.After(10 * time.Second):
		t.Fatal("parked workers did not end at stop")
	}
	e.life.mu.Lock()
	require.Zero(t, e.life.workers)
	require.Empty(t, e.life.all)
	e.life.mu.Unlock()
	require.False(t, e.spawn(activity{what: "after stop"}, func() { t.Error("ran after stop") }))
}

// TestStopWaitsForARunningWorker: idle closes only once a function that
// ran when the lifetime stopped has returned and its worker ended.
func TestStopWaitsForARunningWorker(t *testing.T) {
	t.Parallel()
	e := &Engine{life: newLifetime()}
	release, started := make(chan struct{}), make(chan struct{})
	require.True(t, e.spawn(activity{what: "slow"}, func() { close(started); <-release }))
	<-started
	e.life.stop()
	select {
	case <-e.life.idle:
		t.Fatal("idle before the running function returned")
	case <-time.After(20 * time.Millisecond):
	}
	close(release)
	select {
	case <-e.life.idle:
	case <-time.After(10 * time.Second):
		t.Fatal("idle not closed after the function returned")
	}
}

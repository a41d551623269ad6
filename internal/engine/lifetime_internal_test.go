package engine

import (
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
	require.Equal(t, map[activity]int{{what: "many at once"}: many}, e.life.running)
	e.life.mu.Unlock()
	close(release)
	parkedAfter(maxParked)
	e.life.mu.Lock()
	require.Equal(t, maxParked, e.life.workers, "the ones beyond maxParked ended")
	e.life.mu.Unlock()

	e.life.stop()
	select {
	case <-e.life.idle:
	case <-time.After(10 * time.Second):
		t.Fatal("parked workers did not end at stop")
	}
	e.life.mu.Lock()
	require.Zero(t, e.life.workers)
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

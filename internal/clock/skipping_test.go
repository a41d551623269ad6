package clock_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/clock"
)

// busy is an Activity the test switches on and off.
type busy struct {
	on    atomic.Bool
	epoch atomic.Uint64
}

func (b *busy) Quiet() (bool, uint64) { return !b.on.Load(), b.epoch.Load() }

// TestSkippingJumpsToEachTimer: with nothing to wait for, the clock fires
// its timers at once, in the order they are due, each at its time. The
// timers are armed while an activity is busy, so that the clock cannot
// jump to the first before the others are armed.
func TestSkippingJumpsToEachTimer(t *testing.T) {
	t.Parallel()
	c := clock.NewSkipping()
	t.Cleanup(func() { require.NoError(t, c.Close()) })
	arming := &busy{}
	arming.on.Store(true)
	c.Watch(arming)
	start := c.Now()
	var mu sync.Mutex
	var fired []time.Duration
	done := make(chan struct{})
	for _, d := range []time.Duration{3 * time.Hour, time.Hour, 2 * time.Hour} {
		c.AfterFunc(d, func() {
			mu.Lock()
			defer mu.Unlock()
			fired = append(fired, c.Now().Sub(start).Round(time.Minute))
			if len(fired) == 3 {
				close(done)
			}
		})
	}
	stopped := c.AfterFunc(time.Hour+time.Minute, func() { t.Error("a stopped timer fired") })
	require.True(t, stopped())
	arming.on.Store(false)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the timers did not fire")
	}
	mu.Lock()
	require.Equal(t, []time.Duration{time.Hour, 2 * time.Hour, 3 * time.Hour}, fired)
	mu.Unlock()
	require.InDelta(t, float64(3*time.Hour), float64(c.Skipped()), float64(time.Minute))
	require.Len(t, c.Skips(), 3)
	require.InDelta(t, float64(time.Hour), float64(c.SkippedBetween(start.Add(90*time.Minute), start.Add(150*time.Minute))), float64(time.Minute),
		"the skipped part of a span counts what it overlaps")
}

// TestSkippingWaitsForActivity: while an activity is busy, time runs at
// its real pace; once it is quiet, the clock jumps.
func TestSkippingWaitsForActivity(t *testing.T) {
	t.Parallel()
	c := clock.NewSkipping()
	t.Cleanup(func() { require.NoError(t, c.Close()) })
	a := &busy{}
	a.on.Store(true)
	c.Watch(a)
	fired := make(chan struct{})
	c.AfterFunc(time.Hour, func() { close(fired) })
	// The clock looks at the activity every SkipPoll; twenty looks and it
	// still must not have moved.
	for range 20 {
		time.Sleep(clock.SkipPoll)
		require.Zero(t, c.Skipped(), "no jump while the activity is busy")
	}
	a.epoch.Add(1)
	a.on.Store(false)
	select {
	case <-fired:
	case <-time.After(10 * time.Second):
		t.Fatal("the timer did not fire once the activity was quiet")
	}
	require.InDelta(t, float64(time.Hour), float64(c.Skipped()), float64(time.Second))
}

// TestSkippingClosed: once closed, the clock stops jumping and its
// timers fire on the system's time. The pending timer is armed while an
// activity is busy, so that the clock cannot jump to it before Close.
func TestSkippingClosed(t *testing.T) {
	t.Parallel()
	c := clock.NewSkipping()
	arming := &busy{}
	arming.on.Store(true)
	c.Watch(arming)
	pending := c.AfterFunc(time.Hour, func() { t.Error("a pending timer fired an hour early") })
	require.NoError(t, c.Close())
	require.NoError(t, c.Close(), "a second Close does nothing")
	fired := make(chan struct{})
	c.AfterFunc(time.Millisecond, func() { close(fired) })
	select {
	case <-fired:
	case <-time.After(10 * time.Second):
		t.Fatal("a timer armed after Close did not fire")
	}
	require.True(t, pending(), "a pending timer can still be stopped")
	require.Zero(t, c.Skipped())
}

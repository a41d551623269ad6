package clock

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

// TestHeapLeavesNoTimerArmed: once no timer is pending, whether they fired
// or were stopped, the heap is empty and no timer of package time is
// armed; many stopped are swept out together.
func TestHeapLeavesNoTimerArmed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := NewHeap()
		idle := func() {
			t.Helper()
			h.mu.Lock()
			defer h.mu.Unlock()
			require.Empty(t, h.slots)
			require.Zero(t, h.stopped)
			require.Nil(t, h.timer)
		}
		stops := make([]func() bool, 500)
		for i := range stops {
			stops[i] = h.AfterFunc(time.Hour+time.Duration(i)*time.Second, func() {})
		}
		for i := range 300 {
			require.True(t, stops[i]())
		}
		h.mu.Lock()
		require.Equal(t, 200, len(h.slots)-h.stopped)
		require.Less(t, 2*h.stopped, len(h.slots), "the stopped swept out once they were half")
		h.mu.Unlock()
		for i := 300; i < 500; i++ {
			require.True(t, stops[i]())
		}
		idle()

		h.AfterFunc(time.Second, func() {})
		h.AfterFunc(2*time.Second, func() {})
		time.Sleep(3 * time.Second)
		synctest.Wait()
		idle()
	})
}

// TestHeapShrinksAfterABurst: once a burst of timers has fired, the heap
// does not keep the array that held them.
func TestHeapShrinksAfterABurst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := NewHeap()
		for i := range 5000 {
			h.AfterFunc(time.Duration(i+1)*time.Second, func() {})
		}
		for range 10 {
			h.AfterFunc(10*time.Hour, func() {})
		}
		h.mu.Lock()
		require.GreaterOrEqual(t, cap(h.slots), 5010)
		h.mu.Unlock()
		time.Sleep(2 * time.Hour)
		synctest.Wait()
		h.mu.Lock()
		defer h.mu.Unlock()
		require.Len(t, h.slots, 10)
		require.LessOrEqual(t, cap(h.slots), 1024)
	})
}

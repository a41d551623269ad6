package clock_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/clock"
	"github.com/aiflow/aiflow/internal/procstat"
)

// TestHeapFiresEachTimerOnceAtItsTime: timers armed in any order, some
// stopped before they fire and some stopped after, fire each once, at
// their time, and the stopped ones never; a timer armed earlier than all
// before it fires first.
func TestHeapFiresEachTimerOnceAtItsTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := clock.NewHeap()
		start := time.Now()
		r := rand.New(rand.NewPCG(1, 2))
		const n = 2000
		type armed struct {
			d     time.Duration
			stop  func() bool
			fired atomic.Int32
			at    atomic.Int64
		}
		timers := make([]*armed, n)
		for i := range timers {
			a := &armed{d: time.Duration(1+r.IntN(9_999)) * time.Millisecond}
			if i == n-1 {
				a.d = 0 // earlier than every timer before it
			}
			timers[i] = a
			a.stop = h.AfterFunc(a.d, func() {
				a.at.Store(int64(time.Since(start)))
				a.fired.Add(1)
			})
		}
		stopped := map[int]bool{}
		for i := 0; i < n; i += 3 {
			require.True(t, timers[i].stop(), "timer %d stops before it fires", i)
			require.False(t, timers[i].stop(), "timer %d stops once", i)
			stopped[i] = true
		}
		time.Sleep(5 * time.Second)
		synctest.Wait()
		for i, a := range timers {
			if !stopped[i] && a.d < 5*time.Second {
				require.False(t, a.stop(), "timer %d has fired: stop says so", i)
			}
		}
		time.Sleep(5 * time.Second)
		synctest.Wait()
		for i, a := range timers {
			if stopped[i] {
				require.Zero(t, a.fired.Load(), "stopped timer %d", i)
				continue
			}
			require.EqualValues(t, 1, a.fired.Load(), "timer %d fires once", i)
			require.Equal(t, a.d, time.Duration(a.at.Load()), "timer %d fires at its time", i)
		}
	})
}

// TestHeapTimerTooLongToAdd: a timer whose time would be past what the
// clock can count never fires (package time's rule), and stops.
func TestHeapTimerTooLongToAdd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := clock.NewHeap()
		var fired atomic.Bool
		stop := h.AfterFunc(math.MaxInt64, func() { fired.Store(true) })
		soon := make(chan struct{})
		h.AfterFunc(time.Hour, func() { close(soon) })
		time.Sleep(24 * time.Hour)
		synctest.Wait()
		<-soon
		require.False(t, fired.Load())
		require.True(t, stop())
	})
}

// TestHeapRunsDueTimersTogether: timers due at once run each in a
// goroutine of its own, so one that waits for another does not hold it.
func TestHeapRunsDueTimersTogether(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := clock.NewHeap()
		a, b := make(chan struct{}), make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(2)
		h.AfterFunc(time.Second, func() { defer wg.Done(); close(a); <-b })
		h.AfterFunc(time.Second, func() { defer wg.Done(); close(b); <-a })
		wg.Wait()
	})
}

// TestHeapStopsMostOfMany: stopping most of many pending timers (the heap
// swept) leaves the rest firing at their time, and a timer armed after
// it fires too.
func TestHeapStopsMostOfMany(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := clock.NewHeap()
		start := time.Now()
		var fired sync.Map
		stops := make([]func() bool, 1000)
		for i := range stops {
			d := time.Hour + time.Duration(i)*time.Second
			stops[i] = h.AfterFunc(d, func() { fired.Store(i, time.Since(start)) })
		}
		for i := range stops {
			if i%10 != 0 {
				require.True(t, stops[i]())
			}
		}
		h.AfterFunc(time.Minute, func() { fired.Store(-1, time.Since(start)) })
		time.Sleep(2 * time.Hour)
		synctest.Wait()
		var got []int
		fired.Range(func(k, v any) bool {
			i := k.(int)
			want := time.Minute
			if i >= 0 {
				want = time.Hour + time.Duration(i)*time.Second
			}
			require.Equal(t, want, v, "timer %d", i)
			got = append(got, i)
			return true
		})
		require.Len(t, got, 101)
	})
}

// BenchmarkTimersAmongPending is what many pending timers cost a process
// that resets a timer as network code does: pgx resets a connection's
// write timer (a time.AfterFunc) to 15 ms before each query and stops it
// after. With pending timers of package time each (clock=system), the
// runtime walks them all whenever a reset timer's time has come; with a
// Heap (clock=heap), one timer of package time is pending. Each operation
// resets an AfterFunc timer to a millisecond and stops it, and every
// hundredth sleeps two milliseconds, so that the reset timers' times come.
// It reports the process's CPU an operation. (A timer made by
// time.NewTimer that no goroutine waits on is not in the runtime's heap
// since Go 1.23, so resetting one costs nothing of the kind.)
func BenchmarkTimersAmongPending(b *testing.B) {
	for _, pending := range []int{0, 10_000, 100_000, 1_000_000} {
		for _, name := range []string{"system", "heap"} {
			b.Run(fmt.Sprintf("pending=%d/clock=%s", pending, name), func(b *testing.B) {
				var c clock.Clock = clock.System{}
				if name == "heap" {
					c = clock.NewHeap()
				}
				stops := make([]func() bool, pending)
				for i := range stops {
					stops[i] = c.AfterFunc(time.Hour+time.Duration(i)*time.Millisecond, func() {})
				}
				defer func() {
					for _, stop := range stops {
						stop()
					}
				}()
				t := time.AfterFunc(time.Hour, func() {})
				defer t.Stop()
				cpu := procstat.CPU()
				b.ResetTimer()
				for i := 0; b.Loop(); i++ {
					t.Reset(time.Millisecond)
					t.Stop()
					if i%100 == 0 {
						time.Sleep(2 * time.Millisecond)
					}
				}
				b.ReportMetric(float64(procstat.CPU()-cpu)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

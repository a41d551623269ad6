package clock

import (
	"math"
	"sync"
	"time"
)

// Heap is the system's clock with the timers armed through it kept in a
// heap of its own: of package time's timers, only one is armed, for the
// earliest of them. The engine and its queues use it when no clock is
// given them, where they keep a timer for every task's timeout, every
// execution's, every Wait state's and every message's visibility.
//
// Why not a timer of package time each: the Go runtime keeps its timers in
// a heap per processor, and whenever a timer in it has been reset to fire
// earlier and that time has come, it walks the whole heap
// (runtime.(*timers).adjust). Network code resets timers all the time
// (pgx resets one of each connection's around every query it writes), so
// a process that holds many long timers (thousands of executions waiting
// on an approval, each with its hour's timeout) pays for every one of them
// many times a second: BenchmarkTimersAmongPending measures it. Here,
// arming and stopping a timer is a push or a mark under a lock, whatever
// else is pending.
//
// A stopped timer stays in the heap, marked, until it comes to the top or
// until the marked ones are half the heap, when they are swept out
// together; once none is left pending the heap is emptied and the timer of
// package time stopped.
type Heap struct {
	base time.Time

	mu      sync.Mutex
	slots   []heapSlot
	stopped int // slots whose timer was stopped
	// timer is the timer of package time armed for the earliest slot (at
	// armed, since base), or nil; gen names it, so that a timer replaced
	// while it fires leaves the one after it alone.
	timer *time.Timer
	armed int64
	gen   uint64
}

var _ Clock = (*Heap)(nil)

// NewHeap returns a Heap.
func NewHeap() *Heap { return &Heap{base: time.Now()} }

// heapSlot is a timer in the heap, by the time it is due (since the
// Heap's base): kept beside the pointer, so ordering the heap reads no
// timer.
type heapSlot struct {
	due int64
	t   *heapTimer
}

// heapTimer is one AfterFunc.
type heapTimer struct {
	h     *Heap
	f     func()
	state timerState
}

type timerState uint8

const (
	timerPending timerState = iota
	timerStopped
	timerFired
)

// sweepAtLeast is the number of stopped timers below which the heap is
// not swept, however small it is.
const sweepAtLeast = 64

// Now returns time.Now().
func (*Heap) Now() time.Time { return time.Now() }

// AfterFunc calls f in its own goroutine once d has passed; stop cancels
// it and reports whether it did, as time.AfterFunc's timer's Stop does.
func (h *Heap) AfterFunc(d time.Duration, f func()) (stop func() bool) {
	t := &heapTimer{h: h, f: f}
	h.mu.Lock()
	now := h.since()
	due := now + int64(max(d, 0))
	if due < now {
		due = math.MaxInt64 // as package time's timers, d too long to add is never
	}
	h.push(heapSlot{due: due, t: t})
	if h.timer == nil || due < h.armed {
		h.arm(now)
	}
	h.mu.Unlock()
	return t.stop
}

// since is the time since the Heap's base, on the monotonic clock.
func (h *Heap) since() int64 { return int64(time.Since(h.base)) }

// stop marks t stopped if it is still pending.
func (t *heapTimer) stop() bool {
	h := t.h
	h.mu.Lock()
	defer h.mu.Unlock()
	if t.state != timerPending {
		return false
	}
	t.state, t.f = timerStopped, nil
	h.stopped++
	switch {
	case h.stopped == len(h.slots):
		h.empty()
	case h.stopped >= sweepAtLeast && 2*h.stopped > len(h.slots):
		h.sweep()
	}
	return true
}

// fire runs, on the timer of package time named gen, the timers that are
// due: the last in this goroutine, the others each in one of its own.
func (h *Heap) fire(gen uint64) {
	h.mu.Lock()
	if gen == h.gen {
		h.timer = nil
	}
	now := h.since()
	var due []func()
	for len(h.slots) > 0 && h.slots[0].due <= now {
		t := h.pop().t
		if t.state == timerStopped {
			h.stopped--
			continue
		}
		due = append(due, t.f)
		t.state, t.f = timerFired, nil
	}
	h.arm(now)
	h.mu.Unlock()
	for i, f := range due {
		if i == len(due)-1 {
			f()
		} else {
			go f()
		}
	}
}

// arm makes sure the timer of package time fires no later than the
// earliest pending timer, and that none is armed once no timer is
// pending.
func (h *Heap) arm(now int64) {
	for len(h.slots) > 0 && h.slots[0].t.state == timerStopped {
		h.pop()
		h.stopped--
	}
	if len(h.slots) == 0 {
		h.empty()
		return
	}
	next := h.slots[0].due
	if h.timer != nil && h.armed <= next {
		return
	}
	if h.timer != nil {
		h.timer.Stop()
	}
	h.gen++
	gen := h.gen
	h.armed = next
	h.timer = time.AfterFunc(time.Duration(max(next-now, 0)), func() { h.fire(gen) })
}

// empty drops every slot, the stopped ones being all that is left, and
// stops the timer of package time.
func (h *Heap) empty() {
	clear(h.slots)
	h.slots = h.slots[:0]
	if cap(h.slots) > 1024 {
		h.slots = nil
	}
	h.stopped = 0
	if h.timer != nil {
		h.timer.Stop()
		h.timer = nil
		h.gen++
	}
}

// sweep drops the stopped timers' slots and orders the rest again.
func (h *Heap) sweep() {
	kept := h.slots[:0]
	for _, s := range h.slots {
		if s.t.state != timerStopped {
			kept = append(kept, s)
		}
	}
	clear(h.slots[len(kept):])
	h.slots = kept
	h.fit()
	h.stopped = 0
	for i := len(h.slots)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
	// The earliest may have changed only to a later time: the armed timer
	// fires early, finds nothing due and arms again.
}

func (h *Heap) push(s heapSlot) {
	h.slots = append(h.slots, s)
	i := len(h.slots) - 1
	for i > 0 {
		p := (i - 1) / 2
		if h.slots[p].due <= s.due {
			break
		}
		h.slots[i] = h.slots[p]
		i = p
	}
	h.slots[i] = s
}

func (h *Heap) pop() heapSlot {
	top := h.slots[0]
	last := len(h.slots) - 1
	h.slots[0] = h.slots[last]
	h.slots[last] = heapSlot{}
	h.slots = h.slots[:last]
	if last > 0 {
		h.down(0)
	}
	h.fit()
	return top
}

// fit moves the slots to an array half the size once they fill less than
// a quarter of a large one, so that a burst of timers, fired or stopped,
// leaves no large array behind.
func (h *Heap) fit() {
	if c := cap(h.slots); c > 1024 && len(h.slots) < c/4 {
		h.slots = append(make([]heapSlot, 0, c/2), h.slots...)
	}
}

func (h *Heap) down(i int) {
	s := h.slots[i]
	n := len(h.slots)
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if r := c + 1; r < n && h.slots[r].due < h.slots[c].due {
			c = r
		}
		if s.due <= h.slots[c].due {
			break
		}
		h.slots[i] = h.slots[c]
		i = c
	}
	h.slots[i] = s
}

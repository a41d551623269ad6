package clock

import (
	"container/heap"
	"sync"
	"time"
)

// Activity is a part of a system that works on its own, such as the local
// engine (commits being written, effects being run) or its queues
// (messages waiting for a worker, messages a worker holds). A Skipping
// clock only jumps while every Activity it watches is quiet.
type Activity interface {
	// Quiet reports whether the activity has no work in hand, and a count
	// that grows whenever work reaches it, so that work passing from one
	// activity to another between two looks is seen.
	Quiet() (quiet bool, epoch uint64)
}

// Watcher is a Clock that waits for activities to be quiet before it moves
// time on: the engine and the queue hand themselves to their clock's Watch
// when it has one.
type Watcher interface {
	Watch(Activity)
}

// SkipPoll is how often a Skipping clock with timers pending looks at the
// activities it watches while they are busy.
const SkipPoll = 2 * time.Millisecond

// Skip is one jump of a Skipping clock: at At (its time just before the
// jump), Duration passed at once.
type Skip struct {
	At       time.Time
	Duration time.Duration
}

// Skipping is a Clock for tests and `aiflow run --skip-waits`, after
// Temporal's time-skipping test server: it runs with the system's time
// until nothing but its own timers can make progress, and then jumps to
// the next timer. "Nothing can make progress" means that no timer callback
// of its own is running and every Activity it watches (the engine, the
// queues) is quiet: no transition waiting to be written, no message
// waiting in a queue or held by a worker that is working on it. So a Wait
// state of two hours, a retry interval or an execution's timeout passes at
// once, while a task's TimeoutSeconds never fires because a worker is slow
// in real time: while the worker works, time runs at its real pace.
//
// Now is the system's time plus every jump so far, so the histories an
// engine on this clock writes show the time the waits took. Close stops
// the jumping: the timers still pending fire on the system's time.
//
// Give the same Skipping to engine.Config.Clock and queue.Config.Clock
// (both watch themselves on it). Work that holds no message of those
// queues (a worker that deletes its message before it works, say) is not
// seen, and time may skip while it runs.
type Skipping struct {
	mu         sync.Mutex
	offset     time.Duration
	timers     timerHeap
	seq        uint64
	gen        uint64 // moves whenever timers or running change
	running    int    // timer callbacks running
	activities []Activity
	skips      []Skip
	closed     bool

	wake chan struct{}
	quit chan struct{}
	done chan struct{}
}

var _ Watcher = (*Skipping)(nil)

// NewSkipping returns a Skipping clock that reads the system's time; Close
// stops it.
func NewSkipping() *Skipping {
	s := &Skipping{wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	go s.loop()
	return s
}

// Watch makes the clock wait for a to be quiet before it jumps.
func (s *Skipping) Watch(a Activity) {
	s.mu.Lock()
	s.activities = append(s.activities, a)
	s.gen++
	s.mu.Unlock()
	s.signal()
}

// Now returns the system's time plus every jump so far.
func (s *Skipping) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nowLocked()
}

func (s *Skipping) nowLocked() time.Time { return time.Now().Add(s.offset) }

// Skipped returns how much time the clock has skipped so far.
func (s *Skipping) Skipped() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.offset
}

// SkippedBetween returns how much of the time from from to to (on this
// clock) was skipped rather than lived through.
func (s *Skipping) SkippedBetween(from, to time.Time) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var d time.Duration
	for _, k := range s.skips {
		start, end := k.At, k.At.Add(k.Duration)
		if start.Before(from) {
			start = from
		}
		if end.After(to) {
			end = to
		}
		if end.After(start) {
			d += end.Sub(start)
		}
	}
	return d
}

// Skips returns the clock's jumps so far, in order.
func (s *Skipping) Skips() []Skip {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Skip(nil), s.skips...)
}

// skipTimer is one AfterFunc.
type skipTimer struct {
	due   time.Time
	seq   uint64
	f     func()
	index int         // in the heap; -1 once out of it
	real  *time.Timer // once the clock closed with the timer pending
}

// AfterFunc calls f in its own goroutine once d has passed on the clock,
// counting it as work until f returns; stop cancels it and reports whether
// it did.
func (s *Skipping) AfterFunc(d time.Duration, f func()) (stop func() bool) {
	s.mu.Lock()
	t := &skipTimer{due: s.nowLocked().Add(d), f: f, index: -1}
	if s.closed {
		t.real = time.AfterFunc(d, f)
		s.mu.Unlock()
		return t.real.Stop
	}
	s.seq++
	t.seq = s.seq
	heap.Push(&s.timers, t)
	s.gen++
	s.mu.Unlock()
	s.signal()
	return func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		switch {
		case t.index >= 0:
			heap.Remove(&s.timers, t.index)
			s.gen++
			return true
		case t.real != nil:
			return t.real.Stop()
		}
		return false
	}
}

// Close stops the jumping and waits for the clock's goroutine: the timers
// pending fire on the system's time from then on, as do later ones. It
// returns nil; a second Close does nothing.
func (s *Skipping) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for _, t := range s.timers {
		t.index = -1
		t.real = time.AfterFunc(max(t.due.Sub(s.nowLocked()), 0), t.f)
	}
	s.timers = nil
	s.mu.Unlock()
	close(s.quit)
	<-s.done
	return nil
}

func (s *Skipping) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// loop fires the timers that are due and jumps to the next one when
// everything is quiet.
func (s *Skipping) loop() {
	defer close(s.done)
	wait := time.NewTimer(time.Hour)
	defer wait.Stop()
	for {
		s.mu.Lock()
		now := s.nowLocked()
		for len(s.timers) > 0 && !s.timers[0].due.After(now) {
			t := heap.Pop(&s.timers).(*skipTimer)
			s.running++
			s.gen++
			go s.fire(t)
		}
		idleFor := time.Hour
		if len(s.timers) > 0 {
			idleFor = s.timers[0].due.Sub(now)
		}
		mayJump := len(s.timers) > 0 && s.running == 0
		gen := s.gen
		activities := s.activities
		s.mu.Unlock()

		if mayJump {
			if quiet(activities) {
				s.mu.Lock()
				if s.gen == gen && len(s.timers) > 0 {
					now := s.nowLocked()
					if d := s.timers[0].due.Sub(now); d > 0 {
						s.skips = append(s.skips, Skip{At: now, Duration: d})
						s.offset += d
					}
				}
				s.mu.Unlock()
				continue
			}
			idleFor = min(idleFor, SkipPoll)
		}
		wait.Reset(idleFor)
		select {
		case <-wait.C:
		case <-s.wake:
		case <-s.quit:
			return
		}
	}
}

func (s *Skipping) fire(t *skipTimer) {
	defer func() {
		s.mu.Lock()
		s.running--
		s.gen++
		s.mu.Unlock()
		s.signal()
	}()
	t.f()
}

// quiet looks at every activity twice and reports whether all were quiet
// both times with no work arriving in between.
func quiet(activities []Activity) bool {
	epochs := make([]uint64, len(activities))
	for i, a := range activities {
		q, e := a.Quiet()
		if !q {
			return false
		}
		epochs[i] = e
	}
	for i, a := range activities {
		q, e := a.Quiet()
		if !q || e != epochs[i] {
			return false
		}
	}
	return true
}

// timerHeap orders timers by due time, then by arming order.
type timerHeap []*skipTimer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if !h[i].due.Equal(h[j].due) {
		return h[i].due.Before(h[j].due)
	}
	return h[i].seq < h[j].seq
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *timerHeap) Push(x any) {
	t := x.(*skipTimer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	t.index = -1
	*h = old[:len(old)-1]
	return t
}

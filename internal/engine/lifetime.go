package engine

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// DefaultCloseTimeout is how long Close waits for the engine's goroutines
// when Config.CloseTimeout is 0.
const DefaultCloseTimeout = 10 * time.Second

// lifetime owns every goroutine the engine starts and every timer
// callback it runs: each one enters before it runs and exits when it
// returns, so that Close can wait for them, and once the engine stops no
// new one enters. It keeps what each one is doing, for Close to report
// those that did not stop in time.
//
// The goroutines spawn starts are kept once their function returns, parked
// (up to maxParked) for the next spawn: a task's invocation runs on a
// goroutine whose stack has grown already, rather than on a new one that
// grows and copies its stack on the way down (7% of the engine's CPU on
// the peers' workload). Parked goroutines end when the lifetime stops.
type lifetime struct {
	mu       sync.Mutex
	stopping bool
	n        int              // functions running
	running  map[activity]int // how many do what, but for workers' functions
	idle     chan struct{}    // closed once stopping and nothing runs
	closed   bool             // idle is closed
	// parked are the idle workers, most recently parked last; all are
	// the worker goroutines, running a function or parked (workers is
	// their count), each of which says what its function does.
	parked  []*worker
	all     []*worker
	workers int
}

// worker is a goroutine spawn runs functions on. What its function does
// is kept on it, not counted in a map keyed by the activity: hashing an
// invocation's resource and execution ARN, twice per task, was 2% of the
// engine's CPU on the peers' workload.
type worker struct {
	next  chan func()
	doing activity // what its function does, while busy
	busy  bool
	at    int // its index in lifetime.all
}

// run runs f and exits the lifetime after it.
func (l *lifetime) run(w *worker, f func()) {
	defer l.exitWorker(w)
	f()
}

// maxParked bounds the workers kept parked: as many as run at once in a
// busy engine, each a few kilobytes of stack.
const maxParked = 1024

func newLifetime() *lifetime {
	return &lifetime{running: map[activity]int{}, idle: make(chan struct{})}
}

// activity is what a goroutine or a timer callback of the engine does,
// for Close to report: what, and for a task's invocation the resource and
// the execution, written out only in the report.
type activity struct{ what, resource, execution string }

// String is the activity as Close reports it.
func (a activity) String() string {
	if a.resource == "" {
		return a.what
	}
	return a.what + " " + a.resource + " for " + a.execution
}

// enter registers a function about to do what; it reports false, and
// registers nothing, once the lifetime stops.
func (l *lifetime) enter(what activity) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.register(what)
}

// register counts a function about to do what, unless stopping; mu is
// held.
func (l *lifetime) register(what activity) bool {
	if l.stopping {
		return false
	}
	l.n++
	l.running[what]++
	return true
}

// enterWorker is enter for a function that a worker runs: it returns a
// parked worker, or a new one (counted already) to be started when isNew.
func (l *lifetime) enterWorker(what activity) (w *worker, isNew, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopping {
		return nil, false, false
	}
	l.n++
	if k := len(l.parked); k > 0 {
		w = l.parked[k-1]
		l.parked[k-1] = nil
		l.parked = l.parked[:k-1]
	} else {
		w = &worker{next: make(chan func()), at: len(l.all)}
		l.all = append(l.all, w)
		l.workers++
		isNew = true
	}
	w.doing, w.busy = what, true
	return w, isNew, true
}

// exitWorker unregisters the function worker w ran.
func (l *lifetime) exitWorker(w *worker) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n--
	w.doing, w.busy = activity{}, false
	l.closeIdle()
}

// drop removes an ending worker from all; mu is held.
func (l *lifetime) drop(w *worker) {
	last := len(l.all) - 1
	l.all[w.at] = l.all[last]
	l.all[w.at].at = w.at
	l.all[last] = nil
	l.all = l.all[:last]
	l.workers--
}

// work is worker w's goroutine: it runs f, then parks for the next
// function until the lifetime stops or enough are parked.
func (l *lifetime) work(w *worker, f func()) {
	for {
		l.run(w, f)
		if !l.park(w) {
			return
		}
		var ok bool
		if f, ok = <-w.next; !ok {
			l.retire(w)
			return
		}
	}
}

// park parks a worker's channel; false (and the worker retired) once
// stopping or when maxParked are parked.
func (l *lifetime) park(w *worker) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopping || len(l.parked) >= maxParked {
		l.drop(w)
		l.closeIdle()
		return false
	}
	l.parked = append(l.parked, w)
	return true
}

// retire counts a parked worker ended by stop.
func (l *lifetime) retire(w *worker) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.drop(w)
	l.closeIdle()
}

// closeIdle closes idle once stopping with no function running and no
// worker left; mu is held.
func (l *lifetime) closeIdle() {
	if l.stopping && l.n == 0 && l.workers == 0 && !l.closed {
		l.closed = true
		close(l.idle)
	}
}

// exit unregisters a goroutine that entered with what.
func (l *lifetime) exit(what activity) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n--
	if l.running[what]--; l.running[what] == 0 {
		delete(l.running, what)
	}
	l.closeIdle()
}

// stop refuses every later enter; idle closes once the running ones exit.
func (l *lifetime) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopping {
		return
	}
	l.stopping = true
	for _, w := range l.parked {
		close(w.next)
	}
	l.parked = nil
	l.closeIdle()
}

// stillRunning says how many goroutines have not exited and what they
// do, in order, with a count where several do the same.
func (l *lifetime) stillRunning() (n int, what string) {
	l.mu.Lock()
	n = l.n
	counts := maps.Clone(l.running)
	if counts == nil {
		counts = map[activity]int{}
	}
	for _, w := range l.all {
		if w.busy {
			counts[w.doing]++
		}
	}
	names := make([]string, 0, len(counts))
	for a, c := range counts {
		w := a.String()
		if c > 1 {
			w = fmt.Sprintf("%s (%d)", w, c)
		}
		names = append(names, w)
	}
	l.mu.Unlock()
	slices.Sort(names)
	return n, strings.Join(names, "; ")
}

// spawn runs f in a goroutine the engine owns; it reports false, and runs
// nothing, once the engine is closing.
func (e *Engine) spawn(what activity, f func()) bool {
	w, isNew, ok := e.life.enterWorker(what)
	if !ok {
		return false
	}
	if !isNew {
		w.next <- f
		return true
	}
	go e.life.work(w, f)
	return true
}

// afterFunc arms a timer on the engine's clock whose callback the engine
// owns: Close waits for a callback that runs, and a callback that fires
// once the engine is closing does nothing.
func (e *Engine) afterFunc(d time.Duration, does string, f func()) (stop func() bool) {
	what := activity{what: does}
	return e.clock.AfterFunc(d, func() {
		if !e.life.enter(what) {
			return
		}
		defer e.life.exit(what)
		f()
	})
}

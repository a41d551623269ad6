package engine

import (
	"fmt"
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
type lifetime struct {
	mu       sync.Mutex
	stopping bool
	next     uint64
	running  map[uint64]string
	idle     chan struct{} // closed once stopping and nothing runs
}

func newLifetime() *lifetime {
	return &lifetime{running: map[uint64]string{}, idle: make(chan struct{})}
}

// enter registers a goroutine about to do what; ok is false, and nothing
// is registered, once the lifetime stops.
func (l *lifetime) enter(what string) (id uint64, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopping {
		return 0, false
	}
	l.next++
	l.running[l.next] = what
	return l.next, true
}

// exit unregisters the goroutine id.
func (l *lifetime) exit(id uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.running, id)
	if l.stopping && len(l.running) == 0 {
		close(l.idle)
	}
}

// stop refuses every later enter; idle closes once the running ones exit.
func (l *lifetime) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopping {
		return
	}
	l.stopping = true
	if len(l.running) == 0 {
		close(l.idle)
	}
}

// stillRunning says what the goroutines that have not exited do, in
// order, with a count for each.
func (l *lifetime) stillRunning() (n int, what string) {
	l.mu.Lock()
	counts := map[string]int{}
	for _, w := range l.running {
		counts[w]++
	}
	n = len(l.running)
	l.mu.Unlock()
	names := make([]string, 0, len(counts))
	for w, c := range counts {
		if c > 1 {
			w = fmt.Sprintf("%s (%d)", w, c)
		}
		names = append(names, w)
	}
	slices.Sort(names)
	return n, strings.Join(names, "; ")
}

// spawn runs f in a goroutine the engine owns; it reports false, and runs
// nothing, once the engine is closing.
func (e *Engine) spawn(what string, f func()) bool {
	id, ok := e.life.enter(what)
	if !ok {
		return false
	}
	go func() {
		defer e.life.exit(id)
		f()
	}()
	return true
}

// afterFunc arms a timer on the engine's clock whose callback the engine
// owns: Close waits for a callback that runs, and a callback that fires
// once the engine is closing does nothing.
func (e *Engine) afterFunc(d time.Duration, what string, f func()) (stop func() bool) {
	return e.clock.AfterFunc(d, func() {
		id, ok := e.life.enter(what)
		if !ok {
			return
		}
		defer e.life.exit(id)
		f()
	})
}

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
	n        int            // goroutines running
	running  map[string]int // how many do what
	idle     chan struct{}  // closed once stopping and nothing runs
}

func newLifetime() *lifetime {
	return &lifetime{running: map[string]int{}, idle: make(chan struct{})}
}

// enter registers a goroutine about to do what; it reports false, and
// registers nothing, once the lifetime stops.
func (l *lifetime) enter(what string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopping {
		return false
	}
	l.n++
	l.running[what]++
	return true
}

// exit unregisters a goroutine that entered with what.
func (l *lifetime) exit(what string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n--
	if l.running[what]--; l.running[what] == 0 {
		delete(l.running, what)
	}
	if l.stopping && l.n == 0 {
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
	if l.n == 0 {
		close(l.idle)
	}
}

// stillRunning says how many goroutines have not exited and what they
// do, in order, with a count where several do the same.
func (l *lifetime) stillRunning() (n int, what string) {
	l.mu.Lock()
	n = l.n
	names := make([]string, 0, len(l.running))
	for w, c := range l.running {
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
func (e *Engine) spawn(what string, f func()) bool {
	if !e.life.enter(what) {
		return false
	}
	go func() {
		defer e.life.exit(what)
		f()
	}()
	return true
}

// afterFunc arms a timer on the engine's clock whose callback the engine
// owns: Close waits for a callback that runs, and a callback that fires
// once the engine is closing does nothing.
func (e *Engine) afterFunc(d time.Duration, what string, f func()) (stop func() bool) {
	return e.clock.AfterFunc(d, func() {
		if !e.life.enter(what) {
			return
		}
		defer e.life.exit(what)
		f()
	})
}

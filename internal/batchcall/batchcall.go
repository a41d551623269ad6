// Package batchcall makes the calls that arrive together in one batch:
// while a batch is under way, the calls that arrive queue up, and the
// next batch makes them all at once (one statement, one commit, one
// round trip where each call alone would take its own). A call alone is
// made at once, in a batch of one.
//
// No goroutine is started: the caller whose call finds no batch under way
// makes the batch; when it is done and calls are waiting, it hands the
// next batch to the first of them, whose caller makes it. So nothing runs
// once every caller has returned, and nothing needs closing.
package batchcall

import (
	"context"
	"sync"
	"time"
)

// Group batches the calls of Do. Its fields are set before the first
// call and not changed after; the zero Group is not usable (Run is
// needed).
type Group[Req, Res any] struct {
	// Run makes a batch of calls and returns their results, one for each
	// request, in order. Its context carries the values of the context
	// of the caller that makes the batch but not its end: it ends after
	// Timeout.
	Run func(ctx context.Context, reqs []Req) []Res
	// Max bounds the calls of a batch; zero means no bound.
	Max int
	// Timeout bounds a batch; zero means no bound.
	Timeout time.Duration
	// LeaveAbandoned leaves out of its batch a call whose caller gave up
	// (its context ended) before the batch began, as a read, which does
	// nothing, may be. Otherwise such a call is still made, as a write
	// is that its caller may have acted on.
	LeaveAbandoned bool

	mu      sync.Mutex
	queue   []*call[Req, Res]
	running bool // a batch is under way, or the next has been handed over
}

// call is a call waiting for its batch, and where its result goes.
type call[Req, Res any] struct {
	req Req
	// res is the call's result, set before false is sent on done.
	res Res
	// done takes true for the hand-over of the next batch and false once
	// res is set, in that order when both: buffered, so the batch maker
	// never waits for a caller. (A channel of results took their size
	// twice over for each call.)
	done chan bool
	// lead is set, under the group's lock, when the call is handed the
	// next batch: its caller makes it, even if it has given up waiting.
	lead bool
	// gone is set, under the group's lock, when its caller has given up
	// and returned: the call is made, but no batch is handed to it.
	gone bool
}

// Do makes req in a batch and returns its result, or ctx's error if ctx
// ends first (when the call may still be made: see LeaveAbandoned).
func (g *Group[Req, Res]) Do(ctx context.Context, req Req) (Res, error) {
	var zero Res
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	c := &call[Req, Res]{req: req, done: make(chan bool, 2)}
	g.mu.Lock()
	g.queue = append(g.queue, c)
	lead := !g.running
	g.running = true
	g.mu.Unlock()
	if lead {
		g.runBatch(ctx)
	}
	for {
		// A result already there is taken before an ended context.
		var next bool
		select {
		case next = <-c.done:
		default:
			select {
			case next = <-c.done:
			case <-ctx.Done():
				return zero, g.abandon(ctx, c)
			}
		}
		if !next {
			return c.res, nil
		}
		g.mu.Lock()
		c.lead = false // taken: the call is in the batch its caller makes
		g.mu.Unlock()
		g.runBatch(ctx)
	}
}

// abandon is Do's end when ctx ends before c's result: c leaves the
// queue if it may and is still in it, and a hand-over c was given is
// honoured, so that the calls queued after it are not held up.
func (g *Group[Req, Res]) abandon(ctx context.Context, c *call[Req, Res]) error {
	g.mu.Lock()
	lead := c.lead
	if !lead {
		c.gone = true
		if g.LeaveAbandoned {
			for i, q := range g.queue {
				if q == c {
					g.queue = append(g.queue[:i], g.queue[i+1:]...)
					break
				}
			}
		}
	}
	g.mu.Unlock()
	if lead {
		<-c.done // the hand-over, sent when lead was set
		g.runBatch(ctx)
	}
	return ctx.Err()
}

// runBatch makes a batch of the calls queued, up to Max, and hands the
// next batch to the first call still queued whose caller waits; it makes
// the next batch itself when every call queued is one whose caller has
// gone, and ends the group's running when none is queued.
func (g *Group[Req, Res]) runBatch(ctx context.Context) {
	for {
		g.mu.Lock()
		n := len(g.queue)
		if g.Max > 0 {
			n = min(n, g.Max)
		}
		batch := make([]*call[Req, Res], n)
		copy(batch, g.queue)
		clear(g.queue[:n])
		g.queue = g.queue[n:]
		g.mu.Unlock()

		if n > 0 {
			g.run(ctx, batch)
		}

		g.mu.Lock()
		if len(g.queue) == 0 {
			g.running = false
			g.mu.Unlock()
			return
		}
		for _, next := range g.queue {
			if !next.gone {
				next.lead = true
				next.done <- true
				g.mu.Unlock()
				return
			}
		}
		g.mu.Unlock()
	}
}

// run makes one batch and gives each call its result.
func (g *Group[Req, Res]) run(ctx context.Context, batch []*call[Req, Res]) {
	reqs := make([]Req, len(batch))
	for i, c := range batch {
		reqs[i] = c.req
	}
	ctx = context.WithoutCancel(ctx)
	cancel := context.CancelFunc(func() {})
	if g.Timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, g.Timeout)
	}
	results := g.Run(ctx, reqs)
	cancel()
	for i, c := range batch {
		c.res = results[i]
		c.done <- false
	}
}

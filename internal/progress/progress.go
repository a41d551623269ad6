// Package progress shows an execution as it runs: it follows the
// execution's history and turns its events into a line per step start and
// end, with a live view of the running steps on a terminal. `aiflow run`
// prints it on stderr.
package progress

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/aiflow/aiflow/internal/sfn"
)

// Poll is how often Follow reads the history on a terminal.
const Poll = 50 * time.Millisecond

// History is what Follow needs of the engine.
type History interface {
	GetExecutionHistory(ctx context.Context, in sfn.GetExecutionHistoryInput) (sfn.GetExecutionHistoryOutput, error)
	Wait(ctx context.Context, executionARN string) error
}

// Follow reads the execution's history as it grows and feeds every
// new event to p, until the execution closes or ctx ends. It reads when
// the execution closes and on a timer: every Poll on a terminal,
// whose live view shows time passing, and elsewhere less often the longer
// nothing happens (up to a second), so that long waits cost little.
func Follow(ctx context.Context, h History, arn string, p *Printer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	closed := make(chan struct{})
	go func() {
		_ = h.Wait(ctx, arn)
		close(closed)
	}()
	seen := 0
	interval := Poll
	timer := time.NewTimer(interval)
	defer timer.Stop()
	for {
		var all []sfn.HistoryEvent
		next := ""
		for {
			page, err := h.GetExecutionHistory(ctx, sfn.GetExecutionHistoryInput{ExecutionARN: arn, MaxResults: 1000, NextToken: next})
			if err != nil {
				return err
			}
			all = append(all, page.Events...)
			if next = page.NextToken; next == "" {
				break
			}
		}
		ended := false
		for _, ev := range all[min(seen, len(all)):] {
			p.Event(ev)
			ended = ended || strings.HasPrefix(ev.Type, "Execution") && ev.Type != "ExecutionStarted"
		}
		if ended {
			return nil
		}
		switch {
		case p.live || len(all) > seen:
			interval = Poll
		default:
			interval = min(2*interval, time.Second)
		}
		seen = max(seen, len(all))
		p.Redraw()
		timer.Reset(interval)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-closed:
			if ctx.Err() != nil {
				return ctx.Err()
			}
		case <-timer.C:
		}
	}
}

// span is a step in progress: a state entered and not yet left.
type span struct {
	name, kind string
	iter       string // the map iterations the state runs in, such as "[2]"
	task       bool
	start      time.Time // when the state was entered
	taskStart  time.Time // when the current attempt was scheduled
	attempt    int
	open       bool // started and not yet ended on screen
	seq        int  // order of appearance, for the live view
}

// Printer turns history events into a line per step start and end. On a
// terminal it also keeps a live view of the steps running below those
// lines, redrawn as time passes; elsewhere it writes plain lines.
type Printer struct {
	w      io.Writer
	live   bool
	kinds  map[string]string
	spans  map[int64]*span  // by the id of each event of the span
	iters  map[int64]string // map iteration suffix, such as "[2]", by event id
	now    func() time.Time // the live view's clock
	drawn  int              // lines of the live view now on screen
	nextID int
	skips  Skips // nil unless ShowSkips
}

// New returns a Printer writing to w, with a live view when live (w is a
// terminal). kinds names the kind of each step by id, as the lines show it.
func New(w io.Writer, live bool, kinds map[string]string) *Printer {
	return &Printer{w: w, live: live, kinds: kinds, spans: map[int64]*span{}, iters: map[int64]string{}, now: time.Now}
}

// Event reads one history event, in the order of the history.
func (p *Printer) Event(ev sfn.HistoryEvent) {
	// A map's iterations run in threads of their own, which start from the
	// iteration's MapIterationStarted; the map's own events stay on the
	// thread of the map and keep the map's suffix.
	var iter string
	switch {
	case ev.MapIterationStarted != nil:
		if s := p.spans[ev.PreviousEventID]; s != nil {
			iter = s.iter
		}
		iter += fmt.Sprintf("[%d]", ev.MapIterationStarted.Index)
	case strings.HasPrefix(ev.Type, "Map"):
		if s := p.spans[ev.PreviousEventID]; s != nil {
			iter = s.iter
		}
	default:
		iter = p.iters[ev.PreviousEventID]
	}
	if iter != "" {
		p.iters[ev.ID] = iter
	}
	if ev.StateEntered != nil {
		name := ev.StateEntered.Name
		if strings.HasPrefix(name, "aiflow-") {
			return // a state the compiler added
		}
		p.nextID++
		s := &span{name: name + iter, iter: iter, kind: p.kinds[name], task: ev.Type == "TaskStateEntered", start: ev.Timestamp, seq: p.nextID}
		if s.kind == "" {
			s.kind = strings.ToLower(strings.TrimSuffix(ev.Type, "StateEntered"))
		}
		p.spans[ev.ID] = s
		if !s.task {
			s.open = true
			p.Line(fmt.Sprintf("▶ %s (%s)", s.name, s.kind))
		}
		return
	}
	s := p.spans[ev.PreviousEventID]
	if s == nil {
		return
	}
	p.spans[ev.ID] = s
	switch {
	case ev.TaskScheduled != nil:
		s.attempt++
		s.taskStart, s.open = ev.Timestamp, true
		line := fmt.Sprintf("▶ %s (%s)", s.name, s.kind)
		if s.attempt > 1 {
			line += fmt.Sprintf(" attempt %d", s.attempt)
		}
		p.Line(line)
	case ev.TaskSucceeded != nil:
		s.open = false
		p.Line(fmt.Sprintf("✔ %s %s", s.name, p.Elapsed(s.taskStart, ev.Timestamp)))
	case ev.TaskFailed != nil:
		s.open = false
		p.Line(fmt.Sprintf("✖ %s %s", s.name, failure(ev.TaskFailed.Error, ev.TaskFailed.Cause)))
	case ev.TaskTimedOut != nil:
		s.open = false
		p.Line(fmt.Sprintf("✖ %s %s", s.name, failure(ev.TaskTimedOut.Error, ev.TaskTimedOut.Cause)))
	case ev.Type == "MapStateFailed" || ev.Type == "ParallelStateFailed":
		s.open = false
		p.Line(fmt.Sprintf("✖ %s failed after %s", s.name, p.Elapsed(s.start, ev.Timestamp)))
	case ev.ExecutionFailed != nil && s.open:
		// A state that failed without a task (a path that is not there,
		// an intrinsic that failed) ends the execution at once.
		s.open = false
		p.Line(fmt.Sprintf("✖ %s %s", s.name, ev.ExecutionFailed.Error))
	case ev.StateExited != nil:
		if !s.task {
			s.open = false
			p.Line(fmt.Sprintf("✔ %s %s", s.name, p.Elapsed(s.start, ev.Timestamp)))
		}
	}
}

// failure shows an error and its cause on one line.
func failure(name, cause string) string {
	if cause == "" {
		return name
	}
	cause = strings.Join(strings.Fields(cause), " ")
	if len(cause) > 300 {
		cause = cause[:300] + "…"
	}
	return name + ": " + cause
}

// Line writes a line above the live view.
func (p *Printer) Line(s string) {
	p.clear()
	fmt.Fprintln(p.w, s)
	p.draw()
}

// Redraw refreshes the live view's elapsed times.
func (p *Printer) Redraw() {
	if !p.live {
		return
	}
	p.clear()
	p.draw()
}

// Finish removes the live view.
func (p *Printer) Finish() { p.clear() }

func (p *Printer) clear() {
	if p.drawn > 0 {
		fmt.Fprintf(p.w, "\x1b[%dA\x1b[J", p.drawn)
		p.drawn = 0
	}
}

// draw shows the running steps, the longest running first, with how long
// they have run.
func (p *Printer) draw() {
	if !p.live {
		return
	}
	seen := map[*span]bool{}
	var open []*span
	for _, s := range p.spans {
		if s.open && !seen[s] {
			seen[s] = true
			open = append(open, s)
		}
	}
	sort.Slice(open, func(i, j int) bool { return open[i].seq < open[j].seq })
	const most = 10
	for i, s := range open {
		if i == most {
			fmt.Fprintf(p.w, "  … and %d more\n", len(open)-most)
			p.drawn++
			break
		}
		start := s.start
		if s.task {
			start = s.taskStart
		}
		fmt.Fprintf(p.w, "  ⋯ %s (%s) %s\n", s.name, s.kind, FormatDuration(p.now().Sub(start)))
		p.drawn++
	}
}

// FormatDuration shows a step's duration: 12ms, 1.2s, 2m3s.
func FormatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0ms"
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}

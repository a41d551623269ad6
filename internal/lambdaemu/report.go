package lambdaemu

import (
	"bytes"
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The emulator's log lines this package reads. Its own log (stderr) says
// when the runtime's initialisation ended and which invocation it handed
// the runtime next; its report (stdout) ends each invocation.
const (
	initReportPrefix  = "(rapid) INIT REPORT(durationMs: "
	invokeStartPrefix = "(rapid) INVOKE START(requestId: "
	processExited     = "(rapid) Process runtime-"
	reportPrefix      = "REPORT RequestId: "
	durationField     = "\tDuration: "
)

// report is what the emulator's log says of one invocation.
type report struct {
	started  bool          // its INVOKE START line was read
	init     time.Duration // the runtime's initialisation that preceded it
	reported bool          // its REPORT line was read
	duration time.Duration
	ready    chan struct{} // closed once started and reported
}

// reportBook collects the reports of an instance's invocations from its
// log lines.
type reportBook struct {
	// invokeStarted, when set, is called on each INVOKE START line, when
	// the runtime process runs.
	invokeStarted func()

	mu          sync.Mutex
	pendingInit time.Duration
	byID        map[string]*report
	// lastExit is the emulator's last word on a runtime process that
	// exited, such as "Process runtime-1 exited: exit status 2".
	lastExit string
}

func newReportBook() *reportBook {
	return &reportBook{byID: map[string]*report{}}
}

// expect registers an invocation about to be sent.
func (b *reportBook) expect(id string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.byID[id] = &report{ready: make(chan struct{})}
}

// wait returns what the log said of the invocation id once both its lines
// were read, or what was read by then when ctx ends first, and forgets it.
func (b *reportBook) wait(ctx context.Context, id string) report {
	b.mu.Lock()
	r := b.byID[id]
	b.mu.Unlock()
	if r == nil {
		return report{}
	}
	select {
	case <-r.ready:
	case <-ctx.Done():
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.byID, id)
	return report{started: r.started, init: r.init, reported: r.reported, duration: r.duration}
}

// forget drops an invocation whose report will not come.
func (b *reportBook) forget(id string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.byID, id)
}

// runtimeExit is the emulator's last line on a runtime that exited.
func (b *reportBook) runtimeExit() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lastExit
}

// line reads one line of the emulator's output.
func (b *reportBook) line(s string) {
	switch {
	case strings.Contains(s, processExited):
		_, rest, _ := strings.Cut(s, "(rapid) ")
		b.mu.Lock()
		b.lastExit = rest
		b.mu.Unlock()
	case strings.Contains(s, initReportPrefix):
		v, ok := between(s, initReportPrefix, ")")
		if !ok {
			return
		}
		ms, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return
		}
		b.mu.Lock()
		b.pendingInit = time.Duration(ms * float64(time.Millisecond))
		b.mu.Unlock()
	case strings.Contains(s, invokeStartPrefix):
		id, ok := between(s, invokeStartPrefix, ")")
		if !ok {
			return
		}
		if b.invokeStarted != nil {
			b.invokeStarted()
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		if r := b.byID[id]; r != nil && !r.started {
			r.started, r.init = true, b.pendingInit
			b.pendingInit = 0
			r.check()
		}
	case strings.HasPrefix(s, reportPrefix):
		rest := s[len(reportPrefix):]
		id, _, _ := strings.Cut(rest, "\t")
		v, ok := between(rest, durationField, " ms")
		if !ok {
			return
		}
		ms, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		if r := b.byID[strings.TrimSpace(id)]; r != nil && !r.reported {
			r.reported, r.duration = true, time.Duration(ms*float64(time.Millisecond))
			r.check()
		}
	}
}

// check closes ready once both lines were read.
func (r *report) check() {
	if r.started && r.reported {
		close(r.ready)
	}
}

// between returns what s holds between the first start and the end after it.
func between(s, start, end string) (string, bool) {
	_, rest, ok := strings.Cut(s, start)
	if !ok {
		return "", false
	}
	v, _, ok := strings.Cut(rest, end)
	return v, ok
}

// maxLine is the longest line logged as one record; a longer one is cut.
const maxLine = 64 << 10

// lineWriter splits a stream of the emulator's output into lines, logs
// each, and hands each to the report book.
type lineWriter struct {
	mu     sync.Mutex
	buf    []byte
	log    *slog.Logger
	stream string
	book   *reportBook
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.buf = append(w.buf, p...)
			if len(w.buf) >= maxLine {
				w.emit()
			}
			break
		}
		w.buf = append(w.buf, p[:i]...)
		w.emit()
		p = p[i+1:]
	}
	return n, nil
}

// flush emits what is left of a last line without its newline.
func (w *lineWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.emit()
	}
}

func (w *lineWriter) emit() {
	s := strings.TrimRight(string(w.buf), "\r")
	w.buf = w.buf[:0]
	w.book.line(s)
	w.log.Info(s, "stream", w.stream)
}

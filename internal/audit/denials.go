package audit

import (
	"container/list"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/aiflow/aiflow/internal/auth"
)

// ActionDenials is the action of a record that counts the denials of one
// source in one interval (see Denials).
const ActionDenials = "denials"

// Defaults of DenialsOptions.
const (
	DefaultDenialInterval = time.Minute
	DefaultDenialSources  = 10000
)

// maxDistinct bounds how many distinct reasons, resources and permissions
// an aggregate record names one by one; the rest are counted under
// otherKey. maxKeyLen bounds each of them, so a record stays far below
// MaxDetails whatever the requests held.
const (
	maxDistinct = 10
	maxKeyLen   = 256
	otherKey    = "(other)"
)

// DenialsOptions configure NewDenials.
type DenialsOptions struct {
	// Interval is how long the denials of one source are counted into
	// one record; zero means DefaultDenialInterval.
	Interval time.Duration
	// MaxSources bounds how many sources are tracked at once; zero means
	// DefaultDenialSources. Past it, the oldest interval is closed early
	// (its record written) to make room.
	MaxSources int
	// SourceFunc names a denied request's source; nil means the host of
	// its RemoteAddr. httpapi passes the rate limit's address group, so
	// that the log and the limit count the same sources.
	SourceFunc func(r *http.Request) string
	// NowFunc is the clock; nil means time.Now.
	NowFunc func() time.Time
	// ErrorFunc receives a failed append; nil drops it. The denial is
	// answered either way.
	ErrorFunc func(ctx context.Context, err error)
}

// Denials audits the denials of an auth.Guard in bounded space: the first
// denial of a source (and actor) in an interval is appended as it happens,
// as DenialFunc would; the ones after it in the same interval are only
// counted, and one record with action ActionDenials holds their count,
// their statuses, reasons, resources and permissions when the interval
// closes. A flood from one source thus writes at most two records an
// interval, however many requests it sends.
//
// A closed interval is written by the next denial from any source, by
// FlushDue, or by Flush; Denials starts no goroutine. It is safe for
// concurrent use.
type Denials struct {
	log       *Log
	interval  time.Duration
	max       int
	source    func(r *http.Request) string
	now       func() time.Time
	errorFunc func(ctx context.Context, err error)

	mu      sync.Mutex
	windows map[string]*list.Element // of *window
	order   *list.List               // by start, oldest first
}

// window counts one source's denials in one interval, past the first.
type window struct {
	key, source, actor string
	start              time.Time
	count              int
	statuses           map[string]int
	reasons            map[string]int
	resources          map[string]int
	permissions        map[string]int
}

// NewDenials returns a Denials appending to l.
func NewDenials(l *Log, opts DenialsOptions) *Denials {
	if opts.Interval <= 0 {
		opts.Interval = DefaultDenialInterval
	}
	if opts.MaxSources <= 0 {
		opts.MaxSources = DefaultDenialSources
	}
	if opts.SourceFunc == nil {
		opts.SourceFunc = func(r *http.Request) string { return sourceIP(r.RemoteAddr) }
	}
	if opts.NowFunc == nil {
		opts.NowFunc = time.Now
	}
	return &Denials{
		log: l, interval: opts.Interval, max: opts.MaxSources, source: opts.SourceFunc,
		now: opts.NowFunc, errorFunc: opts.ErrorFunc,
		windows: make(map[string]*list.Element), order: list.New(),
	}
}

// Audit records one denial; it is an auth.AuditFunc. It appends the
// records of the intervals that have closed, then this denial's own
// record when it opens its source's interval.
func (d *Denials) Audit(ctx context.Context, den auth.Denial) {
	rec := denialRecord(den)
	source := rec.SourceIP
	if den.Request != nil {
		source = d.source(den.Request)
	}
	key := source + "\x00" + rec.Actor
	now := d.now()

	d.mu.Lock()
	records := d.takeDue(now)
	first := false
	if el, ok := d.windows[key]; ok {
		el.Value.(*window).add(den, rec)
	} else {
		if d.order.Len() >= d.max {
			records = appendAggregate(records, d.remove(d.order.Front()), now)
		}
		w := &window{key: key, source: source, actor: rec.Actor, start: now}
		d.windows[key] = d.order.PushBack(w)
		first = true
	}
	d.mu.Unlock()

	if first {
		records = append(records, rec)
	}
	// The denial is recorded even when the caller has already hung up.
	d.append(context.WithoutCancel(ctx), records)
}

// FlushDue appends the records of the intervals that have closed. A
// server calls it now and then (httpapi on every guarded request), so
// that the count of a source that went quiet is written without waiting
// for another denial.
func (d *Denials) FlushDue(ctx context.Context) {
	now := d.now()
	d.mu.Lock()
	if front := d.order.Front(); front == nil || now.Before(front.Value.(*window).start.Add(d.interval)) {
		d.mu.Unlock()
		return
	}
	records := d.takeDue(now)
	d.mu.Unlock()
	d.append(context.WithoutCancel(ctx), records)
}

// Flush closes every interval and appends the records of those that
// counted denials; call it when the server stops. It returns the appends'
// errors.
func (d *Denials) Flush(ctx context.Context) error {
	now := d.now()
	d.mu.Lock()
	var records []Record
	for el := d.order.Front(); el != nil; el = d.order.Front() {
		records = appendAggregate(records, d.remove(el), now)
	}
	d.mu.Unlock()
	var errs []error
	for _, rec := range records {
		if _, err := d.log.Append(ctx, rec); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// takeDue removes the windows that have closed by now, oldest first, and
// returns the records of those that counted denials. d.mu is held.
func (d *Denials) takeDue(now time.Time) []Record {
	var records []Record
	for el := d.order.Front(); el != nil; el = d.order.Front() {
		w := el.Value.(*window)
		if now.Before(w.start.Add(d.interval)) {
			break
		}
		records = appendAggregate(records, d.remove(el), w.start.Add(d.interval))
	}
	return records
}

func (d *Denials) remove(el *list.Element) *window {
	w := el.Value.(*window)
	delete(d.windows, w.key)
	d.order.Remove(el)
	return w
}

func (d *Denials) append(ctx context.Context, records []Record) {
	for _, rec := range records {
		if _, err := d.log.Append(ctx, rec); err != nil && d.errorFunc != nil {
			d.errorFunc(ctx, err)
		}
	}
}

func (w *window) add(den auth.Denial, rec Record) {
	if w.count == 0 {
		w.statuses, w.reasons = map[string]int{}, map[string]int{}
		w.resources, w.permissions = map[string]int{}, map[string]int{}
	}
	w.count++
	countKey(w.statuses, strconv.Itoa(den.Status))
	countKey(w.reasons, den.Reason)
	countKey(w.resources, rec.Resource)
	countKey(w.permissions, string(den.Permission))
}

// countKey counts k in m, naming at most maxDistinct keys of at most
// maxKeyLen bytes.
func countKey(m map[string]int, k string) {
	if len(k) > maxKeyLen {
		k = truncate(k, maxKeyLen)
	}
	if _, ok := m[k]; !ok && len(m) >= maxDistinct {
		k = otherKey
	}
	m[k]++
}

func truncate(s string, n int) string {
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// appendAggregate adds w's record to records when w counted denials; to
// is when its interval closed.
func appendAggregate(records []Record, w *window, to time.Time) []Record {
	if w.count == 0 {
		return records
	}
	details := map[string]any{
		"count":       w.count,
		"from":        w.start.UTC().Format(time.RFC3339Nano),
		"to":          to.UTC().Format(time.RFC3339Nano),
		"statuses":    w.statuses,
		"reasons":     w.reasons,
		"resources":   w.resources,
		"permissions": w.permissions,
	}
	raw, _ := json.Marshal(details) // strings and ints always encode
	return append(records, Record{
		Actor: w.actor, Action: ActionDenials, Outcome: OutcomeDenied,
		SourceIP: w.source, Details: raw,
	})
}

// denialRecord is the record of one denial, as DenialFunc appends it.
func denialRecord(d auth.Denial) Record {
	rec := Record{Actor: Anonymous}
	if d.Request != nil {
		rec = FromRequest(d.Request)
	}
	if d.Principal.Subject != "" {
		rec.Actor = d.Principal.Subject
	}
	rec.Action = string(d.Permission)
	rec.Outcome = OutcomeDenied
	details := map[string]any{"status": d.Status, "reason": d.Reason}
	if len(d.Principal.Roles) > 0 {
		details["roles"] = d.Principal.Roles
	}
	rec.Details, _ = json.Marshal(details) // strings, ints and roles always encode
	return rec
}

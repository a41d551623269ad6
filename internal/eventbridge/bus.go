package eventbridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/aiflow/aiflow/internal/clock"
	"github.com/aiflow/aiflow/internal/lambdaemu"
	"github.com/aiflow/aiflow/internal/stackmodel"
)

// The retry schedule. EventBridge documents exponential backoff with
// jitter, not its numbers; these are ours: the n-th retry waits a random
// time between half and all of min(RetryBaseDelay·2^(n-1), RetryMaxDelay).
const (
	RetryBaseDelay = time.Second
	RetryMaxDelay  = 5 * time.Minute
)

// The limits of a target's RetryPolicy, as EventBridge has them.
const (
	MaxRetryAttempts = 185
	MinEventAge      = time.Minute
	MaxEventAge      = 24 * time.Hour
)

// The message attributes EventBridge adds to an event it sends to a
// target's dead-letter queue.
const (
	AttrRuleARN                 = "RULE_ARN"
	AttrTargetARN               = "TARGET_ARN"
	AttrErrorCode               = "ERROR_CODE"
	AttrErrorMessage            = "ERROR_MESSAGE"
	AttrExhaustedRetryCondition = "EXHAUSTED_RETRY_CONDITION"
	AttrRetryAttempts           = "RETRY_ATTEMPTS"
)

// The ERROR_CODE values this bus sends, from EventBridge's list.
const (
	// ErrorConnectionFailure: the function could not be invoked.
	ErrorConnectionFailure = "CONNECTION_FAILURE"
	// ErrorTimeout: the function ran past its timeout.
	ErrorTimeout = "TIMEOUT"
	// ErrorSDKClient: the function returned an error.
	ErrorSDKClient = "SDK_CLIENT_ERROR"
	// ErrorInvalidParameter: the target's InputPath selects nothing in the
	// event; the event is dead-lettered without a retry.
	ErrorInvalidParameter = "INVALID_PARAMETER"
)

// The EXHAUSTED_RETRY_CONDITION values.
const (
	RetryAttemptsExhausted = "MaximumRetryAttemptsExhausted"
	EventAgeExhausted      = "MaximumEventAgeExhausted"
)

// ErrClosed is returned by Put and Deliver once Close was called, and by
// Deliver for a delivery Close interrupted.
var ErrClosed = errors.New("the event bus is closed")

// InvokeFunc invokes a function of the stack synchronously: function is
// its logical id. An error, or a Result with a FunctionError, is a failed
// attempt.
type InvokeFunc func(ctx context.Context, function string, payload []byte) (*lambdaemu.Result, error)

// SendToQueueFunc sends a message with string message attributes to a
// queue of the stack, named by its logical id.
type SendToQueueFunc func(ctx context.Context, queue, body string, attributes map[string]string) error

// BusParams configure NewBus.
type BusParams struct {
	// Rules are the template's rules; every target must be a function of
	// the stack.
	Rules []stackmodel.Rule
	// Invoke delivers to a function target; required.
	Invoke InvokeFunc
	// SendToQueue sends to a target's dead-letter queue; required when a
	// target has one.
	SendToQueue SendToQueueFunc
	// Clock times the retries and the events' age; nil is clock.System.
	Clock clock.Clock
	// RandFunc returns a number in [0, 1) for the retries' jitter; nil is
	// math/rand/v2's Float64.
	RandFunc func() float64
	// NewIDFunc makes the id of an event put without one; nil makes a
	// random UUID.
	NewIDFunc func() string
	// Logger receives failed attempts and dropped events; nil discards.
	Logger *slog.Logger
	// Region and AccountID fill the events put without them.
	Region, AccountID string
	// FireSchedulesAtStart delivers each scheduled rule's first Scheduled
	// Event when the Bus starts, instead of one rate later.
	FireSchedulesAtStart bool
}

// Bus is the stack's default event bus: it matches events against the
// rules and delivers them to their function targets with the targets'
// retry policies. It is safe for concurrent use.
type Bus struct {
	rules     []*rule
	invoke    InvokeFunc
	send      SendToQueueFunc
	clock     clock.Clock
	rand      func() float64
	newID     func() string
	log       *slog.Logger
	region    string
	accountID string

	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

type rule struct {
	src     stackmodel.Rule
	pattern *Pattern      // nil for a scheduled rule
	every   time.Duration // a scheduled rule's rate; 0 for a pattern rule
	targets []*target
}

type target struct {
	rule  *rule
	src   stackmodel.RuleTarget
	input []byte     // the constant Input, nil without one
	path  []pathStep // InputPath's steps; nil without one
}

// NewBus returns a Bus for the rules. It returns an error naming the rule
// and target for what this bus does not run: a cron schedule, a rule of
// another bus than the default one, a target that is not a function of
// the stack, an InputPath beyond simple field and index steps, and for a
// pattern CompilePattern refuses or a retry policy out of EventBridge's
// limits.
func NewBus(p BusParams) (*Bus, error) {
	if p.Invoke == nil {
		return nil, errors.New("making the event bus: BusParams.Invoke is required")
	}
	b := &Bus{invoke: p.Invoke, send: p.SendToQueue, clock: p.Clock, rand: p.RandFunc, newID: p.NewIDFunc,
		log: p.Logger, region: p.Region, accountID: p.AccountID}
	if b.clock == nil {
		b.clock = clock.System{}
	}
	if b.rand == nil {
		b.rand = rand.Float64
	}
	if b.newID == nil {
		b.newID = uuid.NewString
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	for _, src := range p.Rules {
		r, err := b.compileRule(src)
		if err != nil {
			return nil, fmt.Errorf("making the event bus: rule %s: %w", src.LogicalID, err)
		}
		b.rules = append(b.rules, r)
	}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	b.startSchedules(p.FireSchedulesAtStart)
	return b, nil
}

func (b *Bus) compileRule(src stackmodel.Rule) (*rule, error) {
	if src.EventBusName != "" && src.EventBusName != "default" {
		return nil, fmt.Errorf("it is on event bus %q; this bus runs the rules of the default bus only", src.EventBusName)
	}
	r := &rule{src: src}
	switch {
	case src.ScheduleExpression != "" && src.EventPattern != nil:
		return nil, errors.New("it has both a ScheduleExpression and an EventPattern; a rule has one of the two")
	case src.ScheduleExpression != "":
		every, err := ParseRate(src.ScheduleExpression)
		if err != nil {
			return nil, fmt.Errorf("ScheduleExpression: %w", err)
		}
		r.every = every
	case src.EventPattern == nil:
		return nil, errors.New("it has no EventPattern")
	default:
		pat, err := CompilePattern(src.EventPattern)
		if err != nil {
			return nil, fmt.Errorf("EventPattern: %w", err)
		}
		r.pattern = pat
	}
	for _, ts := range src.Targets {
		t := &target{rule: r, src: ts}
		at := "target " + ts.ID
		switch {
		case ts.Function == "":
			return nil, fmt.Errorf("%s is %s, not a function of the stack; this bus delivers to Lambda function targets only", at, ts.ARN)
		case ts.MaximumRetryAttempts < 0 || ts.MaximumRetryAttempts > MaxRetryAttempts:
			return nil, fmt.Errorf("%s: RetryPolicy.MaximumRetryAttempts %d is not from 0 to %d", at, ts.MaximumRetryAttempts, MaxRetryAttempts)
		case ts.MaximumEventAge < MinEventAge || ts.MaximumEventAge > MaxEventAge:
			return nil, fmt.Errorf("%s: RetryPolicy.MaximumEventAgeInSeconds %d is not from %d to %d", at,
				int(ts.MaximumEventAge/time.Second), int(MinEventAge/time.Second), int(MaxEventAge/time.Second))
		case ts.DeadLetterQueue != "" && b.send == nil:
			return nil, fmt.Errorf("%s has the dead-letter queue %s but BusParams.SendToQueue is nil", at, ts.DeadLetterQueue)
		case ts.Input != "" && ts.InputPath != "":
			return nil, fmt.Errorf("%s has both Input and InputPath; give one", at)
		}
		if ts.Input != "" {
			if !json.Valid([]byte(ts.Input)) {
				return nil, fmt.Errorf("%s: Input is not JSON text", at)
			}
			t.input = []byte(ts.Input)
		}
		if ts.InputPath != "" {
			path, err := parseInputPath(ts.InputPath)
			if err != nil {
				return nil, fmt.Errorf("%s: InputPath: %w", at, err)
			}
			t.path = path
		}
		r.targets = append(r.targets, t)
	}
	return r, nil
}

// Put matches the event against the enabled rules and starts delivering
// it to each target of each matching rule, then returns: deliveries run
// in goroutines the Bus owns, retried by the target's retry policy, and
// what Close interrupts is logged and dropped. Unset envelope fields are
// filled: Version "0", a new ID, Time now, the bus's Region and
// AccountID. ctx is not the deliveries' (they outlive the call). Put
// returns ErrClosed after Close, and an error when the event's detail is
// not a JSON object.
func (b *Bus) Put(ctx context.Context, ev Event) error {
	_, err := b.dispatch(ctx, ev, false)
	return err
}

// Deliver is Put that waits until each delivery has ended: delivered,
// sent to the target's dead-letter queue, or logged and dropped for a
// target without one, as EventBridge does. It returns nil then. It returns
// an error when ctx ends or the Bus closes first, after the deliveries
// still running have stopped (a target may have the event already: it
// gets it again when the caller delivers it again), and when sending to a
// dead-letter queue failed, so that a caller that delivers the event
// again loses nothing.
func (b *Bus) Deliver(ctx context.Context, ev Event) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results, err := b.dispatch(ctx, ev, true)
	if err != nil {
		return err
	}
	var errs []error
	for i, ch := range results {
		select {
		case err := <-ch:
			if err != nil {
				errs = append(errs, err)
			}
		case <-ctx.Done():
			// The deliveries stop with ctx; wait for them, so that none
			// reaches its target after Deliver returned.
			for _, ch := range results[i:] {
				<-ch
			}
			return fmt.Errorf("delivering event %s: %w", ev.ID, ctx.Err())
		}
	}
	return errors.Join(errs...)
}

// dispatch fills the event, matches it and starts its deliveries; with
// wait, each sends its end on its channel and stops when ctx ends.
func (b *Bus) dispatch(ctx context.Context, ev Event, wait bool) ([]chan error, error) {
	if ev.ID == "" {
		ev.ID = b.newID()
	}
	if ev.Time.IsZero() {
		ev.Time = b.clock.Now()
	}
	if ev.Region == "" {
		ev.Region = b.region
	}
	if ev.Account == "" {
		ev.Account = b.accountID
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("putting event %s: %w", ev.ID, err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("decoding event %s: %w", ev.ID, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, fmt.Errorf("putting event %s: %w", ev.ID, ErrClosed)
	}
	accepted := b.clock.Now()
	var results []chan error
	for _, r := range b.rules {
		if !r.src.Enabled || r.pattern == nil || !r.pattern.Match(m) {
			continue
		}
		results = append(results, b.deliverLocked(ctx, r, ev.ID, body, m, accepted, wait)...)
	}
	return results, nil
}

// deliverLocked starts the deliveries of an event to the targets of rule
// r; b.mu is held.
func (b *Bus) deliverLocked(ctx context.Context, r *rule, id string, body []byte, m map[string]any, accepted time.Time, wait bool) []chan error {
	var results []chan error
	{
		for _, t := range r.targets {
			d := &delivery{bus: b, t: t, id: id, body: body, event: m, accepted: accepted}
			dctx, cancel := b.ctx, context.CancelFunc(func() {})
			var ch chan error
			if wait {
				dctx, cancel = context.WithCancel(b.ctx)
				stop := context.AfterFunc(ctx, cancel)
				ch = make(chan error, 1)
				results = append(results, ch)
				cancelOnly := cancel
				cancel = func() { stop(); cancelOnly() }
			}
			b.wg.Add(1)
			go func() {
				defer b.wg.Done()
				defer cancel()
				err := d.run(dctx)
				if ch != nil {
					ch <- err
				} else if err != nil {
					b.log.Warn("event delivery abandoned", "event_id", d.id, "rule", r.src.LogicalID, "target", t.src.ID, "error", err)
				}
			}()
		}
	}
	return results
}

// Close stops retrying, interrupts the deliveries under way and waits for
// them until ctx ends. Deliver calls still waiting return ErrClosed. It
// returns an error when ctx ends first.
func (b *Bus) Close(ctx context.Context) error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.cancel()
	done := make(chan struct{})
	go func() {
		b.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("closing the event bus: deliveries still running: %w", ctx.Err())
	}
}

// delivery is one event on its way to one target.
type delivery struct {
	bus      *Bus
	t        *target
	id       string
	body     []byte
	event    map[string]any
	accepted time.Time
}

// failure is why an attempt failed.
type failure struct{ code, message string }

// run delivers until the target takes the event or the retry policy
// ends; it returns nil when the event was delivered, dead-lettered or
// dropped, and an error when ctx ended first or the dead-letter queue
// refused the event.
func (d *delivery) run(ctx context.Context) error {
	b, ts := d.bus, d.t.src
	payload, err := d.t.payload(d.body, d.event)
	if err != nil {
		return d.exhausted(ctx, failure{ErrorInvalidParameter, err.Error()}, 0, "")
	}
	for retries := 0; ; retries++ {
		if ctx.Err() != nil {
			return d.interrupted(ctx)
		}
		res, err := b.invoke(ctx, ts.Function, payload)
		if err == nil && res != nil && res.FunctionError == nil {
			if retries > 0 {
				b.log.Info("event delivered after retries", "event_id", d.id, "rule", d.t.rule.src.LogicalID, "target", ts.ID, "retries", retries)
			}
			return nil
		}
		if ctx.Err() != nil {
			return d.interrupted(ctx)
		}
		f := classify(ts.Function, res, err)
		b.log.Warn("event delivery failed", "event_id", d.id, "rule", d.t.rule.src.LogicalID, "target", ts.ID,
			"function", ts.Function, "attempt", retries+1, "error_code", f.code, "error", f.message)
		if retries >= ts.MaximumRetryAttempts {
			return d.exhausted(ctx, f, retries, RetryAttemptsExhausted)
		}
		delay := d.backoff(retries + 1)
		if b.clock.Now().Add(delay).Sub(d.accepted) > ts.MaximumEventAge {
			return d.exhausted(ctx, f, retries, EventAgeExhausted)
		}
		fired := make(chan struct{})
		stop := b.clock.AfterFunc(delay, func() { close(fired) })
		select {
		case <-fired:
		case <-ctx.Done():
			stop()
			return d.interrupted(ctx)
		}
	}
}

func (d *delivery) interrupted(ctx context.Context) error {
	if d.bus.ctx.Err() != nil {
		return fmt.Errorf("delivering event %s to target %s of rule %s: %w", d.id, d.t.src.ID, d.t.rule.src.LogicalID, ErrClosed)
	}
	return fmt.Errorf("delivering event %s to target %s of rule %s: %w", d.id, d.t.src.ID, d.t.rule.src.LogicalID, ctx.Err())
}

// backoff is the wait before the n-th retry (n from 1).
func (d *delivery) backoff(n int) time.Duration {
	ceiling := RetryMaxDelay
	if n <= 30 {
		ceiling = min(RetryBaseDelay<<(n-1), RetryMaxDelay)
	}
	return ceiling/2 + time.Duration(d.bus.rand()*float64(ceiling/2))
}

// exhausted ends a failed delivery: the event goes to the target's
// dead-letter queue with EventBridge's attributes, or is logged and
// dropped without one.
func (d *delivery) exhausted(ctx context.Context, f failure, retries int, condition string) error {
	b, ts := d.bus, d.t.src
	if ts.DeadLetterQueue == "" {
		b.log.Error("event dropped: the target has no dead-letter queue", "event_id", d.id, "rule", d.t.rule.src.LogicalID,
			"target", ts.ID, "error_code", f.code, "error", f.message, "retries", retries, "condition", condition)
		return nil
	}
	attrs := map[string]string{
		AttrRuleARN:       d.t.rule.src.ARN,
		AttrTargetARN:     ts.ARN,
		AttrErrorCode:     f.code,
		AttrErrorMessage:  f.message,
		AttrRetryAttempts: strconv.Itoa(retries),
	}
	if condition != "" {
		attrs[AttrExhaustedRetryCondition] = condition
	}
	for k, v := range attrs {
		if v == "" {
			delete(attrs, k) // SQS refuses empty attribute values
		}
	}
	if err := b.send(ctx, ts.DeadLetterQueue, string(d.body), attrs); err != nil {
		if ctx.Err() != nil {
			return d.interrupted(ctx)
		}
		return fmt.Errorf("sending event %s to dead-letter queue %s of target %s of rule %s: %w", d.id, ts.DeadLetterQueue, ts.ID, d.t.rule.src.LogicalID, err)
	}
	b.log.Warn("event sent to the dead-letter queue", "event_id", d.id, "rule", d.t.rule.src.LogicalID, "target", ts.ID,
		"queue", ts.DeadLetterQueue, "error_code", f.code, "retries", retries, "condition", condition)
	return nil
}

func classify(function string, res *lambdaemu.Result, err error) failure {
	switch {
	case err != nil:
		return failure{ErrorConnectionFailure, fmt.Sprintf("invoking function %s: %v", function, err)}
	case res == nil:
		return failure{ErrorConnectionFailure, fmt.Sprintf("invoking function %s: no result", function)}
	case res.FunctionError.Type == lambdaemu.TimeoutErrorType:
		return failure{ErrorTimeout, fmt.Sprintf("function %s timed out: %s", function, res.FunctionError.Message)}
	}
	return failure{ErrorSDKClient, fmt.Sprintf("function %s returned an error: %s", function, res.FunctionError.Error())}
}

// payload is what the target receives: its Input, the part of the event
// its InputPath selects, or the event.
func (t *target) payload(body []byte, event map[string]any) ([]byte, error) {
	switch {
	case t.input != nil:
		return t.input, nil
	case t.path != nil:
		v, ok := selectPath(event, t.path)
		if !ok {
			return nil, fmt.Errorf("InputPath %s selects nothing in the event", t.src.InputPath)
		}
		return json.Marshal(v)
	}
	return body, nil
}

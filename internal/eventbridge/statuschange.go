package eventbridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/recorder"
	"github.com/aiflow/aiflow/internal/sfn"
)

// DefaultSubscription is the name of StatusChanges' durable subscription
// when StatusChangesParams.Name is empty.
const DefaultSubscription = "stack-eventbridge"

// maxPayload is the combined size of input and output past which Step
// Functions leaves the input out of a status change, and the size of an
// output past which it leaves the output out (EventBridge's quota).
const maxPayload = 248 * 1024

// Subscriber opens durable subscriptions to the event store;
// *eventstore.Store is one.
type Subscriber interface {
	Subscribe(opts eventstore.SubscriptionOptions) (*eventstore.Subscription, error)
}

// Deliverer delivers an event and reports when every target has it (or
// its dead-letter queue); *Bus is one.
type Deliverer interface {
	Deliver(ctx context.Context, ev Event) error
}

// ExecutionDescriber describes an execution; the engine (sfn.Executions)
// and the sfn client are ones.
type ExecutionDescriber interface {
	DescribeExecution(ctx context.Context, arn string) (sfn.Execution, error)
}

// StatusChangesParams configure NewStatusChanges.
type StatusChangesParams struct {
	// Store is the event store the local engine writes its history to;
	// required.
	Store Subscriber
	// Bus receives the status changes; required.
	Bus Deliverer
	// Executions gives the start of an execution whose ExecutionStarted
	// this process did not see (before a restart); required.
	Executions ExecutionDescriber
	// Name is the subscription's name; empty is DefaultSubscription.
	Name string
	// Region and AccountID are the events' (an execution ARN's own when
	// empty).
	Region, AccountID string
	// RetryDelay and MaxRetryDelay bound the pause before a status change
	// whose delivery failed is delivered again (the subscription's
	// defaults when zero).
	RetryDelay, MaxRetryDelay time.Duration
	// Logger receives what cannot be read; nil discards.
	Logger *slog.Logger
}

// StatusChanges turns the local engine's durable history into "Step
// Functions Execution Status Change" events on a Bus, as Step Functions
// sends them to EventBridge: one for each ExecutionStarted (RUNNING),
// ExecutionSucceeded, ExecutionFailed, ExecutionTimedOut and
// ExecutionAborted history event. (The engine has no ExecutionRedriven.)
//
// It reads the history with a durable subscription of the event store,
// and delivers each status change with Deliverer.Deliver, which returns
// once every matching target took the event or its dead-letter queue did:
// the subscription's checkpoint moves past a history batch only then. So
// delivery is at least once across restarts and crashes, and a clean
// Close loses nothing: a delivery Close interrupts is not checkpointed and
// is made again by the next Run. The other choice, a durable Put (the
// event stored before it is delivered), would let later status changes
// overtake a failing one; this one keeps the order of each execution's
// status changes (and of all of them), at the price that a target failing
// for long holds back the status changes after it, for at most its retry
// policy.
//
// The event's id is derived from the history batch's id and the history
// event's id, so an event delivered again has the same id. The recorder's
// own copies of a history (events whose actor is recorder.Actor) are not
// status changes and are skipped.
type StatusChanges struct {
	p   StatusChangesParams
	sub *eventstore.Subscription

	mu      sync.Mutex
	started map[string]startInfo // the executions seen starting, until they end
	cancel  context.CancelFunc
	done    chan struct{}
	closed  bool
}

// startInfo is what a status change needs of its execution's start.
type startInfo struct {
	stateMachineARN string
	startDate       time.Time
	input           string
}

// NewStatusChanges returns a StatusChanges; Run starts it. It returns an
// error when Store, Bus or Executions is missing or the subscription
// cannot be made.
func NewStatusChanges(p StatusChangesParams) (*StatusChanges, error) {
	if p.Store == nil || p.Bus == nil || p.Executions == nil {
		return nil, errors.New("making the status change source: StatusChangesParams.Store, Bus and Executions are required")
	}
	if p.Name == "" {
		p.Name = DefaultSubscription
	}
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	s := &StatusChanges{p: p, started: map[string]startInfo{}}
	sub, err := p.Store.Subscribe(eventstore.SubscriptionOptions{
		Name: p.Name, Handler: s.handle, RetryDelay: p.RetryDelay, MaxRetryDelay: p.MaxRetryDelay, Logger: p.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("making the status change source: %w", err)
	}
	s.sub = sub
	return s, nil
}

// Run delivers status changes until ctx ends or Close is called, and
// returns nil then; while another process holds the subscription it
// waits. It returns an error when called twice or after Close.
func (s *StatusChanges) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.closed || s.done != nil {
		s.mu.Unlock()
		return errors.New("running the status change source: it runs already or is closed")
	}
	ctx, cancel := context.WithCancel(ctx)
	s.cancel, s.done = cancel, make(chan struct{})
	s.mu.Unlock()
	defer close(s.done)
	defer cancel()
	err := s.sub.Run(ctx)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// Close stops Run and waits for it until ctx ends; the status change being
// delivered, if any, is delivered again by the next Run. It returns an
// error when ctx ends first.
func (s *StatusChanges) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	cancel, done := s.cancel, s.done
	s.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("closing the status change source: %w", ctx.Err())
	}
}

// statusOf maps the history events that change an execution's status.
var statusOf = map[string]sfn.ExecutionStatus{
	"ExecutionStarted":   sfn.StatusRunning,
	"ExecutionRedriven":  sfn.StatusRunning, // RUNNING again
	"ExecutionSucceeded": sfn.StatusSucceeded,
	"ExecutionFailed":    sfn.StatusFailed,
	"ExecutionTimedOut":  sfn.StatusTimedOut,
	"ExecutionAborted":   sfn.StatusAborted,
}

// eventNamespace is the UUIDv5 namespace of the status change events' ids.
var eventNamespace = uuid.MustParse("6f1b7a52-2f0c-4d43-9a55-1b0b0c7de7a1")

// executionMarker is in every batch that holds an Execution* history
// event: a cheap test before decoding.
var executionMarker = []byte(`"Execution`)

func (s *StatusChanges) handle(ctx context.Context, ev eventstore.Event) error {
	arn := ev.Metadata.CorrelationID
	if !strings.HasPrefix(ev.StreamID, "execution-") || ev.Metadata.Actor == recorder.Actor || arn == "" ||
		eventstore.ExecutionStreamID(arn) != ev.StreamID || !bytes.Contains(ev.Data, executionMarker) {
		return nil
	}
	var batch struct {
		Events []sfn.HistoryEvent `json:"events"`
	}
	if err := json.Unmarshal(ev.Data, &batch); err != nil {
		s.p.Logger.Error("skipping a history batch that cannot be read", "stream", ev.StreamID, "version", ev.Version, "error", err)
		return nil
	}
	for _, h := range batch.Events {
		status, ok := statusOf[h.Type]
		if !ok {
			continue
		}
		out, err := s.statusChange(ctx, arn, ev.ID, h, status)
		if err != nil {
			return err
		}
		if err := s.p.Bus.Deliver(ctx, out); err != nil {
			return fmt.Errorf("delivering the %s status change of %s: %w", status, arn, err)
		}
		if status != sfn.StatusRunning {
			s.mu.Lock()
			delete(s.started, arn)
			s.mu.Unlock()
		}
	}
	return nil
}

func (s *StatusChanges) statusChange(ctx context.Context, arn string, batchID uuid.UUID, h sfn.HistoryEvent, status sfn.ExecutionStatus) (Event, error) {
	start, err := s.start(ctx, arn, h)
	if err != nil {
		return Event{}, err
	}
	d := sfn.ExecutionStatusChange{ExecutionARN: arn, StateMachineARN: start.stateMachineARN, Name: nameOf(arn), Status: string(status),
		StartDate: start.startDate.UnixMilli()}
	input := start.input
	var output *string
	var failure *sfn.FailureDetails
	switch h.Type {
	case "ExecutionSucceeded":
		out := ""
		if h.ExecutionSucceeded != nil {
			out = h.ExecutionSucceeded.Output
		}
		output = &out
	case "ExecutionFailed":
		failure = h.ExecutionFailed
	case "ExecutionTimedOut":
		failure = h.ExecutionTimedOut
	case "ExecutionAborted":
		failure = h.ExecutionAborted
	}
	if status != sfn.StatusRunning {
		stop := h.Timestamp.UnixMilli()
		d.StopDate = &stop
	}
	if status == sfn.StatusFailed || status == sfn.StatusTimedOut || status == sfn.StatusAborted {
		var e, c string
		if failure != nil {
			e, c = failure.Error, failure.Cause
		}
		d.Error, d.Cause = &e, &c
	}
	d.InputDetails = &sfn.DataDetails{Included: true}
	if output != nil {
		d.OutputDetails = &sfn.DataDetails{Included: true}
		if len(*output) > maxPayload {
			output, d.OutputDetails.Included = nil, false
		}
	}
	d.Output = output
	if len(input)+len(ptrString(output)) > maxPayload {
		d.InputDetails.Included = false
	} else {
		d.Input = &input
	}
	body, err := json.Marshal(d)
	if err != nil {
		return Event{}, fmt.Errorf("encoding the status change of %s: %w", arn, err)
	}
	region, account := s.p.Region, s.p.AccountID
	if parts := strings.SplitN(arn, ":", 6); len(parts) == 6 {
		if region == "" {
			region = parts[3]
		}
		if account == "" {
			account = parts[4]
		}
	}
	return Event{
		Version: "0", ID: uuid.NewSHA1(eventNamespace, []byte(batchID.String()+"#"+strconv.FormatInt(h.ID, 10))).String(),
		DetailType: sfn.StatusChangeDetailType, Source: sfn.StatusChangeSource, Account: account, Region: region,
		Time: h.Timestamp, Resources: []string{arn}, Detail: body,
	}, nil
}

// start returns an execution's start: from its ExecutionStarted event,
// from an earlier one this process saw, or described by the engine.
func (s *StatusChanges) start(ctx context.Context, arn string, h sfn.HistoryEvent) (startInfo, error) {
	if h.Type == "ExecutionStarted" {
		info := startInfo{startDate: h.Timestamp}
		if d := h.ExecutionStarted; d != nil {
			info.stateMachineARN, info.input = d.StateMachineARN, d.Input
		}
		if info.stateMachineARN == "" {
			info.stateMachineARN = stateMachineOf(arn)
		}
		s.mu.Lock()
		s.started[arn] = info
		s.mu.Unlock()
		return info, nil
	}
	s.mu.Lock()
	info, ok := s.started[arn]
	s.mu.Unlock()
	if ok {
		return info, nil
	}
	x, err := s.p.Executions.DescribeExecution(ctx, arn)
	if err != nil {
		return startInfo{}, fmt.Errorf("describing execution %s for its status change: %w", arn, err)
	}
	return startInfo{stateMachineARN: x.StateMachineARN, startDate: x.StartDate, input: x.Input}, nil
}

// nameOf is the execution's name, the last part of its ARN.
func nameOf(arn string) string { return arn[strings.LastIndexByte(arn, ':')+1:] }

// stateMachineOf is the ARN of an execution's state machine:
// arn:...:execution:sm:name -> arn:...:stateMachine:sm.
func stateMachineOf(arn string) string {
	parts := strings.Split(arn, ":")
	if len(parts) < 8 || parts[5] != "execution" {
		return ""
	}
	return strings.Join(parts[:5], ":") + ":stateMachine:" + parts[6]
}

func ptrString(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/aiflow/aiflow/internal/blob"
	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/task"
	"github.com/aiflow/aiflow/internal/textgate"
)

// Handler runs the steps of one kind. Run returns the step's result, or an
// error: a *Failure or an *ai.Error names the failure a workflow catches,
// any other error fails the task as Steps.Internal. ctx ends at the step's
// deadline (see Runtime), when the task closes, or when the worker must
// stop; context.Cause(ctx) says which.
type Handler interface {
	Run(ctx context.Context, m Message) (Result, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, m Message) (Result, error)

// Run calls f.
func (f HandlerFunc) Run(ctx context.Context, m Message) (Result, error) { return f(ctx, m) }

// Result is what a step's task succeeds with; it lands at $.steps.<id>.
// Output is any JSON value; Usage, set by ai steps, counts tokens and cost.
type Result struct {
	Output any        `json:"output"`
	Usage  *StepUsage `json:"usage,omitempty"`
}

// RuntimeConfig configures NewRuntime.
type RuntimeConfig struct {
	// Callbacks answers the tasks. Required.
	Callbacks sfn.Callbacks
	// Handlers runs the steps, by kind ("ai", "mcp", ...). A message of a
	// kind without a handler fails its task with Steps.UnknownKind.
	Handlers map[string]Handler
	// HeartbeatInterval is how often SendTaskHeartbeat goes out while a
	// handler runs: 0 means 20 s; a negative value sends none.
	HeartbeatInterval time.Duration
	// DeadlineMargin is kept free before the invocation's deadline (the
	// Lambda function's timeout) to report a step that ran out of time:
	// 0 means 3 s.
	DeadlineMargin time.Duration
	// MaxConcurrency is the most messages of one batch handled at once:
	// 0 means 10.
	MaxConcurrency int
	// NowFunc is the clock the step's own deadline (its entered time
	// plus spec.timeout_seconds) is compared with; nil means time.Now.
	NowFunc func() time.Time
	// Logger receives what the runtime drops or retries; nil discards.
	Logger *slog.Logger
	// TracerProvider makes a consumer span per message (the child of its
	// AWSTraceHeader) and a client span per callback; nil means the
	// OpenTelemetry global (no-op until tracing is set up).
	TracerProvider trace.TracerProvider
	// Blobs keeps large results (package blob): the output of a step
	// marked large whose result's JSON is over BlobThreshold is stored
	// there and sent as a reference, and the references in every
	// message's data are resolved before its handler runs. nil makes no
	// references, and fails a message holding one with
	// Steps.BlobUnreadable.
	Blobs blob.Store
	// BlobThreshold is the size of a result, in bytes of JSON, above
	// which a large step's output is stored: 0 means
	// blob.DefaultThreshold.
	BlobThreshold int
	// MaxResolvedBytes bounds a message's data once its references are
	// resolved: 0 means blob.DefaultMaxResolvedBytes.
	MaxResolvedBytes int64
}

// Runtime runs the task steps of SQS events. Its Handle method is the
// Lambda handler of a step worker, and the local engine's queue handler.
type Runtime struct {
	callbacks   sfn.Callbacks
	handlers    map[string]Handler
	heartbeat   time.Duration
	margin      time.Duration
	concurrency int
	now         func() time.Time
	log         *slog.Logger
	tracer      trace.Tracer
	blobs       blob.Store
	threshold   int
	maxResolved int64
}

// NewRuntime returns a Runtime. It returns an error when Callbacks is nil.
func NewRuntime(cfg RuntimeConfig) (*Runtime, error) {
	if cfg.Callbacks == nil {
		return nil, errors.New("making the step runtime: RuntimeConfig.Callbacks is required")
	}
	r := &Runtime{
		callbacks:   cfg.Callbacks,
		handlers:    cfg.Handlers,
		heartbeat:   cfg.HeartbeatInterval,
		margin:      cfg.DeadlineMargin,
		concurrency: cfg.MaxConcurrency,
		now:         cfg.NowFunc,
		log:         cfg.Logger,
		tracer:      tracerOf(cfg.TracerProvider),
		blobs:       cfg.Blobs,
		threshold:   cfg.BlobThreshold,
		maxResolved: cfg.MaxResolvedBytes,
	}
	if r.threshold <= 0 {
		r.threshold = blob.DefaultThreshold
	}
	if r.heartbeat == 0 {
		r.heartbeat = 20 * time.Second
	}
	if r.margin <= 0 {
		r.margin = 3 * time.Second
	}
	if r.concurrency <= 0 {
		r.concurrency = 10
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	return r, nil
}

// Handle runs every message of a batch, at most MaxConcurrency at once, and
// reports in BatchItemFailures the messages to receive again: those whose
// callback failed for a reason that may pass (the step runs again), and
// those too malformed to name a task (they end in the dead-letter queue).
// A callback for a task that is gone (TaskTimedOut, InvalidToken) is
// dropped. Before its step runs, each message's task token is checked
// (one SendTaskHeartbeat): a message whose token no task awaits, or whose
// token belongs to another execution, is dropped with nothing run. Handle never returns an error, so the batch is never retried
// whole.
func (r *Runtime) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var (
		resp events.SQSEventResponse
		mu   sync.Mutex
		wg   sync.WaitGroup
	)
	sem := make(chan struct{}, r.concurrency)
	for _, rec := range ev.Records {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := r.handleMessage(ctx, rec); err != nil {
				r.log.WarnContext(ctx, "step message left for a retry", "message_id", rec.MessageId, "error", err)
				mu.Lock()
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return resp, nil
}

// Why a handler's context ends, as context.Cause reports it.
var (
	// ErrWorkerDeadline is the cause when the invocation's deadline, less
	// the margin, arrives.
	ErrWorkerDeadline = errors.New("the worker's invocation deadline is near")
	// ErrStepDeadline is the cause when the step's own timeout passes.
	ErrStepDeadline = errors.New("the step's timeout passed")
	// ErrTaskClosed is the cause when a heartbeat learns that the task is
	// gone: it timed out, or its execution stopped.
	ErrTaskClosed = errors.New("the task closed")
)

// handleMessage runs one message and calls back, in the message's span.
// It returns an error only when the message should be received again.
func (r *Runtime) handleMessage(ctx context.Context, rec events.SQSMessage) (err error) {
	ctx, span := r.startMessage(ctx, rec)
	defer func() { endSpan(span, err) }()
	m, err := task.Decode(rec.Body)
	if err != nil {
		if m.TaskToken == "" {
			return err
		}
		name := CodeMalformedMessage
		if errors.Is(err, task.ErrUnsupportedVersion) {
			name = task.CodeUnsupportedVersion
		}
		return r.fail(ctx, m.TaskToken, &Failure{Name: name, Cause: err.Error()})
	}
	ctx = describeMessage(ctx, span, m)
	if ok, err := r.authorize(ctx, m); !ok {
		return err
	}
	token := m.TaskToken
	h := r.handlers[m.Step.Kind]
	if h == nil {
		return r.fail(ctx, token, Failf(CodeUnknownKind, "this worker runs no %q steps (step %q)", m.Step.Kind, m.Step.ID))
	}
	m, err = r.resolveData(ctx, m)
	if err != nil {
		if f := (*Failure)(nil); errors.As(err, &f) {
			return r.fail(ctx, token, f)
		}
		return err
	}
	result, err := r.run(ctx, h, m)
	if errors.Is(err, ErrTaskClosed) {
		r.log.InfoContext(ctx, "task closed while its step ran; its result is dropped")
		return nil
	}
	if err != nil {
		f := failureOf(err)
		span.SetAttributes(attribute.String(attrErrorName, f.Name))
		span.SetStatus(codes.Error, f.Name)
		return r.fail(ctx, token, f)
	}
	return r.succeed(ctx, m, result)
}

// authorize reports whether m may run, by sfn.CheckTaskToken: one
// SendTaskHeartbeat per message. A message that fails the check is
// dropped (logged) with no effect and no callback: a forged token, another
// execution's token, or the token of a task that closed. It returns an
// error, with false, only when the check itself could not be made (the
// message comes again).
func (r *Runtime) authorize(ctx context.Context, m Message) (bool, error) {
	err := sfn.CheckTaskToken(ctx, r.callbacks, m.TaskToken, m.Execution.ID)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, sfn.ErrTaskTokenRefused):
		r.log.WarnContext(ctx, "task message dropped before its step ran", "error", err)
		return false, nil
	}
	return false, fmt.Errorf("step %s: %w", m.Step.ID, err)
}

// run calls the handler with a context that ends at the step's deadline,
// sending heartbeats meanwhile.
func (r *Runtime) run(ctx context.Context, h Handler, m Message) (Result, error) {
	hctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if d, ok := ctx.Deadline(); ok {
		var stop context.CancelFunc
		hctx, stop = context.WithDeadlineCause(hctx, d.Add(-r.margin), ErrWorkerDeadline)
		defer stop()
	}
	if d, ok := r.stepDeadline(m); ok {
		// The step's deadline is on Step Functions' clock; what is left of
		// it is measured on ours.
		var stop context.CancelFunc
		hctx, stop = context.WithTimeoutCause(hctx, d.Sub(r.now()), ErrStepDeadline)
		defer stop()
	}
	done := make(chan struct{})
	var beats sync.WaitGroup
	if r.heartbeat > 0 {
		beats.Go(func() { r.beat(ctx, m, done, cancel) })
	}
	result, err := h.Run(hctx, m)
	close(done)
	beats.Wait()
	cause := context.Cause(hctx)
	switch {
	case errors.Is(cause, ErrTaskClosed):
		return Result{}, ErrTaskClosed
	case err != nil && (errors.Is(cause, ErrWorkerDeadline) || errors.Is(cause, ErrStepDeadline)):
		// Whatever the handler made of its context's end, the step ran out
		// of time: say so, and which deadline it was.
		f := timeoutFailure(m, cause, r.margin)
		f.Cause += "; last error: " + failureOf(err).Cause
		return Result{}, f
	}
	return result, err
}

// stepDeadline is when the step's state times out: its entered time plus
// spec.timeout_seconds.
func (r *Runtime) stepDeadline(m Message) (time.Time, bool) {
	var spec struct {
		TimeoutSeconds float64 `json:"timeout_seconds"`
	}
	if json.Unmarshal(m.Spec, &spec) != nil || spec.TimeoutSeconds <= 0 {
		return time.Time{}, false
	}
	entered, ok := m.Step.Entered()
	if !ok {
		return time.Time{}, false
	}
	return entered.Add(time.Duration(spec.TimeoutSeconds * float64(time.Second))), true
}

// beat sends heartbeats until done closes. A heartbeat that finds the task
// gone cancels the handler.
func (r *Runtime) beat(ctx context.Context, m Message, done <-chan struct{}, cancel context.CancelCauseFunc) {
	t := time.NewTicker(r.heartbeat)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := r.callbacks.SendTaskHeartbeat(ctx, m.TaskToken)
		switch {
		case err == nil:
		case sfn.TaskGone(err):
			cancel(ErrTaskClosed)
			return
		default:
			r.log.WarnContext(ctx, "sending a heartbeat", "error", err)
		}
	}
}

// timeoutNames is the timeout error of each step kind.
var timeoutNames = map[string]string{"ai": "AI.Timeout", "mcp": "MCP.Timeout", "service": CodeServiceTimeout}

// timeoutFailure explains a handler that ran out of time.
func timeoutFailure(m Message, cause error, margin time.Duration) *Failure {
	name := timeoutNames[m.Step.Kind]
	if name == "" {
		name = "Steps.Timeout"
	}
	return &Failure{Name: name, Cause: TimeoutCause(m.Step.ID, cause, margin)}
}

// TimeoutCause says why step stopped, from the cause of its context's end.
func TimeoutCause(step string, cause error, margin time.Duration) string {
	switch {
	case errors.Is(cause, ErrWorkerDeadline):
		return fmt.Sprintf("step %q stopped %s before the worker's deadline (the Lambda function's timeout) so that it could report this; give the function a longer timeout than the step's, or the step a shorter one", step, margin)
	case errors.Is(cause, ErrStepDeadline):
		return fmt.Sprintf("step %q ran out of its timeout", step)
	}
	return fmt.Sprintf("step %q was cancelled: %v", step, cause)
}

// succeed sends the result, or fails the task when the result cannot be
// sent (too large, not JSON).
func (r *Runtime) succeed(ctx context.Context, m Message, result Result) error {
	out, err := json.Marshal(result)
	if err != nil {
		return r.fail(ctx, m.TaskToken, Failf(CodeInternal, "encoding the result of step %q: %v", m.Step.ID, err))
	}
	var te *textgate.Error
	if errors.As(textgate.JSON(out), &te) {
		return r.fail(ctx, m.TaskToken, Failf(CodeInvalidText, "the result of step %q is refused: %v", m.Step.ID, te))
	}
	if out, err = r.offload(ctx, m, result, out); err != nil {
		return err
	}
	if len(out) > sfn.MaxPayloadBytes {
		return r.fail(ctx, m.TaskToken, Failf(CodeOutputTooLarge, "the result of step %q has %d bytes; Step Functions takes at most %d%s", m.Step.ID, len(out), sfn.MaxPayloadBytes, r.tooLargeHint(m)))
	}
	cctx, span := r.startCallback(ctx, "SendTaskSuccess")
	err = r.callbacks.SendTaskSuccess(cctx, sfn.SendTaskSuccessInput{TaskToken: m.TaskToken, Output: string(out)})
	endSpan(span, err)
	var ee *sfn.Error
	switch {
	case err == nil:
		return nil
	case sfn.TaskGone(err):
		r.log.InfoContext(ctx, "task closed before its result arrived; the result is dropped", "error", err)
		return nil
	case errors.As(err, &ee) && (ee.Code == sfn.CodeValidation || ee.Code == sfn.CodeInvalidOutput):
		return r.fail(ctx, m.TaskToken, Failf(CodeInternal, "the result of step %q was refused: %s", m.Step.ID, ee.Message))
	}
	return fmt.Errorf("sending the result of step %s: %w", m.Step.ID, err)
}

// Limits of SendTaskFailure's fields.
const (
	maxErrorName = 256
	maxCause     = 32768
)

// fail sends a failure; a task that is gone drops it. The name and cause
// are cleaned of what the text gate refuses (a tool's or a model's error
// text may hold a NUL): they are for people, and must arrive.
func (r *Runtime) fail(ctx context.Context, token string, f *Failure) error {
	in := sfn.SendTaskFailureInput{TaskToken: token, Error: truncate(textgate.Clean(f.Name), maxErrorName), Cause: truncate(textgate.Clean(f.Cause), maxCause)}
	cctx, span := r.startCallback(ctx, "SendTaskFailure")
	span.SetAttributes(attribute.String(attrErrorName, in.Error))
	err := r.callbacks.SendTaskFailure(cctx, in)
	endSpan(span, err)
	switch {
	case err == nil:
		return nil
	case sfn.TaskGone(err):
		r.log.InfoContext(ctx, "task closed before its failure arrived; the failure is dropped", "error_name", f.Name, "error", err)
		return nil
	}
	return fmt.Errorf("sending the failure %s: %w", f.Name, err)
}

// truncate cuts s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && (s[cut]&0xC0) == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}

package mock

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/task"
)

// NoWorkerError is the error a task step fails with in `aiflow run` when
// no worker runs its kind in process and no mock answers it.
const NoWorkerError = "aiflow.NoWorker"

// Callbacks is what the Worker needs of the engine.
type Callbacks interface {
	SendTaskSuccess(ctx context.Context, in sfn.SendTaskSuccessInput) error
	SendTaskFailure(ctx context.Context, in sfn.SendTaskFailureInput) error
}

// Handler is a step worker: the in-process step runtime.
type Handler interface {
	Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error)
}

// WorkerConfig configures a Worker.
type WorkerConfig struct {
	// Replies answer the steps.
	Replies Set
	// Callbacks are the engine's task callbacks.
	Callbacks Callbacks
	// Runtime runs the steps without a reply whose kinds are in
	// RuntimeKinds; nil when no step runs in process.
	Runtime      Handler
	RuntimeKinds map[string]bool
	Logger       *slog.Logger
}

// Worker answers the messages of task steps from a Set, as a step
// worker behind an SQS event source does: it reads the task token and the
// step from the message and calls back with SendTaskSuccess or
// SendTaskFailure. A step without a reply, of a kind the runtime runs,
// goes to the runtime instead.
type Worker struct {
	mocks     Set
	callbacks Callbacks
	runtime   Handler
	// runtimeKinds are the kinds of the steps the runtime runs.
	runtimeKinds map[string]bool
	logger       *slog.Logger
}

// NewWorker returns a Worker; a nil Logger discards its warnings.
func NewWorker(cfg WorkerConfig) *Worker {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Worker{mocks: cfg.Replies, callbacks: cfg.Callbacks,
		runtime: cfg.Runtime, runtimeKinds: cfg.RuntimeKinds, logger: logger}
}

// Handle answers each message of a batch. A message it cannot read is
// reported as a batch item failure.
func (w *Worker) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, rec := range ev.Records {
		if w.forWorker(rec.Body) {
			r, _ := w.runtime.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{rec}})
			resp.BatchItemFailures = append(resp.BatchItemFailures, r.BatchItemFailures...)
			continue
		}
		if err := w.answer(ctx, rec.Body); err != nil {
			w.logger.Warn("answering a task step", "message_id", rec.MessageId, "error", err)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
	}
	return resp, nil
}

// forWorker reports whether a message goes to the in-process runtime: a
// step of a kind it runs, without a mock reply.
func (w *Worker) forWorker(body string) bool {
	if w.runtime == nil {
		return false
	}
	m, err := task.Decode(body)
	if err != nil {
		return false
	}
	if _, mocked := w.mocks.Reply(m.Step.ID, m.Step.Attempt); mocked {
		return false
	}
	return w.runtimeKinds[m.Step.Kind]
}

// answer answers one message from the replies. A message of a task
// version this worker does not read fails its task (rather than coming
// back again and again); one without a task token is left to the queue.
func (w *Worker) answer(ctx context.Context, body string) error {
	m, err := task.Decode(body)
	if err != nil && (m.TaskToken == "" || !errors.Is(err, task.ErrUnsupportedVersion)) {
		return err
	}
	r, ok := w.mocks.Reply(m.Step.ID, m.Step.Attempt)
	switch {
	case err != nil:
		err = w.callbacks.SendTaskFailure(ctx, sfn.SendTaskFailureInput{TaskToken: m.TaskToken, Error: task.CodeUnsupportedVersion, Cause: err.Error()})
	case !ok:
		err = w.callbacks.SendTaskFailure(ctx, sfn.SendTaskFailureInput{
			TaskToken: m.TaskToken,
			Error:     NoWorkerError,
			Cause: fmt.Sprintf("step %q (%s) has no worker in aiflow run: pass --mock FILE with a reply for %q",
				m.Step.ID, m.Step.Kind, m.Step.ID),
		})
	case r.Error != "":
		err = w.callbacks.SendTaskFailure(ctx, sfn.SendTaskFailureInput{TaskToken: m.TaskToken, Error: r.Error, Cause: r.Cause})
	default:
		err = w.callbacks.SendTaskSuccess(ctx, sfn.SendTaskSuccessInput{TaskToken: m.TaskToken, Output: `{"output":` + string(r.Output) + `}`})
	}
	var ee *sfn.Error
	if errors.As(err, &ee) && (ee.Code == sfn.CodeTaskTimedOut || ee.Code == sfn.CodeTaskDoesNotExist) {
		// The task closed before the reply (timed out, or the execution
		// stopped): nobody waits for it any more.
		return nil
	}
	if err != nil {
		return fmt.Errorf("answering step %s: %w", m.Step.ID, err)
	}
	return nil
}

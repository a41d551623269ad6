package mock

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aiflow/aiflow/internal/sfn"
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
	// Kinds is the kind of each task step by id, for the messages that do
	// not name it.
	Kinds map[string]string
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
	kinds     map[string]string
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
	return &Worker{mocks: cfg.Replies, kinds: cfg.Kinds, callbacks: cfg.Callbacks,
		runtime: cfg.Runtime, runtimeKinds: cfg.RuntimeKinds, logger: logger}
}

// stepMessage is what a worker reads of a task step's message.
type stepMessage struct {
	TaskToken string `json:"taskToken"`
	Step      struct {
		ID      string `json:"id"`
		Kind    string `json:"kind"`
		Attempt int    `json:"attempt"`
	} `json:"step"`
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
	var m stepMessage
	if json.Unmarshal([]byte(body), &m) != nil || m.TaskToken == "" {
		return false
	}
	if _, mocked := w.mocks.Reply(m.Step.ID, m.Step.Attempt); mocked {
		return false
	}
	kind := m.Step.Kind
	if kind == "" {
		kind = w.kinds[m.Step.ID]
	}
	return w.runtimeKinds[kind]
}

func (w *Worker) answer(ctx context.Context, body string) error {
	var m stepMessage
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		return fmt.Errorf("reading a step message: %w", err)
	}
	if m.TaskToken == "" {
		return errors.New("reading a step message: it has no taskToken")
	}
	r, ok := w.mocks.Reply(m.Step.ID, m.Step.Attempt)
	var err error
	switch {
	case !ok:
		kind := m.Step.Kind
		if kind == "" {
			kind = w.kinds[m.Step.ID]
		}
		err = w.callbacks.SendTaskFailure(ctx, sfn.SendTaskFailureInput{
			TaskToken: m.TaskToken,
			Error:     NoWorkerError,
			Cause: fmt.Sprintf("step %q (%s) has no worker in aiflow run: pass --mock FILE with a reply for %q",
				m.Step.ID, kind, m.Step.ID),
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

package enginecrash

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/engine/queue"
	"github.com/aiflow/aiflow/internal/enginestore"
	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/sfn"
)

// The child process is this test binary run again with childEnv set: its
// TestMain runs childMain instead of the tests. The parent passes the
// rest of its settings in these variables too.
const (
	childEnv       = "AIFLOW_CRASH_CHILD"
	databaseEnv    = "AIFLOW_CRASH_DATABASE_URL"
	workerLogEnv   = "AIFLOW_CRASH_WORKER_LOG"
	executionsEnv  = "AIFLOW_CRASH_EXECUTIONS"
	startEpochEnv  = "AIFLOW_CRASH_START_EPOCH" // unix nanoseconds of execution 0's start
	startSpaceEnv  = "AIFLOW_CRASH_START_SPACING"
	finalRunEnv    = "AIFLOW_CRASH_FINAL"
	childLogLevel  = slog.LevelInfo
	childQueueWait = 5 * time.Second // visibility timeout: a failed handler's message comes back this soon
	taskTime       = 30 * time.Millisecond
)

// The lines a child prints on stdout, for the parent to follow it.
const (
	lineReady    = "ready"    // the engine started: open executions resumed
	lineStarting = "starting" // followed by the execution's number
	lineStarted  = "started"  // followed by the execution's number
	lineDone     = "done"     // every execution closed (final run only)
)

// workerRecord is one line of the worker log, which every child appends
// to and the parent reads at the end. O_APPEND writes of one line survive
// a SIGKILL once the write returned.
type workerRecord struct {
	// Kind is "task" (a worker ran a queue task), "function" (the Score
	// function ran), "duplicate" (a worker sent its callback a second
	// time) or "callback" (a first callback failed).
	Kind  string `json:"kind"`
	Exec  int64  `json:"exec"`
	Step  string `json:"step,omitempty"`
	Token string `json:"token,omitempty"`
	Retry int    `json:"retry,omitempty"`
	// Success tells a duplicate success callback from a failure one.
	Success bool `json:"success,omitempty"`
	// Err is the callback's error, "" when it had none.
	Err string `json:"err,omitempty"`
	PID int    `json:"pid"`
}

type workerLog struct {
	mu  sync.Mutex
	f   *os.File
	pid int
}

func (l *workerLog) write(r workerRecord) {
	r.PID = l.pid
	b, _ := json.Marshal(r)
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = l.f.Write(append(b, '\n'))
}

// childMain runs the engine on the parent's database until it is killed
// or, in the final run, until every execution has closed. It returns the
// process's exit status.
func childMain() int {
	if err := runChild(context.Background()); err != nil {
		fmt.Fprintf(os.Stderr, "crash child: %v\n", err)
		return 2
	}
	return 0
}

type childConfig struct {
	databaseURL string
	workerLog   string
	executions  int
	startEpoch  time.Time
	spacing     time.Duration
	final       bool
}

func childConfigFromEnv() (childConfig, error) {
	c := childConfig{databaseURL: os.Getenv(databaseEnv), workerLog: os.Getenv(workerLogEnv), final: os.Getenv(finalRunEnv) == "1"}
	if c.databaseURL == "" || c.workerLog == "" {
		return c, fmt.Errorf("%s and %s must be set", databaseEnv, workerLogEnv)
	}
	n, err := strconv.Atoi(os.Getenv(executionsEnv))
	if err != nil || n <= 0 {
		return c, fmt.Errorf("%s=%q is not a positive number", executionsEnv, os.Getenv(executionsEnv))
	}
	c.executions = n
	epoch, err := strconv.ParseInt(os.Getenv(startEpochEnv), 10, 64)
	if err != nil {
		return c, fmt.Errorf("%s=%q is not unix nanoseconds", startEpochEnv, os.Getenv(startEpochEnv))
	}
	c.startEpoch = time.Unix(0, epoch)
	if c.spacing, err = time.ParseDuration(os.Getenv(startSpaceEnv)); err != nil {
		return c, fmt.Errorf("%s: %w", startSpaceEnv, err)
	}
	return c, nil
}

func runChild(ctx context.Context) error {
	cfg, err := childConfigFromEnv()
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: childLogLevel}))
	out := bufio.NewWriter(os.Stdout)
	var outMu sync.Mutex
	say := func(format string, args ...any) {
		outMu.Lock()
		defer outMu.Unlock()
		fmt.Fprintf(out, format+"\n", args...)
		_ = out.Flush()
	}

	f, err := os.OpenFile(cfg.workerLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("opening the worker log: %w", err)
	}
	defer f.Close()
	wlog := &workerLog{f: f, pid: os.Getpid()}

	pool, err := pgxpool.New(ctx, cfg.databaseURL)
	if err != nil {
		return fmt.Errorf("connecting to the database: %w", err)
	}
	defer pool.Close()
	evs, err := eventstore.Open(ctx, pool, eventstore.Options{Logger: logger})
	if err != nil {
		return fmt.Errorf("opening the event store: %w", err)
	}
	store, err := enginestore.New(ctx, pool, evs)
	if err != nil {
		return fmt.Errorf("opening the engine store: %w", err)
	}

	broker := queue.New(queue.Config{Region: region, AccountID: account, Logger: logger})
	defer broker.Close()
	functions := &engine.FunctionRegistry{}
	eng, err := engine.New(engine.Config{Store: store, Queues: broker, Functions: functions, Region: region, AccountID: account, Logger: logger})
	if err != nil {
		return fmt.Errorf("making the engine: %w", err)
	}
	defer eng.Close()

	functions.Register("Score", func(ctx context.Context, payload json.RawMessage) (json.RawMessage, error) {
		var p struct {
			Step  string `json:"step"`
			Input any    `json:"input"`
		}
		if err := json.Unmarshal(payload, &p); err != nil {
			return nil, &engine.FunctionError{Type: "Crash.BadInput", Message: err.Error()}
		}
		in, _ := p.Input.(map[string]any)
		wlog.write(workerRecord{Kind: "function", Exec: number(in["id"]), Step: p.Step})
		res, err := apply(p.Step, p.Input, 0)
		if err != nil {
			return nil, &engine.FunctionError{Type: "Crash.BadInput", Message: err.Error()}
		}
		return json.Marshal(res)
	})
	w := &worker{engine: eng, log: wlog}
	for _, name := range []string{queueAName, queueBName} {
		url, err := broker.CreateQueue(queue.QueueConfig{Name: name, URL: fmt.Sprintf("https://sqs.%s.amazonaws.com/%s/%s", region, account, name), VisibilityTimeout: childQueueWait})
		if err != nil {
			return fmt.Errorf("creating the queue %s: %w", name, err)
		}
		if _, err := broker.Subscribe(url, w.handle, queue.MappingConfig{BatchSize: 5, MaxConcurrency: 8, ReportBatchItemFailures: true, FunctionTimeout: childQueueWait}); err != nil {
			return fmt.Errorf("subscribing to %s: %w", name, err)
		}
	}

	if err := eng.Start(ctx); err != nil {
		return fmt.Errorf("starting the engine: %w", err)
	}
	say(lineReady)
	if _, err := eng.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: machineName, Definition: definition}); err != nil {
		return fmt.Errorf("creating the state machine: %w", err)
	}
	// Executions arrive over time, as they would in service: execution i
	// is due at startEpoch + i*spacing, so kills land among starts.
	// Starting again one that started before is harmless (same name and
	// input) or ExecutionAlreadyExists once it has closed.
	for i := range cfg.executions {
		if d := time.Until(cfg.startEpoch.Add(time.Duration(i) * cfg.spacing)); d > 0 {
			time.Sleep(d)
		}
		say("%s %d", lineStarting, i)
		_, err := eng.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: machineARN, Name: executionName(i), Input: executionInput(i)})
		var ee *sfn.Error
		if err != nil && !(errors.As(err, &ee) && ee.Code == sfn.CodeExecutionAlreadyExists) {
			return fmt.Errorf("starting %s: %w", executionName(i), err)
		}
		say("%s %d", lineStarted, i)
	}
	if !cfg.final {
		select {} // until the parent kills this process
	}
	for i := range cfg.executions {
		if err := eng.Wait(ctx, executionARN(i)); err != nil {
			return fmt.Errorf("waiting for %s: %w", executionName(i), err)
		}
	}
	// The last callback ends the last execution while its worker still
	// has its second callback to send: stop the workers, which waits for
	// running handlers, before the engine closes.
	if err := broker.Close(); err != nil {
		return fmt.Errorf("stopping the workers: %w", err)
	}
	say(lineDone)
	return nil
}

// worker is the step worker of both queues: what a Lambda function behind
// an SQS event source would be. It sends every callback twice, the second
// time to check that a repeated callback changes nothing.
type worker struct {
	engine *engine.Engine
	log    *workerLog
}

type stepMessage struct {
	Step  string `json:"step"`
	Token string `json:"token"`
	Input any    `json:"input"`
	Retry int    `json:"retry"`
}

func (w *worker) handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, m := range ev.Records {
		if err := w.run(ctx, m.Body); err != nil {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
	}
	return resp, nil
}

func (w *worker) run(ctx context.Context, body string) error {
	var msg stepMessage
	if err := json.Unmarshal([]byte(body), &msg); err != nil {
		return fmt.Errorf("decoding a step message: %w", err)
	}
	in, _ := msg.Input.(map[string]any)
	exec := number(in["id"])
	w.log.write(workerRecord{Kind: "task", Exec: exec, Step: msg.Step, Token: msg.Token, Retry: msg.Retry})
	out, stepErr := apply(msg.Step, msg.Input, msg.Retry)
	time.Sleep(taskTime) // a step takes a while, so kills find tasks in flight
	callback := func() error {
		if stepErr != nil {
			var se *stepError
			name, cause := "Crash.Unknown", stepErr.Error()
			if errors.As(stepErr, &se) {
				name, cause = se.name, se.cause
			}
			return w.engine.SendTaskFailure(ctx, sfn.SendTaskFailureInput{TaskToken: msg.Token, Error: name, Cause: cause})
		}
		b, err := json.Marshal(out)
		if err != nil {
			return err
		}
		return w.engine.SendTaskSuccess(ctx, sfn.SendTaskSuccessInput{TaskToken: msg.Token, Output: string(b)})
	}
	if err := callback(); err != nil {
		// A failure callback for a task whose failure an earlier run of
		// this message recorded is TaskTimedOut; anything else is noted
		// and the message comes back.
		w.log.write(workerRecord{Kind: "callback", Exec: exec, Step: msg.Step, Token: msg.Token, Success: stepErr == nil, Err: err.Error()})
		return err
	}
	err := callback()
	rec := workerRecord{Kind: "duplicate", Exec: exec, Step: msg.Step, Token: msg.Token, Success: stepErr == nil}
	if err != nil {
		rec.Err = err.Error()
	}
	w.log.write(rec)
	return nil
}

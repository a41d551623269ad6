package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"go.yaml.in/yaml/v3"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/engine/queue"
	"github.com/aiflow/aiflow/internal/schema"
	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/task"
	"github.com/aiflow/aiflow/internal/telemetry"
	"github.com/aiflow/aiflow/internal/workflow"
)

// NoWorkerError is the error a task step fails with in `aiflow run` when
// no worker runs its kind in process and no mock answers it.
const NoWorkerError = "aiflow.NoWorker"

// runQueues are the in-process queues `aiflow run` creates: one per
// substitution the compiler writes for a kind of task step.
var runQueues = []struct{ substitution, name string }{
	{workflow.AIQueueSubstitution, "ai-steps"},
	{workflow.MCPQueueSubstitution, "mcp-steps"},
	{workflow.ServiceQueueSubstitution, "service-steps"},
	{workflow.ApprovalQueueSubstitution, "approvals"},
}

// historyPoll is how often `aiflow run` reads the history for progress.
const historyPoll = 50 * time.Millisecond

const runUsage = "usage: aiflow run FILE [--input JSON | --input-file FILE] [--script FILE] [--mock FILE] [--timeout DURATION] [--catalog FILE]"

// cmdRun compiles a workflow and runs it once on the local engine in
// memory, with the ai step worker in process and the other task steps
// answered from a mock file: progress on stderr, the execution's output on
// stdout. It returns 0 when the execution
// succeeds, 1 when it fails or cannot run, 2 for bad usage.
func cmdRun(ctx context.Context, args []string, e env) int {
	fs, catalog := workflowFlags("run", e)
	input := fs.String("input", "", "the execution input, a JSON text (default {})")
	inputFile := fs.String("input-file", "", "read the execution input from this JSON file")
	mockFile := fs.String("mock", "", "answer task steps from this file of canned replies (JSON or YAML); a step with a reply here skips its worker")
	script := fs.String("script", lookupOr(e.lookup, "AIFLOW_AI_SCRIPT"), "answer every model of ai steps from this script of the scripted provider (default $AIFLOW_AI_SCRIPT; without one, ai steps call the providers their models name)")
	timeout := fs.Duration("timeout", 0, "stop the execution when it runs longer than this (default: no limit but the workflow's own)")
	files, err := parseAnywhere(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if len(files) != 1 {
		fmt.Fprintln(e.stderr, runUsage)
		return 2
	}
	if *input != "" && *inputFile != "" {
		fmt.Fprintln(e.stderr, "aiflow run: give the input with --input or with --input-file, not both")
		return 2
	}
	if *timeout < 0 {
		fmt.Fprintf(e.stderr, "aiflow run: --timeout %s is negative\n", *timeout)
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(e.stderr, "aiflow run: %v\n", err)
		return 1
	}

	built, err := buildWorkflow(files[0], *catalog)
	var ce *workflow.CompileError
	var ie *workflow.InvalidMachineError
	switch {
	case errors.As(err, &ie):
		return fail(fmt.Errorf("compiling %s: the compiler made an invalid state machine (a bug; please report it): %v", ie.File, ie.Problems[0]))
	case errors.As(err, &ce):
		return fail(fmt.Errorf("compiling %s: %w", ce.File, ce.Err))
	case err != nil:
		fmt.Fprintln(e.stderr, err)
		return 1
	}
	checked, definition := built.Checked, built.ASL
	in, err := readRunInput(*input, *inputFile)
	if err != nil {
		return fail(err)
	}
	if err := checkRunInput(checked.Workflow, in); err != nil {
		return fail(err)
	}
	steps := taskSteps(checked.Workflow.Steps)
	var mocks mockSet
	if *mockFile != "" {
		if mocks, err = loadMocks(*mockFile, checked.Workflow, steps); err != nil {
			return fail(err)
		}
	}
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	return runLocally(ctx, localRun{
		workflow:   checked.Workflow,
		definition: definition,
		input:      in,
		mocks:      mocks,
		script:     *script,
		steps:      steps,
		timeout:    *timeout,
	}, e)
}

// lookupOr returns the value of an environment variable, or "".
func lookupOr(lookup config.LookupFunc, name string) string {
	if lookup == nil {
		return ""
	}
	v, _ := lookup(name)
	return v
}

// readRunInput returns the execution input of --input or --input-file,
// "{}" when neither is given, after checking that it is one JSON value.
func readRunInput(input, inputFile string) (string, error) {
	where := "--input"
	switch {
	case inputFile != "":
		raw, err := os.ReadFile(inputFile)
		if err != nil {
			return "", fmt.Errorf("reading the input: %w", err)
		}
		input, where = string(raw), inputFile
	case input == "":
		return "{}", nil
	}
	var v any
	dec := json.NewDecoder(strings.NewReader(input))
	dec.UseNumber()
	err := dec.Decode(&v)
	if err == nil && dec.More() {
		err = errors.New("more than one JSON value")
	}
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			err = errors.New("text after the JSON value")
		}
	}
	if err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			line, col := lineCol(input, syn.Offset)
			return "", fmt.Errorf("%s:%d:%d: the input is not JSON: %v", where, line, col, err)
		}
		return "", fmt.Errorf("%s: the input is not JSON: %v", where, err)
	}
	return strings.TrimSpace(input), nil
}

// lineCol turns a byte offset of s into a line and column from 1.
func lineCol(s string, offset int64) (line, col int) {
	// The decoder reports the offset just past the byte at fault.
	offset = min(max(offset-1, 0), int64(len(s)))
	before := s[:offset]
	line = strings.Count(before, "\n") + 1
	return line, int(offset) - strings.LastIndexByte(before, '\n')
}

// checkRunInput validates the input against the workflow's input schema,
// reporting every mismatch with its JSON pointer.
func checkRunInput(wf *workflow.Workflow, input string) error {
	if wf.Input == nil || len(wf.Input.Raw) == 0 {
		return nil
	}
	s, err := schema.Compile("input.json", wf.Input.Raw)
	if err != nil {
		return fmt.Errorf("reading the input schema of %s: %w", wf.File, err)
	}
	mismatches, err := schema.Validate(s, []byte(input))
	var se *schema.Error
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("reading the input: %w", err)
	case err != nil || len(mismatches) == 0:
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "the input does not match the input schema of %s:%d:%d:", wf.File, wf.InputPos.Line, wf.InputPos.Col)
	for _, m := range mismatches {
		at := m.Pointer
		if at == "" {
			at = "/"
		}
		fmt.Fprintf(&b, "\n  at %s: %s", at, m.Reason)
	}
	return errors.New(b.String())
}

// taskSteps returns the kind of every task step of a flow, sub-flows
// included, by id.
func taskSteps(steps []*workflow.Step) map[string]string {
	out := map[string]string{}
	walkSteps(steps, func(s *workflow.Step) {
		if s.IsTask() {
			out[s.ID] = s.Kind
		}
	})
	return out
}

// stepKinds returns the kind of every step of a flow, sub-flows included,
// by id: the progress lines name them.
func stepKinds(steps []*workflow.Step) map[string]string {
	out := map[string]string{}
	walkSteps(steps, func(s *workflow.Step) { out[s.ID] = s.Kind })
	return out
}

// walkSteps calls f on every step of a flow and of its sub-flows.
func walkSteps(steps []*workflow.Step, f func(*workflow.Step)) {
	for _, s := range steps {
		f(s)
		if s.Parallel != nil {
			for _, b := range s.Parallel.Branches {
				walkSteps(b, f)
			}
		}
		if s.Map != nil {
			walkSteps(s.Map.Steps, f)
		}
	}
}

// mockReply is one canned reply of a task step: an output, or an error
// and a cause.
type mockReply struct {
	Output json.RawMessage
	Error  string
	Cause  string
}

// mockSet holds the replies of each step, by step id; a step's replies are
// used in order across its attempts, the last one for every later attempt.
type mockSet map[string][]mockReply

// reply returns the reply to attempt (from 0) of a step.
func (m mockSet) reply(step string, attempt int) (mockReply, bool) {
	replies := m[step]
	if len(replies) == 0 {
		return mockReply{}, false
	}
	return replies[min(max(attempt, 0), len(replies)-1)], true
}

// loadMocks reads a mock file: a JSON or YAML object whose keys are task
// step ids and whose values are a reply ({"output": ...} or {"error":
// "Name", "cause": "..."}) or a list of replies. Every problem is
// reported, naming the file and the step.
func loadMocks(file string, wf *workflow.Workflow, tasks map[string]string) (mockSet, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading the mock file: %w", err)
	}
	var doc any
	if strings.EqualFold(filepath.Ext(file), ".json") {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&doc); err != nil {
			return nil, fmt.Errorf("%s: not JSON: %w", file, err)
		}
	} else if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("%s: not YAML or JSON: %w", file, err)
	}
	top, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf(`%s: a mock file is an object of task step ids, such as {"classify": {"output": {"category": "billing"}}}`, file)
	}
	known := slices.Sorted(maps.Keys(tasks))
	all := stepKinds(wf.Steps)
	var problems []string
	set := mockSet{}
	for _, id := range slices.Sorted(maps.Keys(top)) {
		if _, isTask := tasks[id]; !isTask {
			if kind, ok := all[id]; ok {
				problems = append(problems, fmt.Sprintf("step %q is a %s step, which runs in the state machine and takes no mock", id, kind))
			} else {
				problems = append(problems, fmt.Sprintf("%s has no step %q (its task steps: %s)", wf.File, id, strings.Join(known, ", ")))
			}
			continue
		}
		var items []any
		switch v := top[id].(type) {
		case []any:
			if len(v) == 0 {
				problems = append(problems, fmt.Sprintf("step %q: the list of replies is empty", id))
				continue
			}
			items = v
		default:
			items = []any{v}
		}
		for i, item := range items {
			where := fmt.Sprintf("step %q", id)
			if len(items) > 1 || isList(top[id]) {
				where = fmt.Sprintf("step %q, reply %d", id, i+1)
			}
			r, err := parseMockReply(item)
			if err != nil {
				problems = append(problems, where+": "+err.Error())
				continue
			}
			set[id] = append(set[id], r)
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s: %s", file, strings.Join(problems, "\n  "+file+": "))
	}
	return set, nil
}

func isList(v any) bool { _, ok := v.([]any); return ok }

// parseMockReply reads one reply: exactly one of output and error, and a
// cause only beside an error.
func parseMockReply(v any) (mockReply, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return mockReply{}, errors.New(`a reply is an object: {"output": ...} or {"error": "Name", "cause": "..."}`)
	}
	for k := range obj {
		if k != "output" && k != "error" && k != "cause" {
			return mockReply{}, fmt.Errorf("unknown field %q in a reply (it takes output, or error and cause)", k)
		}
	}
	out, hasOutput := obj["output"]
	errName, hasError := obj["error"]
	cause, hasCause := obj["cause"]
	switch {
	case hasOutput && hasError:
		return mockReply{}, errors.New("a reply has an output or an error, not both")
	case hasOutput:
		if hasCause {
			return mockReply{}, errors.New("cause goes with error, not with output")
		}
		raw, err := json.Marshal(out)
		if err != nil {
			return mockReply{}, fmt.Errorf("the output cannot be JSON: %w", err)
		}
		return mockReply{Output: raw}, nil
	case hasError:
		name, ok := errName.(string)
		if !ok || name == "" {
			return mockReply{}, errors.New(`error is the name of an error, such as "AI.Throttled"`)
		}
		r := mockReply{Error: name}
		if hasCause {
			if r.Cause, ok = cause.(string); !ok {
				return mockReply{}, errors.New("cause is a text")
			}
		}
		return r, nil
	}
	return mockReply{}, errors.New(`a reply needs an output or an error: {"output": ...} or {"error": "Name", "cause": "..."}`)
}

// taskCallbacks is what a step worker needs of the engine.
type taskCallbacks interface {
	SendTaskSuccess(ctx context.Context, in sfn.SendTaskSuccessInput) error
	SendTaskFailure(ctx context.Context, in sfn.SendTaskFailureInput) error
}

// mockWorker answers the messages of task steps from a mockSet, as a step
// worker behind an SQS event source does: it reads the task token and the
// step from the message and calls back with SendTaskSuccess or
// SendTaskFailure.
type mockWorker struct {
	mocks     mockSet
	callbacks taskCallbacks
	// workers run the steps without a mock reply whose kinds they know.
	workers *localWorkers
	logger  *slog.Logger
}

// Handle answers each message of a batch. A message it cannot read is
// reported as a batch item failure.
func (w *mockWorker) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, rec := range ev.Records {
		if w.forWorker(rec.Body) {
			r, _ := w.workers.runtime.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{rec}})
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

// forWorker reports whether a message goes to the in-process workers: a
// step of a kind they run, without a mock reply.
func (w *mockWorker) forWorker(body string) bool {
	if w.workers == nil {
		return false
	}
	m, err := task.Decode(body)
	if err != nil {
		return false
	}
	if _, mocked := w.mocks.reply(m.Step.ID, m.Step.Attempt); mocked {
		return false
	}
	return w.workers.kinds[m.Step.Kind]
}

func (w *mockWorker) answer(ctx context.Context, body string) error {
	m, err := task.Decode(body)
	if err != nil && (m.TaskToken == "" || !errors.Is(err, task.ErrUnsupportedVersion)) {
		return err
	}
	r, ok := w.mocks.reply(m.Step.ID, m.Step.Attempt)
	switch {
	case err != nil:
		// A message of a version this worker does not read: fail its task
		// rather than receive the message again and again.
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

// localRun is one `aiflow run`.
type localRun struct {
	workflow   *workflow.Workflow
	definition string
	input      string
	mocks      mockSet
	script     string
	steps      map[string]string
	timeout    time.Duration
}

// runLocally runs the execution on an in-memory engine with in-process
// queues and mock workers, and reports it.
func runLocally(ctx context.Context, r localRun, e env) int {
	fail := func(err error) int {
		fmt.Fprintf(e.stderr, "aiflow run: %v\n", err)
		return 1
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	broker := queue.New(queue.Config{Logger: logger})
	defer broker.Close()
	eng, err := engine.New(engine.Config{Store: engine.NewMemoryStore(), Queues: broker, Logger: logger})
	if err != nil {
		return fail(err)
	}
	if err := eng.Start(ctx); err != nil {
		return fail(fmt.Errorf("starting the engine: %w", err))
	}
	defer eng.Close()

	workers, err := newLocalWorkers(ctx, eng, r.script, e.lookup, nil, nil, nil, logger)
	if err != nil {
		return fail(err)
	}
	defer workers.close()
	worker := &mockWorker{mocks: r.mocks, callbacks: eng, workers: workers, logger: logger}
	urls := map[string]string{}
	for _, q := range runQueues {
		url, err := broker.CreateQueue(queue.QueueConfig{Name: q.name, VisibilityTimeout: workerTimeout + time.Minute})
		if err != nil {
			return fail(fmt.Errorf("creating the queue %s: %w", q.name, err))
		}
		stop, err := broker.Subscribe(url, worker.Handle, queue.MappingConfig{ReportBatchItemFailures: true, MaxConcurrency: 10, FunctionTimeout: workerTimeout})
		if err != nil {
			return fail(fmt.Errorf("subscribing to the queue %s: %w", q.name, err))
		}
		defer stop()
		urls[q.substitution] = url
	}
	definition, err := workflow.SubstituteQueues(r.definition, urls)
	if err != nil {
		return fail(err)
	}

	sm, err := eng.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: r.workflow.Name, Definition: definition})
	if err != nil {
		return fail(fmt.Errorf("creating the state machine of %s: %w", r.workflow.File, err))
	}
	started, err := eng.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Input: r.input})
	if err != nil {
		return fail(fmt.Errorf("starting the execution: %w", err))
	}

	f, _ := e.stderr.(*os.File)
	p := newProgress(e.stderr, telemetry.IsTerminal(f), stepKinds(r.workflow.Steps))
	if err := followHistory(ctx, eng, started.ExecutionARN, p); err != nil {
		p.finish()
		stopCtx := context.Background()
		why, name := "was interrupted", "aiflow.Interrupted"
		if errors.Is(err, context.DeadlineExceeded) {
			why, name = fmt.Sprintf("did not finish within %s (--timeout)", r.timeout), "aiflow.Timeout"
		}
		if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			return fail(fmt.Errorf("following the execution: %w", err))
		}
		_, _ = eng.StopExecution(stopCtx, sfn.StopExecutionInput{ExecutionARN: started.ExecutionARN, Error: name, Cause: "the execution " + why})
		return fail(fmt.Errorf("the execution %s; it was stopped", why))
	}
	p.finish()
	d, err := eng.DescribeExecution(ctx, started.ExecutionARN)
	if err != nil {
		return fail(fmt.Errorf("describing the execution: %w", err))
	}
	elapsed := formatDuration(d.StopDate.Sub(d.StartDate))
	if d.Status != sfn.StatusSucceeded {
		p.line(fmt.Sprintf("✖ %s %s in %s", r.workflow.Name, d.Status, elapsed))
		msg := d.Error
		if d.Cause != "" {
			msg += ": " + d.Cause
		}
		return fail(fmt.Errorf("the execution %s: %s", strings.ToLower(string(d.Status)), msg))
	}
	p.line(fmt.Sprintf("✔ %s succeeded in %s", r.workflow.Name, elapsed))
	var out bytes.Buffer
	if err := json.Indent(&out, []byte(d.Output), "", "  "); err != nil {
		out.Reset()
		out.WriteString(d.Output)
	}
	out.WriteByte('\n')
	_, _ = e.stdout.Write(out.Bytes())
	return 0
}

// historyReader is what followHistory needs of the engine.
type historyReader interface {
	GetExecutionHistory(ctx context.Context, in sfn.GetExecutionHistoryInput) (sfn.GetExecutionHistoryOutput, error)
	Wait(ctx context.Context, executionARN string) error
}

// followHistory reads the execution's history as it grows and feeds every
// new event to p, until the execution closes or ctx ends. It reads when
// the execution closes and on a timer: every historyPoll on a terminal,
// whose live view shows time passing, and elsewhere less often the longer
// nothing happens (up to a second), so that long waits cost little.
func followHistory(ctx context.Context, h historyReader, arn string, p *progress) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	closed := make(chan struct{})
	go func() {
		_ = h.Wait(ctx, arn)
		close(closed)
	}()
	seen := 0
	interval := historyPoll
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
			p.event(ev)
			ended = ended || strings.HasPrefix(ev.Type, "Execution") && ev.Type != "ExecutionStarted"
		}
		if ended {
			return nil
		}
		switch {
		case p.live || len(all) > seen:
			interval = historyPoll
		default:
			interval = min(2*interval, time.Second)
		}
		seen = max(seen, len(all))
		p.redraw()
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

// progress turns history events into a line per step start and end. On a
// terminal it also keeps a live view of the steps running below those
// lines, redrawn as time passes; elsewhere it writes plain lines.
type progress struct {
	w      io.Writer
	live   bool
	kinds  map[string]string
	spans  map[int64]*span  // by the id of each event of the span
	iters  map[int64]string // map iteration suffix, such as "[2]", by event id
	now    func() time.Time // the live view's clock
	drawn  int              // lines of the live view now on screen
	nextID int
}

func newProgress(w io.Writer, live bool, kinds map[string]string) *progress {
	return &progress{w: w, live: live, kinds: kinds, spans: map[int64]*span{}, iters: map[int64]string{}, now: time.Now}
}

// event reads one history event.
func (p *progress) event(ev sfn.HistoryEvent) {
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
			p.line(fmt.Sprintf("▶ %s (%s)", s.name, s.kind))
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
		p.line(line)
	case ev.TaskSucceeded != nil:
		s.open = false
		p.line(fmt.Sprintf("✔ %s %s", s.name, formatDuration(ev.Timestamp.Sub(s.taskStart))))
	case ev.TaskFailed != nil:
		s.open = false
		p.line(fmt.Sprintf("✖ %s %s", s.name, failure(ev.TaskFailed.Error, ev.TaskFailed.Cause)))
	case ev.TaskTimedOut != nil:
		s.open = false
		p.line(fmt.Sprintf("✖ %s %s", s.name, failure(ev.TaskTimedOut.Error, ev.TaskTimedOut.Cause)))
	case ev.Type == "MapStateFailed" || ev.Type == "ParallelStateFailed":
		s.open = false
		p.line(fmt.Sprintf("✖ %s failed after %s", s.name, formatDuration(ev.Timestamp.Sub(s.start))))
	case ev.ExecutionFailed != nil && s.open:
		// A state that failed without a task (a path that is not there,
		// an intrinsic that failed) ends the execution at once.
		s.open = false
		p.line(fmt.Sprintf("✖ %s %s", s.name, ev.ExecutionFailed.Error))
	case ev.StateExited != nil:
		if !s.task {
			s.open = false
			p.line(fmt.Sprintf("✔ %s %s", s.name, formatDuration(ev.Timestamp.Sub(s.start))))
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

// line writes a line above the live view.
func (p *progress) line(s string) {
	p.clear()
	fmt.Fprintln(p.w, s)
	p.draw()
}

// redraw refreshes the live view's elapsed times.
func (p *progress) redraw() {
	if !p.live {
		return
	}
	p.clear()
	p.draw()
}

// finish removes the live view.
func (p *progress) finish() { p.clear() }

func (p *progress) clear() {
	if p.drawn > 0 {
		fmt.Fprintf(p.w, "\x1b[%dA\x1b[J", p.drawn)
		p.drawn = 0
	}
}

// draw shows the running steps, the longest running first, with how long
// they have run.
func (p *progress) draw() {
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
		fmt.Fprintf(p.w, "  ⋯ %s (%s) %s\n", s.name, s.kind, formatDuration(p.now().Sub(start)))
		p.drawn++
	}
}

// formatDuration shows a step's duration: 12ms, 1.2s, 2m3s.
func formatDuration(d time.Duration) string {
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

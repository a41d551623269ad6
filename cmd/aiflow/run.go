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
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/aiflow/aiflow/internal/asl"
	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/engine/queue"
	"github.com/aiflow/aiflow/internal/progress"
	"github.com/aiflow/aiflow/internal/sfn"
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

	checked, err := loadWorkflow(files[0], *catalog)
	if err != nil {
		fmt.Fprintln(e.stderr, err)
		return 1
	}
	definition, err := compileForRun(checked)
	if err != nil {
		return fail(err)
	}
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

// compileForRun compiles a checked workflow to the text of its state
// machine, with the queue substitutions left in.
func compileForRun(checked *workflow.Checked) (string, error) {
	m, err := workflow.Compile(checked)
	if err != nil {
		return "", fmt.Errorf("compiling %s: %w", checked.Workflow.File, err)
	}
	if problems := asl.Validate(m); len(problems) > 0 {
		return "", fmt.Errorf("compiling %s: the compiler made an invalid state machine (a bug; please report it): %v", checked.Workflow.File, problems[0])
	}
	raw, err := m.MarshalJSON()
	if err != nil {
		return "", fmt.Errorf("compiling %s: %w", checked.Workflow.File, err)
	}
	return string(raw), nil
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
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(wf.Input.Raw))
	if err != nil {
		return fmt.Errorf("reading the input schema of %s: %w", wf.File, err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("input.json", doc); err != nil {
		return fmt.Errorf("reading the input schema of %s: %w", wf.File, err)
	}
	schema, err := c.Compile("input.json")
	if err != nil {
		return fmt.Errorf("reading the input schema of %s: %w", wf.File, err)
	}
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(input))
	if err != nil {
		return fmt.Errorf("reading the input: %w", err)
	}
	err = schema.Validate(v)
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "the input does not match the input schema of %s:%d:%d:", wf.File, wf.InputPos.Line, wf.InputPos.Col)
	for _, u := range verr.BasicOutput().Errors {
		if u.Error == nil {
			continue
		}
		at := u.InstanceLocation
		if at == "" {
			at = "/"
		}
		fmt.Fprintf(&b, "\n  at %s: %s", at, u.Error.String())
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
	kinds     map[string]string
	callbacks taskCallbacks
	// workers run the steps without a mock reply whose kinds they know.
	workers *localWorkers
	logger  *slog.Logger
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
	var m stepMessage
	if json.Unmarshal([]byte(body), &m) != nil || m.TaskToken == "" {
		return false
	}
	if _, mocked := w.mocks.reply(m.Step.ID, m.Step.Attempt); mocked {
		return false
	}
	kind := m.Step.Kind
	if kind == "" {
		kind = w.kinds[m.Step.ID]
	}
	return w.workers.kinds[kind]
}

func (w *mockWorker) answer(ctx context.Context, body string) error {
	var m stepMessage
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		return fmt.Errorf("reading a step message: %w", err)
	}
	if m.TaskToken == "" {
		return errors.New("reading a step message: it has no taskToken")
	}
	r, ok := w.mocks.reply(m.Step.ID, m.Step.Attempt)
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
	worker := &mockWorker{mocks: r.mocks, kinds: r.steps, callbacks: eng, workers: workers, logger: logger}
	definition := r.definition
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
		definition = strings.ReplaceAll(definition, q.substitution, url)
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
	p := progress.New(e.stderr, telemetry.IsTerminal(f), stepKinds(r.workflow.Steps))
	if err := progress.Follow(ctx, eng, started.ExecutionARN, p); err != nil {
		p.Finish()
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
	p.Finish()
	d, err := eng.DescribeExecution(ctx, started.ExecutionARN)
	if err != nil {
		return fail(fmt.Errorf("describing the execution: %w", err))
	}
	elapsed := progress.FormatDuration(d.StopDate.Sub(d.StartDate))
	if d.Status != sfn.StatusSucceeded {
		p.Line(fmt.Sprintf("✖ %s %s in %s", r.workflow.Name, d.Status, elapsed))
		msg := d.Error
		if d.Cause != "" {
			msg += ": " + d.Cause
		}
		return fail(fmt.Errorf("the execution %s: %s", strings.ToLower(string(d.Status)), msg))
	}
	p.Line(fmt.Sprintf("✔ %s succeeded in %s", r.workflow.Name, elapsed))
	var out bytes.Buffer
	if err := json.Indent(&out, []byte(d.Output), "", "  "); err != nil {
		out.Reset()
		out.WriteString(d.Output)
	}
	out.WriteByte('\n')
	_, _ = e.stdout.Write(out.Bytes())
	return 0
}

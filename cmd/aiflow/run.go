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
	"os"
	"strings"
	"time"

	"github.com/aiflow/aiflow/internal/blob"
	"github.com/aiflow/aiflow/internal/clock"
	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/engine/queue"
	"github.com/aiflow/aiflow/internal/progress"
	"github.com/aiflow/aiflow/internal/registry"
	"github.com/aiflow/aiflow/internal/schema"
	"github.com/aiflow/aiflow/internal/secrets"
	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/steps/mock"
	"github.com/aiflow/aiflow/internal/telemetry"
	"github.com/aiflow/aiflow/internal/workflow"
)

// runQueues are the in-process queues `aiflow run` creates: one per
// substitution the compiler writes for a kind of task step.
var runQueues = []struct{ substitution, name string }{
	{workflow.AIQueueSubstitution, "ai-steps"},
	{workflow.MCPQueueSubstitution, "mcp-steps"},
	{workflow.ServiceQueueSubstitution, "service-steps"},
	{workflow.ApprovalQueueSubstitution, "approvals"},
}

const runUsage = "usage: aiflow run FILE [--input JSON | --input-file FILE] [--script FILE] [--mock FILE] [--timeout DURATION] [--skip-waits] [--catalog FILE]"

// cmdRun compiles a workflow and runs it once on the local engine in
// memory, with the ai step worker in process and the other task steps
// answered from a mock file: progress on stderr, the execution's output on
// stdout. It returns 0 when the execution
// succeeds, 1 when it fails or cannot run, 2 for bad usage.
func cmdRun(ctx context.Context, args []string, e env) int {
	// The configuration gives --script its default; its problems are
	// reported once the flags are known to be right.
	cfg, cfgErr := config.LoadRun(e.lookup)
	fs, catalog := workflowFlags("run", e)
	input := fs.String("input", "", "the execution input, a JSON text (default {})")
	inputFile := fs.String("input-file", "", "read the execution input from this JSON file")
	mockFile := fs.String("mock", "", "answer task steps from this file of canned replies (JSON or YAML); a step with a reply here skips its worker")
	script := fs.String("script", cfg.AIScript, "answer every model of ai steps from this script of the scripted provider (default $AIFLOW_AI_SCRIPT; without one, ai steps call the providers their models name)")
	timeout := fs.Duration("timeout", 0, "stop the execution when it runs longer than this (default: no limit but the workflow's own)")
	skipWaits := fs.Bool("skip-waits", false, "skip the time of waits, retry intervals and timeouts whenever no step is being worked on (--timeout still counts real time)")
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
	if cfgErr != nil {
		fmt.Fprintln(e.stderr, cfgErr)
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
	var mocks mock.Set
	if *mockFile != "" {
		if mocks, err = mock.Load(*mockFile, checked.Workflow); err != nil {
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
		workers:    cfg.Workers,
		timeout:    *timeout,
		skipWaits:  *skipWaits,
	}, e)
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

// localRun is one `aiflow run`.
type localRun struct {
	workflow   *workflow.Workflow
	definition string
	input      string
	mocks      mock.Set
	script     string
	workers    config.LocalWorkers
	timeout    time.Duration
	skipWaits  bool
}

// runLocally runs the execution on an in-memory engine with in-process
// queues and mock workers, and reports it.
func runLocally(ctx context.Context, r localRun, e env) int {
	fail := func(err error) int {
		fmt.Fprintf(e.stderr, "aiflow run: %v\n", err)
		return 1
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var clk clock.Clock // nil: the system's
	var skipping *clock.Skipping
	if r.skipWaits {
		skipping = clock.NewSkipping()
		defer skipping.Close()
		clk = skipping
	}
	broker := queue.New(queue.Config{Logger: logger, Clock: clk})
	defer broker.Close()
	eng, err := engine.New(engine.Config{Store: engine.NewMemoryStore(), Queues: broker, Logger: logger, Clock: clk})
	if err != nil {
		return fail(err)
	}
	if err := eng.Start(ctx); err != nil {
		return fail(fmt.Errorf("starting the engine: %w", err))
	}
	defer eng.Close()

	// Large step results live as long as the run, in memory.
	blobs := &blob.Memory{}
	params := localWorkersParams{Callbacks: eng, Script: r.script, Config: r.workers,
		Secrets: secrets.Env{LookupEnvFunc: e.lookup}, Logger: logger, Blobs: blobs}
	if unmockedServiceSteps(r.workflow, r.mocks) {
		// The example services, served in this process and registered in
		// a registry that lives as long as the run.
		reg, err := registry.New(registry.Config{Store: registry.NewMemoryStore(), Logger: logger})
		if err != nil {
			return fail(err)
		}
		services, err := startExampleServices(ctx, reg, "aiflow run", exampleServicesUnchecked, logger)
		if err != nil {
			return fail(err)
		}
		defer func() { _ = services.close(context.WithoutCancel(ctx)) }()
		params.Registry = reg
	}
	workers, err := newLocalWorkers(ctx, params)
	if err != nil {
		return fail(err)
	}
	defer workers.close()
	worker := mock.NewWorker(mock.WorkerConfig{Replies: r.mocks, Callbacks: eng,
		Runtime: workers.runtime, RuntimeKinds: workers.kinds, Logger: logger})
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
	p := progress.New(e.stderr, telemetry.IsTerminal(f), r.workflow.StepKinds())
	if skipping != nil {
		p.ShowSkips(skipping)
	}
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
	elapsed := p.Elapsed(d.StartDate, d.StopDate)
	if d.Status != sfn.StatusSucceeded {
		p.Line(fmt.Sprintf("✖ %s %s in %s", r.workflow.Name, d.Status, elapsed))
		msg := d.Error
		if d.Cause != "" {
			msg += ": " + d.Cause
		}
		return fail(fmt.Errorf("the execution %s: %s", strings.ToLower(string(d.Status)), msg))
	}
	p.Line(fmt.Sprintf("✔ %s succeeded in %s", r.workflow.Name, elapsed))
	output, err := blob.Resolve(ctx, blobs, []byte(d.Output), 0)
	if err != nil {
		return fail(fmt.Errorf("reading the large step results of the output: %w", err))
	}
	var out bytes.Buffer
	if err := json.Indent(&out, output, "", "  "); err != nil {
		out.Reset()
		out.Write(output)
	}
	out.WriteByte('\n')
	_, _ = e.stdout.Write(out.Bytes())
	return 0
}

// unmockedServiceSteps reports whether a service step of wf has no reply
// in mocks, so that the run needs services to call.
func unmockedServiceSteps(wf *workflow.Workflow, mocks mock.Set) bool {
	found := false
	workflow.Walk(wf.Steps, func(s *workflow.Step) {
		if s.Kind == workflow.KindService && len(mocks[s.ID]) == 0 {
			found = true
		}
	})
	return found
}

package metrics

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// HistoryEvent is what History reads of an execution's history event (the
// Step Functions event of that type): its type, its time, and for a state's
// entry or exit the state's name.
type HistoryEvent struct {
	Type      string
	Timestamp time.Time
	StateName string
}

// Workflow is what an execution runs: the workflow's name and version.
type Workflow struct {
	Name, Version string
}

// WorkflowFunc says which workflow and version a state machine runs now.
type WorkflowFunc func(ctx context.Context, stateMachineARN string) (Workflow, error)

// workflowTTL is how long History trusts what WorkflowFunc said of a state
// machine, so that it asks once per state machine and interval, not once per
// execution; a version published since shows in the labels within it.
const workflowTTL = 2 * time.Second

// HistoryConfig configures NewHistory.
type HistoryConfig struct {
	// Recorder receives the executions and states; nil records nothing.
	Recorder *Recorder
	// WorkflowFunc names the workflow and version of a state machine; nil
	// means the state machine's name and an empty version (a bare engine
	// knows no aiflow versions).
	WorkflowFunc WorkflowFunc
	// NowFunc is the clock of WorkflowFunc's cache; nil means time.Now.
	NowFunc func() time.Time
	// Logger receives WorkflowFunc's errors; nil discards.
	Logger *slog.Logger
}

// History turns an engine's history events, as its store commits them,
// into the execution and state metrics: executions started and finished
// per workflow, version and status, and state durations per state type
// (from each state's entry to its exit). It is safe for concurrent use.
type History struct {
	cfg HistoryConfig

	mu        sync.Mutex
	workflows map[string]cachedWorkflow // by state machine ARN
	open      map[string]*openExecution // by execution ARN
}

type cachedWorkflow struct {
	wf Workflow
	at time.Time
}

// openExecution is what History keeps of a running execution: its
// workflow, and when each of its states entered and not yet exited was
// entered (several for a state that runs in several Map iterations).
type openExecution struct {
	wf      Workflow
	entered map[string][]time.Time
}

// NewHistory returns a History.
func NewHistory(cfg HistoryConfig) *History {
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &History{cfg: cfg, workflows: map[string]cachedWorkflow{}, open: map[string]*openExecution{}}
}

// Forget drops what History knows of a state machine's workflow, when it
// is created or updated (a new version published).
func (h *History) Forget(stateMachineARN string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.workflows, stateMachineARN)
}

// Observe reads events, committed in order, of one execution of a state
// machine.
func (h *History) Observe(ctx context.Context, stateMachineARN, executionARN string, events []HistoryEvent) {
	if len(events) == 0 {
		return
	}
	x := h.execution(ctx, stateMachineARN, executionARN)
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ev := range events {
		switch ev.Type {
		case "ExecutionStarted":
			h.cfg.Recorder.ExecutionStarted(x.wf.Name, x.wf.Version)
			continue
		case "ExecutionSucceeded", "ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted":
			h.cfg.Recorder.ExecutionFinished(x.wf.Name, x.wf.Version, finishStatus(ev.Type))
			delete(h.open, executionARN)
			continue
		}
		if ev.StateName == "" {
			continue
		}
		if _, ok := strings.CutSuffix(ev.Type, "StateEntered"); ok {
			x.entered[ev.StateName] = append(x.entered[ev.StateName], ev.Timestamp)
			continue
		}
		kind, ok := strings.CutSuffix(ev.Type, "StateExited")
		if ts := x.entered[ev.StateName]; ok && len(ts) > 0 {
			h.cfg.Recorder.StateFinished(kind, ev.Timestamp.Sub(ts[0]))
			if len(ts) == 1 {
				delete(x.entered, ev.StateName)
			} else {
				x.entered[ev.StateName] = ts[1:]
			}
		}
	}
}

func finishStatus(typ string) string {
	switch typ {
	case "ExecutionSucceeded":
		return StatusSucceeded
	case "ExecutionTimedOut":
		return StatusTimedOut
	case "ExecutionAborted":
		return StatusAborted
	}
	return StatusFailed
}

// execution returns the open execution, resolving its workflow (outside
// the lock) the first time History sees it.
func (h *History) execution(ctx context.Context, stateMachineARN, executionARN string) *openExecution {
	h.mu.Lock()
	x, ok := h.open[executionARN]
	c, cached := h.workflows[stateMachineARN]
	h.mu.Unlock()
	if ok {
		return x
	}
	now := h.cfg.NowFunc()
	if !cached || now.Sub(c.at) >= workflowTTL {
		c = cachedWorkflow{wf: h.resolve(ctx, stateMachineARN), at: now}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.workflows[stateMachineARN] = c
	if x, ok := h.open[executionARN]; ok {
		return x
	}
	x = &openExecution{wf: c.wf, entered: map[string][]time.Time{}}
	h.open[executionARN] = x
	return x
}

func (h *History) resolve(ctx context.Context, stateMachineARN string) Workflow {
	name := stateMachineARN
	if i := strings.LastIndex(name, ":stateMachine:"); i >= 0 {
		name = name[i+len(":stateMachine:"):]
	}
	if h.cfg.WorkflowFunc == nil {
		return Workflow{Name: name}
	}
	wf, err := h.cfg.WorkflowFunc(ctx, stateMachineARN)
	if err != nil {
		h.cfg.Logger.WarnContext(ctx, "naming the workflow of a state machine for its metrics; its state machine's name stands in", "state_machine", stateMachineARN, "error", err)
		return Workflow{Name: name}
	}
	return wf
}

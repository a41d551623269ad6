package tracing

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/aiflow/aiflow/internal/sfn"
)

// leanEvent is the part of a history event StateSpans reads: not the
// inputs, outputs and parameters, which are most of an event's bytes.
type leanEvent struct {
	Timestamp       time.Time     `json:"timestamp"`
	Type            string        `json:"type"`
	ID              int64         `json:"id"`
	PreviousEventID int64         `json:"previousEventId"`
	StateEntered    *named        `json:"stateEnteredEventDetails"`
	StateExited     *named        `json:"stateExitedEventDetails"`
	TaskScheduled   *taskResource `json:"taskScheduledEventDetails"`
	TaskFailed      *failure      `json:"taskFailedEventDetails"`
	TaskTimedOut    *failure      `json:"taskTimedOutEventDetails"`
	ExecFailed      *failure      `json:"executionFailedEventDetails"`
	ExecAborted     *failure      `json:"executionAbortedEventDetails"`
	ExecTimedOut    *failure      `json:"executionTimedOutEventDetails"`
}

type named struct {
	Name string `json:"name"`
}

type taskResource struct {
	Resource string `json:"resource"`
}

type failure struct {
	Error string `json:"error"`
}

// DecodeEvents decodes a JSON array of history events (Step Functions'
// shape, as engine.CommitEvents returns a commit's) into what StateSpans
// reads of them: their type, IDs, timestamp, state names, task resource
// and error names. Inputs, outputs, parameters and causes are left out,
// which keeps tracing cheap next to the engine's own work.
func DecodeEvents(raw json.RawMessage) ([]sfn.HistoryEvent, error) {
	var lean []leanEvent
	if err := json.Unmarshal(raw, &lean); err != nil {
		return nil, fmt.Errorf("decoding history events: %w", err)
	}
	out := make([]sfn.HistoryEvent, len(lean))
	for i, e := range lean {
		ev := sfn.HistoryEvent{Timestamp: e.Timestamp, Type: e.Type, ID: e.ID, PreviousEventID: e.PreviousEventID}
		if e.StateEntered != nil {
			ev.StateEntered = &sfn.StateEnteredDetails{Name: e.StateEntered.Name}
		}
		if e.StateExited != nil {
			ev.StateExited = &sfn.StateExitedDetails{Name: e.StateExited.Name}
		}
		if e.TaskScheduled != nil {
			ev.TaskScheduled = &sfn.TaskScheduledDetails{Resource: e.TaskScheduled.Resource}
		}
		if e.TaskFailed != nil {
			ev.TaskFailed = &sfn.TaskFailureDetails{Error: e.TaskFailed.Error}
		}
		if e.TaskTimedOut != nil {
			ev.TaskTimedOut = &sfn.TaskFailureDetails{Error: e.TaskTimedOut.Error}
		}
		if e.ExecFailed != nil {
			ev.ExecutionFailed = &sfn.FailureDetails{Error: e.ExecFailed.Error}
		}
		if e.ExecAborted != nil {
			ev.ExecutionAborted = &sfn.FailureDetails{Error: e.ExecAborted.Error}
		}
		if e.ExecTimedOut != nil {
			ev.ExecutionTimedOut = &sfn.FailureDetails{Error: e.ExecTimedOut.Error}
		}
		out[i] = ev
	}
	return out, nil
}

package recorder

import (
	"strings"

	"github.com/aiflow/aiflow/internal/metrics"
	"github.com/aiflow/aiflow/internal/sfn"
)

// count counts what the history events history[from:to], just stored,
// say: executions started and finished (by status), and the time of each
// state that exited, from its entry (metrics.History's reading of the
// local engine's history, for the executions Step Functions runs). The
// events are counted when stored, and each is stored once, so a
// re-delivered status change counts nothing twice. The whole history is
// read for the entries of the states that exit in it. The workflow label
// is the state machine's name and the version is empty: Step Functions'
// history does not name aiflow's versions.
func count(r *metrics.Recorder, executionARN string, history []sfn.HistoryEvent, from, to int) {
	if r == nil || from >= to {
		return
	}
	workflow := stateMachineName(executionARN)
	// entered holds, per state name, the entries not yet exited, oldest
	// first (a state runs in several Map iterations at once).
	var entered map[string][]sfn.HistoryEvent
	for i, ev := range history[:to] {
		counted := i >= from
		switch ev.Type {
		case "ExecutionStarted":
			if counted {
				r.ExecutionStarted(workflow, "")
			}
			continue
		case "ExecutionSucceeded", "ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted":
			if counted {
				r.ExecutionFinished(workflow, "", status(ev.Type))
			}
			continue
		}
		switch {
		case ev.StateEntered != nil:
			if entered == nil {
				entered = map[string][]sfn.HistoryEvent{}
			}
			entered[ev.StateEntered.Name] = append(entered[ev.StateEntered.Name], ev)
		case ev.StateExited != nil:
			name := ev.StateExited.Name
			ins := entered[name]
			if len(ins) == 0 {
				continue
			}
			entered[name] = ins[1:]
			if kind, ok := strings.CutSuffix(ev.Type, "StateExited"); ok && counted {
				r.StateFinished(kind, ev.Timestamp.Sub(ins[0].Timestamp))
			}
		}
	}
}

// status is the status label of an execution's last event.
func status(typ string) string {
	switch typ {
	case "ExecutionSucceeded":
		return metrics.StatusSucceeded
	case "ExecutionTimedOut":
		return metrics.StatusTimedOut
	case "ExecutionAborted":
		return metrics.StatusAborted
	}
	return metrics.StatusFailed
}

// stateMachineName is the state machine's name in an execution's ARN
// (arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME), or the ARN
// itself when it is not one.
func stateMachineName(executionARN string) string {
	_, rest, ok := strings.Cut(executionARN, ":execution:")
	if !ok {
		return executionARN
	}
	machine, _, _ := strings.Cut(rest, ":")
	return machine
}

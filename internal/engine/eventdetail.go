package engine

import "github.com/aiflow/aiflow/internal/sfn"

// eventDetails reads sfn.HistoryEvent's detail fields, in their order
// there; the first is the struct's field 4 (after the header's four).
// freezeEvent reads them through it, in place of a reflective walk over
// every field of every event it freezes (TestEventDetailsAreEveryDetail
// holds it to sfn.HistoryEvent).
var eventDetails = [...]func(*sfn.HistoryEvent) any{
	func(ev *sfn.HistoryEvent) any { return set(ev.ExecutionStarted) },
	func(ev *sfn.HistoryEvent) any { return set(ev.ExecutionSucceeded) },
	func(ev *sfn.HistoryEvent) any { return set(ev.ExecutionFailed) },
	func(ev *sfn.HistoryEvent) any { return set(ev.ExecutionAborted) },
	func(ev *sfn.HistoryEvent) any { return set(ev.ExecutionTimedOut) },
	func(ev *sfn.HistoryEvent) any { return set(ev.ExecutionRedriven) },
	func(ev *sfn.HistoryEvent) any { return set(ev.StateEntered) },
	func(ev *sfn.HistoryEvent) any { return set(ev.StateExited) },
	func(ev *sfn.HistoryEvent) any { return set(ev.TaskScheduled) },
	func(ev *sfn.HistoryEvent) any { return set(ev.TaskStarted) },
	func(ev *sfn.HistoryEvent) any { return set(ev.TaskSubmitted) },
	func(ev *sfn.HistoryEvent) any { return set(ev.TaskSucceeded) },
	func(ev *sfn.HistoryEvent) any { return set(ev.TaskFailed) },
	func(ev *sfn.HistoryEvent) any { return set(ev.TaskTimedOut) },
	func(ev *sfn.HistoryEvent) any { return set(ev.LambdaFunctionScheduled) },
	func(ev *sfn.HistoryEvent) any { return set(ev.LambdaFunctionSucceeded) },
	func(ev *sfn.HistoryEvent) any { return set(ev.LambdaFunctionFailed) },
	func(ev *sfn.HistoryEvent) any { return set(ev.LambdaFunctionTimedOut) },
	func(ev *sfn.HistoryEvent) any { return set(ev.ActivityScheduled) },
	func(ev *sfn.HistoryEvent) any { return set(ev.ActivityStarted) },
	func(ev *sfn.HistoryEvent) any { return set(ev.ActivitySucceeded) },
	func(ev *sfn.HistoryEvent) any { return set(ev.ActivityFailed) },
	func(ev *sfn.HistoryEvent) any { return set(ev.ActivityTimedOut) },
	func(ev *sfn.HistoryEvent) any { return set(ev.ActivityScheduleFailed) },
	func(ev *sfn.HistoryEvent) any { return set(ev.MapRunStarted) },
	func(ev *sfn.HistoryEvent) any { return set(ev.MapRunFailed) },
	func(ev *sfn.HistoryEvent) any { return set(ev.MapStateStarted) },
	func(ev *sfn.HistoryEvent) any { return set(ev.MapIterationStarted) },
	func(ev *sfn.HistoryEvent) any { return set(ev.MapIterationSucceed) },
	func(ev *sfn.HistoryEvent) any { return set(ev.MapIterationFailed) },
	func(ev *sfn.HistoryEvent) any { return set(ev.MapIterationAborted) },
}

// firstDetailField is the index in sfn.HistoryEvent of the field
// eventDetails[0] reads.
const firstDetailField = 4

// set is p, or nil for a nil p (not a typed nil in an interface).
func set[T any](p *T) any {
	if p == nil {
		return nil
	}
	return p
}

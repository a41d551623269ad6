// Package engine is aiflow's local Step Functions: an interpreter of the
// Amazon States Language that runs state machines with the semantics of
// Standard workflows (and EXPRESS ones through StartSyncExecution), keeps
// every transition in a Store (in memory, or PostgreSQL through package
// enginestore), and answers the Step Functions API of package sfn in
// process. Its effects come in as fields of Config: the Store, the queue
// of sqs:sendMessage tasks, the Lambda functions, the Clock and the source
// of randomness.
//
// # Transitions
//
// Every change of an execution is a transition: the history events it
// adds and what recovery needs, written by one of the engine's commit
// writers in one Store.Commit with the transitions of other executions
// (a group commit). What a transition sets off (a message sent, a Lambda
// function invoked) runs only once it is written. A store that fails in a
// way that may pass (the database is unavailable) is retried with backoff
// until it is back or the engine closes; callers waiting for such a write
// are answered ServiceUnavailable after a second (it is still written once
// the store is back), and the timers of waiting tasks (TimeoutSeconds,
// HeartbeatSeconds) do not expire a task while the store fails: they wait
// for the store and then give the task a grace period (see outage.go).
// A store that refuses a group for
// good (an *sfn.Error other than ServiceUnavailable and
// ExecutionLimitExceeded, such as ConflictException or
// ValidationException, or an error wrapping ErrCommitRefused, such as
// data the database cannot hold) gets its halves written apart, until
// only the refused transitions are left, which are never written again.
// A transition refused for its data (ErrCommitRefused, ValidationException)
// is replaced by its execution's failure, ExecutionFailed with
// States.Runtime and a cause naming the refusal, and its caller gets a
// ValidationException naming it; nothing stays RUNNING.
// An execution whose transition is refused otherwise (ConflictException:
// another engine wrote it), or whose failure is refused too, is dropped
// from the engine (a refused start fails).
//
// # Lifecycle
//
// New builds an engine and Start loads the state machines, starts the
// commit writers and resumes every open execution from its history. The
// engine owns every goroutine it starts: the commit writers, the loop
// that runs what written transitions set off, each Lambda invocation and
// each timer callback (Wait states, retry intervals, timeouts and
// heartbeats). Close:
//
//   - refuses new work (calls return ServiceUnavailable) and stops the
//     executions' timers; a timer that fires later does nothing;
//   - cancels the context of Lambda invocations in flight, whose results
//     are then ignored;
//   - ends callers that wait for an execution to end (StartSyncExecution,
//     Wait), and workers that wait for an activity task (GetActivityTask),
//     with ServiceUnavailable;
//   - writes the transitions already made, trying a failing store once
//     more but not again;
//   - waits for every goroutine of the engine for at most
//     Config.CloseTimeout (DefaultCloseTimeout, 10s, when 0) on the
//     engine's Clock; then it cancels the commits still in flight, ends
//     the callers waiting for them with ServiceUnavailable, and returns an
//     error that names what did not stop (a store or a function that
//     ignores its context).
//
// Executions that were running stay RUNNING in the Store and resume on
// the next Start, from their last written transition: a task in flight
// is dispatched again, timers are armed for what is left of them.
//
// # Beyond executions
//
// The engine also implements sfn.Activities (activity.go: activities, and
// the tasks that wait on them for a worker), sfn.MapRuns (maprun.go: a
// distributed Map state's Map Run, kept in its execution's batches) and
// sfn.StateTester (teststate.go: one state run on its own, recording
// nothing).
//
// # Who imports it
//
// Only wiring (cmd/aiflow and the engine's own store, test and benchmark
// packages) imports this package; everything else talks to Step
// Functions, or to this engine, through the ports of package sfn.
package engine

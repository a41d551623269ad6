// Package engine is the local Step Functions: it interprets the ASL
// state machines the workflow compiler writes with the semantics of Step
// Functions Standard workflows (retries, catches, timeouts, heartbeats,
// Map and Parallel branches, task tokens, waits), and it
// serves the Step Functions API as methods of Engine, which satisfies
// sfn.Service.
//
// The engine is event-sourced: every transition of an execution is a
// Commit of Step Functions history events to a Store (MemoryStore, or the
// PostgreSQL store of package enginestore), written by a few group-commit
// writers, and Start rebuilds the open executions from their history.
// Its effects are injected through Config: the queues of sqs:sendMessage
// tasks (sfn.QueueSender), Lambda tasks (sfn.FunctionInvoker), the clock,
// the source of randomness and the logger; it does no other I/O, so it
// is deterministic under test. Errors of its API are *sfn.Error values
// named as Step Functions names them.
//
// Only wiring (cmd/aiflow and the engine's own store, test and benchmark
// packages) imports this package; everything else talks to Step
// Functions, or to this engine, through the ports of package sfn.
package engine

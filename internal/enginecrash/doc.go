// Package enginecrash owns the crash harness of the local engine: a test
// that runs the engine on PostgreSQL in a child process, kills that
// process with SIGKILL at random moments (while it starts executions,
// while tasks are in flight, while executions wait), starts it again,
// and then checks that every execution ended as it would have without a
// crash: none lost, none stuck, none failed, each output the expected
// one, each history well formed, and a second callback for a task always
// harmless.
//
// The package holds no production code; run the harness with
//
//	go test ./internal/enginecrash/
//
// and make it longer with AIFLOW_CRASH_KILLS (default 30),
// AIFLOW_CRASH_EXECUTIONS (default 60) and AIFLOW_CRASH_SEED (default: the
// clock; the seed is logged, so a failing run can be replayed).
package enginecrash

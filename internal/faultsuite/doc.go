// Package faultsuite is aiflow's own fault suite: its test runs `aiflow dev`
// as a child process on a PostgreSQL cluster it controls, under a steady
// load of support-triage starts through the HTTP API, and injects faults:
// SIGKILL of the process (then a restart), an immediate stop and restart of
// PostgreSQL, storms of terminated backends, and SIGSTOP/SIGCONT. After
// recovery it checks what must hold whatever happened: every acknowledged
// start exists, every execution reaches a terminal state within a bound,
// every history is well formed, no support-desk effect happened twice, and
// every acknowledged start has its audit record.
//
// `go test ./internal/faultsuite` (part of `make test`) runs a short round;
// `make faults` runs it for AIFLOW_FAULT_DURATION (five minutes by default).
// The package has no code but its test: the harness is the test.
package faultsuite

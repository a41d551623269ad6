//go:build !unix

// Package procstat reads what processes have used of the machine: the
// running process's CPU time, and on Linux a process tree's, such as a
// database server's, for benchmarks that report CPU per operation.
package procstat

import "time"

// CPU is unknown here: 0.
func CPU() time.Duration { return 0 }

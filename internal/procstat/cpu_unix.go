//go:build unix

// Package procstat reads what processes have used of the machine: the
// running process's CPU time, and on Linux a process tree's, such as a
// database server's, for benchmarks that report CPU per operation.
package procstat

import (
	"syscall"
	"time"
)

// CPU is the CPU time, user and system, this process has used.
func CPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

//go:build unix

// Package procstat reads what the running process has used of the
// machine, for benchmarks that report CPU per operation.
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

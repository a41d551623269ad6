//go:build unix

package httpapi_test

import (
	"syscall"
	"time"
)

// processCPU is the CPU time, user and system, this process has used:
// the load benchmarks' client and server together.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

//go:build !linux

package procstat

import (
	"errors"
	"fmt"
	"time"
)

// TreeCPU is not known here: it reads Linux's /proc. It returns an error
// that matches errors.ErrUnsupported.
func TreeCPU(pid int) (time.Duration, error) {
	return 0, fmt.Errorf("reading the CPU time of process %d: no /proc on this system: %w", pid, errors.ErrUnsupported)
}

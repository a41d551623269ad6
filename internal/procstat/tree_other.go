//go:build !linux

package procstat

import (
	"errors"
	"fmt"
	"time"
)

// Tree is the CPU time of a process tree, which is not known here: it is
// read from Linux's /proc.
type Tree struct{}

// OpenTree returns an error that matches errors.ErrUnsupported.
func OpenTree(pid int) (*Tree, error) {
	return nil, fmt.Errorf("reading the CPU time of process %d: no /proc on this system: %w", pid, errors.ErrUnsupported)
}

// CPU returns an error that matches errors.ErrUnsupported.
func (t *Tree) CPU() (time.Duration, error) {
	return 0, fmt.Errorf("reading the CPU time of a process tree: no /proc on this system: %w", errors.ErrUnsupported)
}

// Usage returns an error that matches errors.ErrUnsupported.
func (t *Tree) Usage() (Usage, error) {
	return Usage{}, fmt.Errorf("reading the usage of a process tree: no /proc on this system: %w", errors.ErrUnsupported)
}

// Close does nothing.
func (t *Tree) Close() {}

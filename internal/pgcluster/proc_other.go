//go:build !linux

package pgcluster

import "syscall"

// setParentDeathSignal does nothing where the kernel has no parent-death
// signal; a cluster left behind by a killed process is removed by the next
// Start (throwaway) or reused (persistent).
func setParentDeathSignal(*syscall.SysProcAttr) {}

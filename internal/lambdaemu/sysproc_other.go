//go:build !linux

package lambdaemu

import "syscall"

// sysProcAttr is unused off Linux, where Start refuses to run.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// killGroup is unused off Linux.
func killGroup(int) {}

// terminate is unused off Linux.
func terminate(int) {}

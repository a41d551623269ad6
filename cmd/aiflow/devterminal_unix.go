//go:build unix

package main

import (
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// takeTerminal makes aiflow dev the terminal's foreground process group of
// its own, as a shell does for the job it runs, so that Ctrl-C reaches
// aiflow dev alone: a program that started it in its own group, such as
// make, never gets the SIGINT, and exits with aiflow dev's status (0 after
// a clean stop) instead of dying of the signal. It does nothing unless
// stdin is a terminal whose foreground group is aiflow's and that group is
// another process's (aiflow started from a shell leads a group already).
// While aiflow holds the terminal, Ctrl-Z does nothing, since nobody above
// would take the terminal back from a stopped aiflow. restore gives the
// terminal back to the group it was taken from.
func takeTerminal(stdin *os.File, logger *slog.Logger) (restore func()) {
	nothing := func() {}
	if stdin == nil {
		return nothing
	}
	fd := int(stdin.Fd())
	foreground, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
	if err != nil {
		return nothing // not a terminal
	}
	group, pid := unix.Getpgrp(), unix.Getpid()
	if foreground != group || group == pid {
		return nothing
	}
	if err := unix.Setpgid(0, 0); err != nil {
		logger.Debug("not taking the terminal: leaving the process group", "error", err)
		return nothing
	}
	// Now in a background group, aiflow may set the foreground only with
	// SIGTTOU ignored, as shells do.
	signal.Ignore(syscall.SIGTTOU, syscall.SIGTSTP)
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPGRP, pid); err != nil {
		logger.Debug("not taking the terminal", "error", err)
		_ = unix.Setpgid(0, group)
		signal.Reset(syscall.SIGTTOU, syscall.SIGTSTP)
		return nothing
	}
	return func() {
		if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPGRP, group); err != nil {
			logger.Debug("giving the terminal back", "group", group, "error", err)
		}
		signal.Reset(syscall.SIGTTOU, syscall.SIGTSTP)
	}
}

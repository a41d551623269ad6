//go:build !unix

package main

import (
	"log/slog"
	"os"
)

// takeTerminal does nothing where there are no process groups.
func takeTerminal(*os.File, *slog.Logger) (restore func()) { return func() {} }

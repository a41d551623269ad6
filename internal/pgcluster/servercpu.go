package pgcluster

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/aiflow/aiflow/internal/procstat"
)

// ServerCPU is the CPU time, user and system, the server running on
// dataDir has used since it started: its postmaster's (named by the
// first line of dataDir's postmaster.pid) and its child processes':
// backends, WAL writer, checkpointer, background writer, autovacuum,
// those alive and those that have exited (see procstat.TreeCPU). A
// benchmark reads it before and after its loop for the server's CPU per
// operation.
//
// It can be read only where the processes can be seen: on Linux, on this
// machine, by a process that can read dataDir. It returns an error when
// dataDir is not a running cluster's data folder, and one that matches
// errors.ErrUnsupported on other systems.
func ServerCPU(dataDir string) (time.Duration, error) {
	pid, err := postmasterPID(dataDir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("reading the CPU time of the server on %s: no server runs there (no postmaster.pid)", dataDir)
	}
	if err != nil {
		return 0, fmt.Errorf("reading the CPU time of the server on %s: %w", dataDir, err)
	}
	if !alive(pid) {
		return 0, fmt.Errorf("reading the CPU time of the server on %s: its postmaster.pid names process %d, which is not running (the server crashed)", dataDir, pid)
	}
	cpu, err := procstat.TreeCPU(pid)
	if err != nil {
		return 0, fmt.Errorf("reading the CPU time of the server on %s: %w", dataDir, err)
	}
	return cpu, nil
}

// ServerCPU is the CPU time the cluster's server has used since it
// started (see the function ServerCPU), whether this process started it
// or found it running.
func (c *Cluster) ServerCPU() (time.Duration, error) {
	return ServerCPU(filepath.Join(c.dir, "data"))
}

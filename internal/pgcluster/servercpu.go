package pgcluster

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/aiflow/aiflow/internal/procstat"
)

// ServerProcesses opens the processes of the server running on dataDir
// for reading the CPU time, user and system, they have used since it
// started (procstat.Tree.CPU): its postmaster's, named by the first line
// of dataDir's postmaster.pid, and its child processes' (backends, WAL
// writer, checkpointer, background writer, autovacuum), those alive and
// those that have exited. A benchmark reads it around what it measures
// for the server's CPU per operation, and closes it when done.
//
// They can be read only where they can be seen: on Linux, on this
// machine, by a process that can read dataDir. It returns an error when
// dataDir is not a running cluster's data folder, and one that matches
// errors.ErrUnsupported on other systems.
func ServerProcesses(dataDir string) (*procstat.Tree, error) {
	pid, err := postmasterPID(dataDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading the CPU time of the server on %s: no server runs there (no postmaster.pid)", dataDir)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the CPU time of the server on %s: %w", dataDir, err)
	}
	if !alive(pid) {
		return nil, fmt.Errorf("reading the CPU time of the server on %s: its postmaster.pid names process %d, which is not running (the server crashed)", dataDir, pid)
	}
	tree, err := procstat.OpenTree(pid)
	if err != nil {
		return nil, fmt.Errorf("reading the CPU time of the server on %s: %w", dataDir, err)
	}
	return tree, nil
}

// ServerProcesses opens the cluster's server's processes for reading
// their CPU time (see the function ServerProcesses), whether this process
// started the server or found it running.
func (c *Cluster) ServerProcesses() (*procstat.Tree, error) {
	return ServerProcesses(filepath.Join(c.dir, "data"))
}

package procstat

import (
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestChildrenFilesAndScanAgree: the kernel's children files and the scan
// of every process's parent, used where there are no children files, find
// the same live children.
func TestChildrenFilesAndScanAgree(t *testing.T) {
	t.Parallel()
	var started []int
	for range 2 {
		cmd := exec.Command("sleep", "60")
		require.NoError(t, cmd.Start())
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		})
		started = append(started, cmd.Process.Pid)
	}

	p, err := readProcess(os.Getpid())
	require.NoError(t, err)
	require.True(t, p.childrenKnown, "this kernel has children files")
	parents, err := scanParents()
	require.NoError(t, err)
	// Other parallel tests may have children of this process of their
	// own: the two lists agree on these two.
	for _, pid := range started {
		require.Contains(t, p.children, pid)
		require.Contains(t, parents[os.Getpid()], pid)
	}
}

func TestParseStat(t *testing.T) {
	t.Parallel()
	// A command name with a space and a parenthesis, as a process may
	// name itself.
	raw := []byte("4242 (post) gres) S 4200 4242 4242 0 -1 4194560 500 0 0 0 123 45 67 89 20 0 3 0 1000 0 0\n")
	s, err := parseStat(raw)
	require.NoError(t, err)
	require.Equal(t, stat{ppid: 4200, utime: 123, stime: 45, cutime: 67, cstime: 89, threads: 3}, s)

	_, err = parseStat([]byte("4242 (postgres) S 4200"))
	require.ErrorContains(t, err, "fields after the command's name")
	_, err = parseStat([]byte("4242 postgres S"))
	require.ErrorContains(t, err, "no command name")
}

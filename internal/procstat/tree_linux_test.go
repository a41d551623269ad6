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

	tree, err := OpenTree(os.Getpid())
	require.NoError(t, err)
	t.Cleanup(tree.Close)
	_, _, err = tree.read(os.Getpid())
	require.NoError(t, err)
	parents, err := scanParents()
	require.NoError(t, err)
	// Other parallel tests may have children of this process of their
	// own: the two lists agree on these two.
	for _, pid := range started {
		require.Contains(t, tree.kids, pid, "from the children files")
		require.Contains(t, parents[os.Getpid()], pid, "from the scan")
	}
}

func TestParseStat(t *testing.T) {
	t.Parallel()
	// A command name with a space and a parenthesis, as a process may
	// name itself; tpgid and nice negative.
	raw := []byte("4242 (post) gres) S 4200 4242 4242 0 -1 4194560 500 0 0 0 123 45 67 89 20 -5 3 0 1000 0 0\n")
	s, err := parseStat(raw)
	require.NoError(t, err)
	require.Equal(t, stat{ppid: 4200, minflt: 500, utime: 123, stime: 45, cutime: 67, cstime: 89, threads: 3}, s)

	_, err = parseStat([]byte("4242 (postgres) S 4200"))
	require.ErrorContains(t, err, "2 fields after the command's name, want 18 or more")
	_, err = parseStat([]byte("4242 (postgres) S 4200 4242 4242 0 -1 4194560 500 0 0 0 x 45 67 89 20 -5 3 0 1000 0 0\n"))
	require.ErrorContains(t, err, `field 14 is "x", not a count`)
	_, err = parseStat([]byte("4242 postgres S"))
	require.ErrorContains(t, err, "no command name")
}

func TestAppendUints(t *testing.T) {
	t.Parallel()
	ids, err := appendUints([]int{1}, []byte("10081 10082 \n"))
	require.NoError(t, err)
	require.Equal(t, []int{1, 10081, 10082}, ids)
	ids, err = appendUints(nil, []byte(""))
	require.NoError(t, err)
	require.Empty(t, ids)
	_, err = appendUints(nil, []byte("12 x3"))
	require.ErrorContains(t, err, `"x3" is not a process id`)
}

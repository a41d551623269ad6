//go:build linux

package procstat_test

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/procstat"
)

func openTree(t *testing.T, pid int) *procstat.Tree {
	t.Helper()
	tree, err := procstat.OpenTree(pid)
	require.NoError(t, err)
	t.Cleanup(tree.Close)
	return tree
}

func cpu(t *testing.T, tree *procstat.Tree) time.Duration {
	t.Helper()
	d, err := tree.CPU()
	require.NoError(t, err)
	return d
}

// start runs script in a shell of its own process group, and at the
// test's end kills the group and waits until every process of it has
// ended: a child the shell started would otherwise outlive the test (a
// busy loop keeps a core busy to the end of the run), and leave this
// process's tree, with its time and faults, while a later test reads it.
func start(t *testing.T, script string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sh", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		pgid := cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		_ = cmd.Wait()
		require.Eventually(t, func() bool { return !groupRuns(t, pgid) },
			10*time.Second, time.Millisecond, "the processes of group %d end", pgid)
	})
	return cmd
}

// groupRuns reports whether a process of group pgid has not ended. The
// shell's children, orphaned when it ends, are reaped by another process
// when it will: one that has ended and waits for that (a zombie) has left
// the tree already.
func groupRuns(t *testing.T, pgid int) bool {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	require.NoError(t, err)
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue // not a process
		}
		raw, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // ended since the directory was read
		}
		// pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses.
		fields := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
		if len(fields) > 2 && fields[2] == strconv.Itoa(pgid) && fields[0] != "Z" {
			return true
		}
	}
	return false
}

// TestTreeCountsWaitedForChildren: a child that worked and was waited for
// is in its parent's tree's time, which the kernel keeps in clock ticks
// (10 ms): its user and its system time each, so that the tree's time
// may grow by up to two ticks less than the child's. Not parallel, as no test that reads this process's tree from
// before to after is: a parallel test's children would come and go in
// it, and a child's child that its parent did not wait for leaves the
// tree with its time when it ends.
func TestTreeCountsWaitedForChildren(t *testing.T) {
	tree := openTree(t, os.Getpid())
	before := cpu(t, tree)
	cmd := exec.Command("sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done")
	require.NoError(t, cmd.Run())
	child := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	after := cpu(t, tree)
	require.Greater(t, child, 10*time.Millisecond, "the child worked for more than a tick")
	require.GreaterOrEqual(t, after-before, child-20*time.Millisecond)
}

// TestTreeCountsLiveChildren: a child that works and has not exited,
// started after the tree was opened, is in the tree's time as it goes.
func TestTreeCountsLiveChildren(t *testing.T) {
	t.Parallel()
	self := openTree(t, os.Getpid())
	cmd := start(t, "while :; do :; done")
	child := openTree(t, cmd.Process.Pid)
	alone := cpu(t, child)
	require.Eventually(t, func() bool {
		// The child's time grows, and its parent's tree holds it.
		c := cpu(t, child)
		return c > alone && cpu(t, self) > c
	}, 10*time.Second, 10*time.Millisecond)
}

// TestTreeRootIsTheProcessAlone: Usage's Root is the root process's own
// time, in nanoseconds, without the time of a child that works.
func TestTreeRootIsTheProcessAlone(t *testing.T) {
	t.Parallel()
	cmd := start(t, "sh -c 'while :; do :; done' & wait")
	tree := openTree(t, cmd.Process.Pid)
	first, err := tree.Usage()
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		u, err := tree.Usage()
		require.NoError(t, err)
		return u.CPU-first.CPU > 50*time.Millisecond
	}, 10*time.Second, 10*time.Millisecond, "the child works")
	u, err := tree.Usage()
	require.NoError(t, err)
	require.Less(t, u.Root-first.Root, 10*time.Millisecond, "the waiting shell did not work: its child did")
	require.Greater(t, u.CPU, u.Root)

	self := openTree(t, os.Getpid())
	before, err := self.Usage()
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		x := 0
		for i := range 1_000_000 {
			x += i % 7
		}
		_ = x
		after, err := self.Usage()
		require.NoError(t, err)
		return after.Root > before.Root && after.Root%time.Millisecond != 0
	}, 10*time.Second, time.Millisecond, "this process's own time grows, counted finer than a tick")
}

// TestTreeReadsWithoutAllocating: while the tree keeps its processes, a
// reading reads the files it holds open, so a benchmark may read it
// around every operation without changing its allocations. Not parallel:
// AllocsPerRun counts the whole process's.
func TestTreeReadsWithoutAllocating(t *testing.T) {
	cmd := start(t, "sleep 60 & sleep 60 & wait")
	children := fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid)
	require.Eventually(t, func() bool {
		raw, err := os.ReadFile(children)
		require.NoError(t, err)
		return len(strings.Fields(string(raw))) == 2
	}, 10*time.Second, 10*time.Millisecond, "the shell starts both children")
	tree := openTree(t, cmd.Process.Pid)
	require.Zero(t, testing.AllocsPerRun(10, func() { cpu(t, tree) }))
}

func TestTreeOfNoProcess(t *testing.T) {
	t.Parallel()
	_, err := procstat.OpenTree(math.MaxInt32) // above any pid_max
	require.ErrorContains(t, err, "no such process")
	require.ErrorIs(t, err, os.ErrNotExist)
}

// TestTreeOfAProcessThatEnded: a tree whose root has ended says so.
func TestTreeOfAProcessThatEnded(t *testing.T) {
	t.Parallel()
	cmd := start(t, "sleep 60")
	tree := openTree(t, cmd.Process.Pid)
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	_, err := tree.CPU()
	require.ErrorContains(t, err, "no such process")
}

// TestTreeCountsMinorFaults: pages a process touches for the first time
// since they were mapped are minor faults of its tree. Not parallel, for
// TestTreeCountsWaitedForChildren's reason: a parallel test's child that
// left the tree took its faults with it, and this test saw 64 fewer than
// it had made.
func TestTreeCountsMinorFaults(t *testing.T) {
	tree := openTree(t, os.Getpid())
	before, err := tree.Usage()
	require.NoError(t, err)
	const pages = 4096
	mem, err := syscall.Mmap(-1, 0, pages*os.Getpagesize(), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	require.NoError(t, err)
	t.Cleanup(func() { _ = syscall.Munmap(mem) })
	// Each page its own fault: no huge page serves many pages in one, where
	// the kernel gives them to every mapping large enough.
	require.NoError(t, syscall.Madvise(mem, syscall.MADV_NOHUGEPAGE))
	for i := 0; i < len(mem); i += os.Getpagesize() {
		mem[i] = 1
	}
	after, err := tree.Usage()
	require.NoError(t, err)
	require.GreaterOrEqual(t, after.MinorFaults-before.MinorFaults, uint64(pages))
	require.GreaterOrEqual(t, after.CPU, before.CPU)
}

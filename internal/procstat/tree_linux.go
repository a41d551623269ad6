package procstat

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"syscall"
	"time"
)

// userHZ is the unit of the clock ticks /proc/<pid>/stat counts in
// (USER_HZ, what `getconf CLK_TCK` prints): the kernel fixes it at 100 on
// every architecture Go builds for Linux (only alpha and ia64 had
// another).
const userHZ = 100

// TreeCPU is the CPU time, user and system, that process pid and its
// descendants have used: the ones alive now, and those that exited and
// were waited for by a process of the tree, whose times the kernel adds
// to the waiter's. It is for a server made of processes, such as a
// PostgreSQL cluster's postmaster and its backends and background
// processes, which run as children of the postmaster.
//
// A live process's time is read in nanoseconds from its threads'
// /proc/<pid>/task/<tid>/schedstat where the kernel keeps it, so that
// the CPU of a few statements is seen; the time of exited processes
// (and a process's own where there is no schedstat) only in the clock
// ticks of /proc/<pid>/stat, 10 ms. The reading is a snapshot, not
// atomic: a process that exits while it is taken may be missed by it,
// and counted by the next one. A process's own time is settled when it
// is off the CPU (a server's backend once it has answered); one running
// may lag by a scheduler tick.
//
// It returns an error when pid is not a running process or its files
// under /proc cannot be read.
func TreeCPU(pid int) (time.Duration, error) {
	t := tree{seen: map[int]bool{}}
	total, err := t.add(pid)
	if gone(err) {
		return 0, fmt.Errorf("reading the CPU time of process %d: no such process (%w)", pid, err)
	}
	if err != nil {
		return 0, fmt.Errorf("reading the CPU time of process %d: %w", pid, err)
	}
	return total, nil
}

// tree walks a process tree from its root, each process once.
type tree struct {
	seen map[int]bool
	// parents maps a process to its children from one scan of /proc,
	// made when the kernel has no children files (CONFIG_PROC_CHILDREN).
	parents map[int][]int
}

// add returns the CPU time of pid and its descendants.
func (t *tree) add(pid int) (time.Duration, error) {
	t.seen[pid] = true
	p, err := readProcess(pid)
	if err != nil {
		return 0, err
	}
	total := p.cpu
	kids := p.children
	if !p.childrenKnown {
		if t.parents == nil {
			if t.parents, err = scanParents(); err != nil {
				return 0, err
			}
		}
		kids = t.parents[pid]
	}
	for _, kid := range kids {
		if t.seen[kid] {
			continue
		}
		d, err := t.add(kid)
		if gone(err) {
			continue // exited after it was listed: its parent counts it once it has waited for it
		}
		if err != nil {
			return 0, err
		}
		total += d
	}
	return total, nil
}

// gone reports whether err says that a process no longer exists.
func gone(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH)
}

// process is what readProcess reads of one process.
type process struct {
	// cpu is the process's own time (all its threads) and its waited-for
	// children's.
	cpu time.Duration
	// children are its live children's ids, when childrenKnown.
	children      []int
	childrenKnown bool
}

func readProcess(pid int) (process, error) {
	dir := "/proc/" + strconv.Itoa(pid)
	raw, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return process{}, err
	}
	st, err := parseStat(raw)
	if err != nil {
		return process{}, fmt.Errorf("reading %s/stat: %w", dir, err)
	}
	tids := []int{pid}
	if st.threads > 1 {
		if tids, err = listIDs(dir + "/task"); err != nil {
			return process{}, err
		}
	}
	// schedstat counts a live thread's time in nanoseconds, stat the
	// whole process's (exited threads too) in ticks: each is a lower
	// bound of the truth that only grows, and so is the larger.
	own := ticks(st.utime + st.stime)
	var sched time.Duration
	schedKnown := true
	p := process{childrenKnown: true}
	for _, tid := range tids {
		task := dir + "/task/" + strconv.Itoa(tid)
		if schedKnown {
			ns, err := readSchedRuntime(task + "/schedstat")
			switch {
			case err == nil:
				sched += ns
			case gone(err):
				// an exited thread, or a kernel without schedstat: stat's
				// ticks stand for the process
				schedKnown = false
			default:
				return process{}, err
			}
		}
		if p.childrenKnown {
			kids, err := readChildren(task + "/children")
			switch {
			case err == nil:
				p.children = append(p.children, kids...)
			case gone(err):
				p.childrenKnown, p.children = false, nil
			default:
				return process{}, err
			}
		}
	}
	if schedKnown {
		own = max(own, sched)
	}
	p.cpu = own + ticks(st.cutime+st.cstime)
	return p, nil
}

func ticks(n uint64) time.Duration { return time.Duration(n) * (time.Second / userHZ) }

// stat is what TreeCPU uses of /proc/<pid>/stat.
type stat struct {
	ppid                         int
	utime, stime, cutime, cstime uint64 // clock ticks
	threads                      int
}

// parseStat reads /proc/<pid>/stat's fields 4 (ppid), 14 to 17 (utime,
// stime, cutime, cstime) and 20 (num_threads), counted after the
// command's name, which is in parentheses and may hold spaces and
// parentheses itself (proc_pid_stat(5)).
func parseStat(raw []byte) (stat, error) {
	end := bytes.LastIndexByte(raw, ')')
	if end < 0 {
		return stat{}, errors.New("no command name in parentheses")
	}
	f := bytes.Fields(raw[end+1:]) // f[0] is field 3, the state
	if len(f) < 18 {
		return stat{}, fmt.Errorf("%d fields after the command's name, want 18 or more", len(f))
	}
	var s stat
	var err error
	num := func(i int) uint64 {
		n, e := strconv.ParseUint(string(f[i]), 10, 64)
		if e != nil && err == nil {
			err = fmt.Errorf("field %d: %w", i+3, e)
		}
		return n
	}
	s.ppid = int(num(1))
	s.utime, s.stime, s.cutime, s.cstime = num(11), num(12), num(13), num(14)
	s.threads = int(num(17))
	return s, err
}

// readSchedRuntime reads the first field of a thread's schedstat: the
// time it has run on a CPU, in nanoseconds.
func readSchedRuntime(path string) (time.Duration, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	first, _, _ := bytes.Cut(bytes.TrimSpace(raw), []byte(" "))
	ns, err := strconv.ParseUint(string(first), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", path, err)
	}
	return time.Duration(ns), nil
}

// readChildren reads a thread's children file: the ids of the live
// processes it forked, separated by spaces.
func readChildren(path string) ([]int, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var ids []int
	for _, f := range bytes.Fields(raw) {
		id, err := strconv.Atoi(string(f))
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// listIDs lists the numeric entries of a /proc folder: processes or
// threads.
func listIDs(dir string) ([]int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var ids []int
	for _, e := range entries {
		if id, err := strconv.Atoi(e.Name()); err == nil {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// scanParents maps every process to its live children by reading each
// one's parent from its stat.
func scanParents() (map[int][]int, error) {
	pids, err := listIDs("/proc")
	if err != nil {
		return nil, err
	}
	parents := map[int][]int{}
	for _, pid := range pids {
		raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if gone(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		st, err := parseStat(raw)
		if err != nil {
			return nil, fmt.Errorf("reading /proc/%d/stat: %w", pid, err)
		}
		parents[st.ppid] = append(parents[st.ppid], pid)
	}
	return parents, nil
}

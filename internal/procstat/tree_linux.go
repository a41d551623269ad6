package procstat

import (
	"bytes"
	"errors"
	"fmt"
	"io"
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

// Tree reads the CPU time of a process and its descendants, again and
// again: a benchmark reads it around each operation it measures. It keeps
// the /proc files of the processes it found open and reads them anew each
// time, so that a reading allocates nothing while the tree keeps its
// processes, and costs a few reads of the kernel's figures for each. A
// Tree is not safe for concurrent use.
type Tree struct {
	root  int
	procs map[int]*procFiles
	buf   []byte
	walk  []int // the processes still to read, reused
	kids  []int
	seen  map[int]bool
	// parents maps a process to its children, from one scan of /proc per
	// reading, where the kernel has no children files
	// (CONFIG_PROC_CHILDREN).
	parents map[int][]int
}

// procFiles are the open /proc files of one process.
type procFiles struct {
	stat  *os.File
	tasks []taskFiles // its threads'
	// threads is how many it had when tasks were opened.
	threads int
}

// taskFiles are a thread's schedstat and children files; children is
// nil where the kernel has no children files.
type taskFiles struct {
	schedstat, children *os.File
}

// OpenTree opens the tree of process pid for reading its CPU time (see
// Tree.CPU), and reads it once. It returns an error when pid is not a
// running process or its files under /proc cannot be read.
func OpenTree(pid int) (*Tree, error) {
	t := &Tree{root: pid, procs: map[int]*procFiles{}, buf: make([]byte, 4096), seen: map[int]bool{}}
	if _, err := t.CPU(); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

// CPU is the CPU time, user and system, that the tree's root process and
// its descendants have used: the ones alive now, and those that exited
// and were waited for by a process of the tree, whose times the kernel
// adds to the waiter's. It is for a server made of processes, such as a
// PostgreSQL cluster's postmaster and its backends and background
// processes.
//
// A live process's time is read in nanoseconds from its threads'
// schedstat where the kernel keeps it, so that the CPU of a few
// statements is seen; the time of exited processes (and a process's own
// where there is no schedstat) only in the clock ticks of its stat, 10
// ms. The reading is a snapshot, not atomic: a process that exits while
// it is taken may be missed by it, and is counted by the next one. A
// process's own time is settled when it is off the CPU (a server's
// backend once it has answered); one running may lag by a scheduler
// tick.
//
// It returns an error when the root process is no longer running or a
// file under /proc cannot be read.
func (t *Tree) CPU() (time.Duration, error) {
	u, err := t.Usage()
	return u.CPU, err
}

// Usage is CPU's time with the tree's minor page faults: those of the
// processes alive now and of those that exited and were waited for, read
// from the same files in the same walk.
func (t *Tree) Usage() (Usage, error) {
	clear(t.seen)
	t.parents = nil
	var total Usage
	t.walk = append(t.walk[:0], t.root)
	for len(t.walk) > 0 {
		pid := t.walk[len(t.walk)-1]
		t.walk = t.walk[:len(t.walk)-1]
		if t.seen[pid] {
			continue
		}
		t.seen[pid] = true
		u, own, err := t.read(pid)
		if gone(err) && pid != t.root {
			continue // exited after it was listed: its parent counts it once it has waited for it
		}
		if gone(err) {
			return Usage{}, fmt.Errorf("reading the CPU time of process %d: no such process (%w)", pid, err)
		}
		if err != nil {
			return Usage{}, fmt.Errorf("reading the CPU time of process %d: %w", pid, err)
		}
		total.CPU += u.CPU
		if pid == t.root {
			total.Root = own
		}
		total.MinorFaults += u.MinorFaults
		t.walk = append(t.walk, t.kids...)
	}
	for pid, p := range t.procs {
		if !t.seen[pid] {
			p.close()
			delete(t.procs, pid)
		}
	}
	return total, nil
}

// Close closes the files the tree holds open.
func (t *Tree) Close() {
	for pid, p := range t.procs {
		p.close()
		delete(t.procs, pid)
	}
}

// read returns the CPU time and minor faults of process pid (its own and
// its waited-for children's), and its own CPU time apart, and leaves its
// live children in t.kids.
func (t *Tree) read(pid int) (Usage, time.Duration, error) {
	p, err := t.files(pid)
	if err != nil {
		return Usage{}, 0, err
	}
	raw, err := t.readAt(p.stat)
	if gone(err) {
		// A process of this id that this tree knew has ended, and the id
		// may be another's now.
		p.close()
		delete(t.procs, pid)
		if p, err = t.files(pid); err != nil {
			return Usage{}, 0, err
		}
		raw, err = t.readAt(p.stat)
	}
	if err != nil {
		return Usage{}, 0, err
	}
	st, err := parseStat(raw)
	if err != nil {
		return Usage{}, 0, fmt.Errorf("reading /proc/%d/stat: %w", pid, err)
	}
	if st.threads != p.threads {
		if err := p.openTasks(pid, st.threads); err != nil {
			return Usage{}, 0, err
		}
	}
	// schedstat counts a live thread's time in nanoseconds, stat the
	// whole process's (exited threads too) in ticks: each is a lower
	// bound of the truth that only grows, and so is the larger.
	own := ticks(st.utime + st.stime)
	var sched time.Duration
	schedKnown := true
	t.kids = t.kids[:0]
	childrenKnown := true
	for _, task := range p.tasks {
		if task.schedstat == nil {
			schedKnown = false
		} else if schedKnown {
			raw, err := t.readAt(task.schedstat)
			switch {
			case err == nil:
				ns, ok := firstUint(raw)
				if !ok {
					return Usage{}, 0, fmt.Errorf("reading %s: %q does not start with a number", task.schedstat.Name(), raw)
				}
				sched += time.Duration(ns)
			case gone(err):
				schedKnown = false // an exited thread: stat's ticks stand for the process
				p.threads = 0      // open the threads anew next time
			default:
				return Usage{}, 0, err
			}
		}
		if task.children == nil {
			childrenKnown = false
		} else if childrenKnown {
			raw, err := t.readAll(task.children)
			switch {
			case err == nil:
				if t.kids, err = appendUints(t.kids, raw); err != nil {
					return Usage{}, 0, fmt.Errorf("reading %s: %w", task.children.Name(), err)
				}
			case gone(err):
				childrenKnown = false
				p.threads = 0
			default:
				return Usage{}, 0, err
			}
		}
	}
	if schedKnown {
		own = max(own, sched)
	}
	if !childrenKnown {
		if t.parents == nil {
			if t.parents, err = scanParents(); err != nil {
				return Usage{}, 0, err
			}
		}
		t.kids = append(t.kids[:0], t.parents[pid]...)
	}
	return Usage{CPU: own + ticks(st.cutime+st.cstime), MinorFaults: st.minflt + st.cminflt}, own, nil
}

// files returns pid's open files, opening its stat when the tree has
// none for it yet (its threads' files are opened by read).
func (t *Tree) files(pid int) (*procFiles, error) {
	if p := t.procs[pid]; p != nil {
		return p, nil
	}
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil, err
	}
	p := &procFiles{stat: f}
	t.procs[pid] = p
	return p, nil
}

// openTasks opens the schedstat and children files of each of pid's
// threads, in place of those it had.
func (p *procFiles) openTasks(pid, threads int) error {
	p.closeTasks()
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	tids := []int{pid}
	if threads > 1 {
		var err error
		if tids, err = listIDs(dir); err != nil {
			return err
		}
	}
	for _, tid := range tids {
		tf, err := openTask(dir + "/" + strconv.Itoa(tid))
		if err != nil {
			return err
		}
		p.tasks = append(p.tasks, tf)
	}
	p.threads = threads
	return nil
}

// openTask opens a thread's files; a file the kernel does not have
// (schedstat, children) or that is gone with its thread is left nil.
func openTask(dir string) (taskFiles, error) {
	schedstat, err := openIfAny(dir + "/schedstat")
	if err != nil {
		return taskFiles{}, err
	}
	children, err := openIfAny(dir + "/children")
	if err != nil {
		if schedstat != nil {
			schedstat.Close()
		}
		return taskFiles{}, err
	}
	return taskFiles{schedstat: schedstat, children: children}, nil
}

// openIfAny opens a file, and returns nil and no error when it does not
// exist.
func openIfAny(path string) (*os.File, error) {
	f, err := os.Open(path)
	if gone(err) {
		return nil, nil
	}
	return f, err
}

func (tf taskFiles) close() {
	if tf.schedstat != nil {
		tf.schedstat.Close()
	}
	if tf.children != nil {
		tf.children.Close()
	}
}

func (p *procFiles) closeTasks() {
	for _, tf := range p.tasks {
		tf.close()
	}
	p.tasks, p.threads = p.tasks[:0], 0
}

func (p *procFiles) close() {
	p.closeTasks()
	p.stat.Close()
}

// readAt reads a /proc file from its start: the kernel makes its text
// anew for each read at offset 0. The text must fit t.buf (a stat or
// schedstat line does).
func (t *Tree) readAt(f *os.File) ([]byte, error) {
	n, err := f.ReadAt(t.buf, 0)
	if err != nil && err != io.EOF {
		return nil, err
	}
	return t.buf[:n], nil
}

// readAll reads a /proc file whose text may be long (a children file),
// growing t.buf until it holds it.
func (t *Tree) readAll(f *os.File) ([]byte, error) {
	for {
		n, err := f.ReadAt(t.buf, 0)
		if err != nil && err != io.EOF {
			return nil, err
		}
		if n < len(t.buf) {
			return t.buf[:n], nil
		}
		t.buf = make([]byte, 2*len(t.buf))
	}
}

// gone reports whether err says that a process no longer exists.
func gone(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH)
}

func ticks(n uint64) time.Duration { return time.Duration(n) * (time.Second / userHZ) }

// stat is what Tree uses of /proc/<pid>/stat.
type stat struct {
	ppid                         int
	minflt, cminflt              uint64 // minor page faults, its own and its waited-for children's
	utime, stime, cutime, cstime uint64 // clock ticks
	threads                      int
}

// parseStat reads /proc/<pid>/stat's fields 4 (ppid), 10 and 11 (minflt,
// cminflt), 14 to 17 (utime, stime, cutime, cstime) and 20
// (num_threads), counted after the
// command's name, which is in parentheses and may hold spaces and
// parentheses itself (proc_pid_stat(5)).
func parseStat(raw []byte) (stat, error) {
	end := bytes.LastIndexByte(raw, ')')
	if end < 0 {
		return stat{}, errors.New("no command name in parentheses")
	}
	// The fields read, by their index after the name (0 is field 3).
	want := [...]int{1, 7, 8, 11, 12, 13, 14, 17}
	var v [len(want)]uint64
	rest := raw[end+1:]
	for i, w := 0, 0; w < len(want); i++ {
		var field []byte
		field, rest = nextField(rest)
		if field == nil {
			return stat{}, fmt.Errorf("%d fields after the command's name, want %d or more", i, want[len(want)-1]+1)
		}
		if i != want[w] {
			continue
		}
		n, ok := parseUint(field)
		if !ok {
			return stat{}, fmt.Errorf("field %d is %q, not a count", i+3, field)
		}
		v[w] = n
		w++
	}
	return stat{ppid: int(v[0]), minflt: v[1], cminflt: v[2], utime: v[3], stime: v[4], cutime: v[5], cstime: v[6], threads: int(v[7])}, nil
}

// nextField splits the first field, separated by spaces or newlines, off
// b; it returns nil when there is none.
func nextField(b []byte) (field, rest []byte) {
	b = bytes.TrimLeft(b, " \n")
	if len(b) == 0 {
		return nil, nil
	}
	if sp := bytes.IndexAny(b, " \n"); sp >= 0 {
		return b[:sp], b[sp:]
	}
	return b, nil
}

// parseUint parses a decimal number without allocating (strconv takes a
// string).
func parseUint(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

// firstUint parses the first of a line's numbers, separated by spaces
// (schedstat's first is the time the thread has run, in nanoseconds).
func firstUint(raw []byte) (uint64, bool) {
	raw = bytes.TrimSpace(raw)
	if sp := bytes.IndexByte(raw, ' '); sp >= 0 {
		raw = raw[:sp]
	}
	return parseUint(raw)
}

// appendUints appends the numbers of a list separated by spaces (a
// children file's process ids).
func appendUints(dst []int, raw []byte) ([]int, error) {
	for {
		var field []byte
		if field, raw = nextField(raw); field == nil {
			return dst, nil
		}
		n, ok := parseUint(field)
		if !ok {
			return dst, fmt.Errorf("%q is not a process id", field)
		}
		dst = append(dst, int(n))
	}
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

package lambdaemu

import (
	"os"
	"strconv"
	"strings"
)

// proc is a process as /proc shows it: its id and its start time (in clock
// ticks since boot), which together name it even after its id is reused.
type proc struct {
	pid   int
	start uint64
}

// procStat reads the parent id, state and start time of pid from
// /proc/<pid>/stat.
func procStat(pid int) (ppid int, state byte, start uint64, ok bool) {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, 0, false
	}
	// The command name is in parentheses and may hold anything; the fields
	// after its last closing parenthesis are state (3), ppid (4), ...,
	// starttime (22).
	s := string(raw)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0, 0, 0, false
	}
	ppid, err = strconv.Atoi(f[1])
	if err != nil {
		return 0, 0, 0, false
	}
	start, err = strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return 0, 0, 0, false
	}
	return ppid, f[0][0], start, true
}

// children returns the live children of parent.
func children(parent int) []proc {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []proc
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		ppid, state, start, ok := procStat(pid)
		if ok && ppid == parent && state != 'Z' {
			out = append(out, proc{pid: pid, start: start})
		}
	}
	return out
}

// alive reports whether p is still running (not gone, not a zombie, and
// its id not reused).
func (p proc) alive() bool {
	_, state, start, ok := procStat(p.pid)
	return ok && start == p.start && state != 'Z'
}

package procstat

import "time"

// Usage is what a process tree has used of the machine (Tree.Usage).
type Usage struct {
	// CPU is the CPU time, user and system (see Tree.CPU).
	CPU time.Duration
	// Root is the part of CPU that is the tree's root process's own, its
	// threads' time, without its children's, live or waited for: in
	// nanoseconds where the kernel keeps schedstat, as CPU.
	Root time.Duration
	// MinorFaults counts the page faults the kernel served without I/O:
	// among them, a page a process touches for the first time since it
	// was mapped, which the kernel zeroes, as when a program's heap grows
	// again after it gave its top back.
	MinorFaults uint64
}

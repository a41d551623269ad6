package pgcluster

import "syscall"

// setParentDeathSignal asks the kernel to send the server a fast-shutdown
// signal if this process dies without stopping it.
func setParentDeathSignal(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGINT }

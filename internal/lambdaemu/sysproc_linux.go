package lambdaemu

import "syscall"

// sysProcAttr puts the emulator in a process group of its own, and has the
// kernel stop it if this process dies without closing it (strictly, when
// the thread that started it exits, which the Go runtime does only for a
// goroutine that ends locked to its thread). The emulator puts the
// bootstrap in a group of its own too; a bootstrap whose emulator is gone
// exits when it next calls the Runtime API.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

// killGroup sends SIGKILL to the process group pid leads, and to pid.
func killGroup(pid int) {
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	_ = syscall.Kill(pid, syscall.SIGKILL)
}

// terminate asks pid to stop with SIGTERM.
func terminate(pid int) {
	_ = syscall.Kill(pid, syscall.SIGTERM)
}

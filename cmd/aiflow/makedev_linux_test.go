package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
)

// openPTY opens a pseudo-terminal: its master, and its slave for a child's
// stdin, stdout and stderr.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	require.NoError(t, err, "opening /dev/ptmx")
	master = os.NewFile(uintptr(fd), "/dev/ptmx")
	t.Cleanup(func() { _ = master.Close() })
	require.NoError(t, unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0), "unlocking the pseudo-terminal")
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	require.NoError(t, err)
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	require.NoError(t, err)
	t.Cleanup(func() { _ = slave.Close() })
	return master, slave
}

// TestMakeDevCtrlC runs `make dev` on a terminal (a pseudo-terminal, in a
// session of its own as a terminal's shell would start it) and presses
// Ctrl-C there: the terminal sends SIGINT to its foreground process group,
// which aiflow dev made its own, so make exits with aiflow dev's status 0
// and no "Interrupt", as README says. The Makefile's recipe runs as is,
// with the binary this test built (GO=true skips the build) and a fresh
// database.
func TestMakeDevCtrlC(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make dev needs make")
	}
	bin := buildAiflow(t)
	master, slave := openPTY(t)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "make", "--no-print-directory", "-C", repoRoot, "dev", "GO=true", "DEV_BIN="+bin)
	cmd.Env = append(withoutVar(withoutVar(os.Environ(), "DATABASE_URL"), "AIFLOW_AI_SCRIPT"),
		"DATABASE_URL="+pgclustertest.Database(t), "AIFLOW_DATA_DIR="+filepath.Join(t.TempDir(), ".aiflow"),
		"AIFLOW_HTTP_ADDR=127.0.0.1:0", "AIFLOW_ENGINE_ADDR=127.0.0.1:0", "AIFLOW_LOG_FORMAT=text", "AIFLOW_LOG_LEVEL=warn",
		"MAKEFLAGS=", "MFLAGS=")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	require.NoError(t, cmd.Start())
	require.NoError(t, slave.Close(), "the child holds the terminal now")

	// The terminal's output, read until the child side closes (EIO).
	var mu sync.Mutex
	var out bytes.Buffer
	read := make(chan struct{})
	go func() {
		defer close(read)
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			mu.Lock()
			out.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	printed := func() string {
		mu.Lock()
		defer mu.Unlock()
		return out.String()
	}
	require.Eventually(t, func() bool { return strings.Contains(printed(), "aiflow dev is serving") }, 2*time.Minute, 50*time.Millisecond,
		"aiflow dev did not start serving; the terminal shows:\n%s", printed)

	_, err := master.Write([]byte{3}) // Ctrl-C
	require.NoError(t, err)
	err = cmd.Wait()
	<-read
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		t.Fatalf("make dev exited with %v after Ctrl-C; the terminal shows:\n%s", exit, printed())
	}
	require.NoError(t, err)
	require.Contains(t, printed(), "aiflow dev stopped")
	require.NotContains(t, printed(), "Interrupt")
}

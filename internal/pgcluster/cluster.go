// Package pgcluster starts and stops PostgreSQL clusters from the local server
// binaries: throwaway clusters for tests (a private Unix socket, removed when
// stopped) and the persistent development cluster that `aiflow dev` keeps
// under .aiflow/ (loopback TCP, password authentication, data kept across
// restarts).
//
// PostgreSQL refuses to run as root, so when the calling process is root the
// cluster runs as the "postgres" operating-system user.
package pgcluster

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// SuperUser is the name of the superuser every cluster made here has.
const SuperUser = "postgres"

const throwawayPrefix = "aiflow-pg-"

// Options configure Start.
type Options struct {
	// Binaries are the server programs to run; see FindBinaries.
	Binaries Binaries
	// Dir is where a persistent cluster keeps its files. When empty, Start
	// makes a throwaway cluster in a new temporary folder that Stop removes.
	Dir string
	// Port is the loopback TCP port of a persistent cluster. Zero means the
	// port used last time when it is free, otherwise any free port.
	Port int
	// ReadyTimeout bounds how long Start waits for the server to accept
	// connections. Zero means one minute.
	ReadyTimeout time.Duration
	// Logger receives progress messages. Nil means they are discarded.
	Logger *slog.Logger
	// Settings are server settings given on the command line ("-c
	// name=value"), such as shared_preload_libraries; none by default.
	Settings map[string]string
}

// Cluster is a running PostgreSQL server started by Start.
type Cluster struct {
	dir       string
	throwaway bool
	host      string // socket folder or 127.0.0.1
	port      int
	password  string
	cmd       *exec.Cmd
	exited    chan struct{}
	exitErr   error
	logPath   string
	logger    *slog.Logger
	stopOnce  sync.Once
	stopErr   error
	// attached is set when the server was running already: Stop leaves
	// it to the process that started it.
	attached bool
}

// Start initialises the cluster's data folder when it does not exist yet,
// starts the server as a child process and waits until it accepts
// connections. The child is stopped when Stop is called, and by the kernel if
// this process dies first (on Linux). A persistent cluster that another
// process runs already is used as it is (see Attached).
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.Binaries.Dir == "" {
		return nil, errors.New("starting PostgreSQL: no binaries given (see FindBinaries)")
	}
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = time.Minute
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	owner, err := serverUser()
	if err != nil {
		return nil, err
	}
	c := &Cluster{logger: logger, exited: make(chan struct{})}
	if opts.Dir == "" {
		err = c.prepareThrowaway(ctx, opts, owner)
	} else {
		err = c.preparePersistent(ctx, opts, owner)
	}
	if err != nil {
		if c.throwaway && c.dir != "" {
			_ = os.RemoveAll(c.dir)
		}
		return nil, err
	}
	if c.attached {
		if err := c.ping(ctx); err != nil {
			return nil, fmt.Errorf("connecting to the running cluster in %s on port %d: %w", c.dir, c.port, err)
		}
		c.logger.Info("PostgreSQL is running already; using it", "dir", c.dir, "port", c.port)
		return c, nil
	}
	if err := c.run(ctx, opts, owner); err != nil {
		if c.throwaway {
			_ = os.RemoveAll(c.dir)
		}
		return nil, err
	}
	return c, nil
}

// Attached reports whether Start found the cluster running (another
// process started it): this Cluster then never stops it.
func (c *Cluster) Attached() bool { return c.attached }

// osUser is the operating-system account the server runs as.
type osUser struct {
	name     string
	uid, gid int
	switched bool // true when it differs from this process's user
}

func serverUser() (osUser, error) {
	if os.Geteuid() != 0 {
		return osUser{uid: os.Geteuid(), gid: os.Getegid()}, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return osUser{}, errors.New(`PostgreSQL refuses to run as root, and there is no "postgres" user to run it as: ` +
			`run aiflow as an ordinary user, create the user (Debian/Ubuntu: sudo adduser --system --group postgres), ` +
			`or set DATABASE_URL to a server you already run`)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return osUser{name: u.Username, uid: uid, gid: gid, switched: true}, nil
}

func (c *Cluster) prepareThrowaway(ctx context.Context, opts Options, owner osUser) error {
	sweepStale(os.TempDir(), c.logger)
	dir, err := os.MkdirTemp("", throwawayPrefix)
	if err != nil {
		return fmt.Errorf("making a folder for a throwaway cluster: %w", err)
	}
	c.dir, c.throwaway, c.host, c.port = dir, true, dir, 5432
	c.logPath = filepath.Join(dir, "postgres.log")
	if err := os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		return fmt.Errorf("writing the owner of %s: %w", dir, err)
	}
	if err := chown(dir, owner); err != nil {
		return err
	}
	return c.initdb(ctx, opts.Binaries, owner, filepath.Join(dir, "data"), "--auth=trust")
}

func (c *Cluster) preparePersistent(ctx context.Context, opts Options, owner osUser) error {
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return fmt.Errorf("resolving %s: %w", opts.Dir, err)
	}
	c.dir, c.host = dir, "127.0.0.1"
	c.logPath = filepath.Join(dir, "postgres.log")
	// The parents must let the server user through (see chown); the
	// cluster folder itself is private.
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("making %s: %w", filepath.Dir(dir), err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("making the cluster folder %s: %w", dir, err)
	}
	passwordPath := filepath.Join(dir, "superuser-password")
	dataDir := filepath.Join(dir, "data")
	if _, err := os.Stat(filepath.Join(dataDir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := os.RemoveAll(dataDir); err != nil { // a half-made folder from an interrupted initdb
			return fmt.Errorf("clearing %s: %w", dataDir, err)
		}
		password := randomHex(24)
		if err := os.WriteFile(passwordPath, []byte(password+"\n"), 0o600); err != nil {
			return fmt.Errorf("writing %s: %w", passwordPath, err)
		}
		// initdb reads the password from a file that its own user can read.
		pwfile := filepath.Join(dir, "initdb-password")
		if err := os.WriteFile(pwfile, []byte(password+"\n"), 0o600); err != nil {
			return fmt.Errorf("writing %s: %w", pwfile, err)
		}
		defer os.Remove(pwfile)
		if err := chown(dir, owner); err != nil {
			return err
		}
		if err := chown(pwfile, owner); err != nil {
			return err
		}
		c.logger.Info("initialising the development PostgreSQL cluster", "dir", dataDir)
		if err := c.initdb(ctx, opts.Binaries, owner, dataDir,
			"--auth-host=scram-sha-256", "--auth-local=scram-sha-256", "--pwfile="+pwfile); err != nil {
			return err
		}
	} else if err != nil {
		return fmt.Errorf("reading %s: %w", dataDir, err)
	}
	raw, err := os.ReadFile(passwordPath)
	if err != nil {
		return fmt.Errorf("reading the superuser password of %s: %w (delete %s to start a new cluster)", dir, err, dir)
	}
	c.password = strings.TrimSpace(string(raw))

	portPath := filepath.Join(dir, "port")
	if serverAlive(dataDir) {
		// Another process (aiflow dev) runs this cluster: use it as it
		// is, on the port it wrote, and neither start a second server on
		// the folder nor write the port file.
		raw, err := os.ReadFile(portPath)
		if err != nil {
			return fmt.Errorf("the cluster in %s is running (another aiflow process started it), but its port file cannot be read: %w", dir, err)
		}
		p, err := strconv.Atoi(strings.TrimSpace(string(raw)))
		if err != nil {
			return fmt.Errorf("the cluster in %s is running, but its port file %s holds %q, not a port", dir, portPath, strings.TrimSpace(string(raw)))
		}
		c.port, c.attached = p, true
		return nil
	}
	port := opts.Port
	if port == 0 {
		if raw, err := os.ReadFile(portPath); err == nil {
			if p, err := strconv.Atoi(strings.TrimSpace(string(raw))); err == nil && portFree(p) {
				port = p
			}
		}
	}
	if port == 0 {
		if port, err = freePort(); err != nil {
			return err
		}
	}
	c.port = port
	if err := ensureTLS(dir, owner); err != nil {
		return err
	}
	if err := os.WriteFile(portPath, []byte(strconv.Itoa(port)+"\n"), 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", portPath, err)
	}
	return nil
}

func (c *Cluster) initdb(ctx context.Context, bins Binaries, owner osUser, dataDir string, auth ...string) error {
	args := append([]string{
		"--pgdata=" + dataDir, "--username=" + SuperUser, "--encoding=UTF8", "--locale=C",
		"--no-instructions",
	}, auth...)
	cmd := exec.CommandContext(ctx, bins.Path("initdb"), args...)
	cmd.Dir = filepath.Dir(dataDir)
	cmd.Env = serverEnv()
	cmd.SysProcAttr = sysProcAttr(owner)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("running initdb for %s: %w\n%s", dataDir, err, tail(out.String(), 20))
	}
	c.logger.Debug("initdb done", "dir", dataDir, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

func (c *Cluster) run(ctx context.Context, opts Options, owner osUser) error {
	dataDir := filepath.Join(c.dir, "data")
	args := []string{"-D", dataDir, "-c", "port=" + strconv.Itoa(c.port), "-c", "fsync=on"}
	if c.throwaway {
		args = append(args, "-c", "listen_addresses=", "-c", "unix_socket_directories="+c.dir)
	} else {
		args = append(args, "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
			"-c", "ssl=on", "-c", "ssl_cert_file="+filepath.Join(c.dir, tlsCertFile), "-c", "ssl_key_file="+filepath.Join(c.dir, tlsKeyFile))
	}
	for _, name := range slices.Sorted(maps.Keys(opts.Settings)) {
		args = append(args, "-c", name+"="+opts.Settings[name])
	}
	logFile, err := os.OpenFile(c.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("opening the server log %s: %w", c.logPath, err)
	}
	defer logFile.Close() // the child keeps its own descriptor
	cmd := exec.Command(opts.Binaries.Path("postgres"), args...)
	cmd.Dir = c.dir
	cmd.Env = serverEnv()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = sysProcAttr(owner)
	// Its own process group: a Ctrl-C in the terminal reaches aiflow, which
	// stops the server after what depends on it.
	cmd.SysProcAttr.Setpgid = true
	setParentDeathSignal(cmd.SysProcAttr)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", opts.Binaries.Path("postgres"), err)
	}
	c.cmd = cmd
	go func() {
		c.exitErr = cmd.Wait()
		close(c.exited)
	}()

	deadline := time.Now().Add(opts.ReadyTimeout)
	for {
		err := c.ping(ctx)
		if err == nil {
			c.logger.Info("PostgreSQL is ready", "version", opts.Binaries.Version, "dir", c.dir, "host", c.host, "port", c.port)
			return nil
		}
		select {
		case <-c.exited:
			return fmt.Errorf("PostgreSQL exited while starting (%v); the end of %s:\n%s", c.exitErr, c.logPath, c.logTail())
		case <-ctx.Done():
			_ = c.Stop(context.Background())
			return fmt.Errorf("waiting for PostgreSQL to start: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = c.Stop(context.Background())
			return fmt.Errorf("PostgreSQL did not accept connections within %s (last error: %v); the end of %s:\n%s",
				opts.ReadyTimeout, err, c.logPath, c.logTail())
		}
	}
}

func (c *Cluster) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return Ping(ctx, c.URL("postgres"))
}

// Ping connects to url once and reports whether the server accepted the
// connection. The caller's context bounds how long it may take.
func Ping(ctx context.Context, url string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

// URL returns a connection URL for the superuser and the named database.
func (c *Cluster) URL(database string) string {
	u := url.URL{Scheme: "postgres", Path: "/" + database}
	q := url.Values{"sslmode": {"disable"}}
	if c.throwaway {
		u.User = url.User(SuperUser)
		q.Set("host", c.host)
		q.Set("port", strconv.Itoa(c.port))
	} else {
		u.User = url.UserPassword(SuperUser, c.password)
		u.Host = net.JoinHostPort(c.host, strconv.Itoa(c.port))
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// Dir returns the folder that holds the cluster's files.
func (c *Cluster) Dir() string { return c.dir }

// Port returns the port the server listens on (on its socket for a throwaway
// cluster, on 127.0.0.1 otherwise).
func (c *Cluster) Port() int { return c.port }

// Throwaway reports whether Stop removes the cluster's files.
func (c *Cluster) Throwaway() bool { return c.throwaway }

// LogPath returns the server's log file.
func (c *Cluster) LogPath() string { return c.logPath }

// EnsureDatabase creates the named database when it does not exist.
func (c *Cluster) EnsureDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return fmt.Errorf("connecting to create database %s: %w", name, err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("looking up database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("creating database %s: %w", name, err)
	}
	return nil
}

// Crash stops the server as a power cut would, as far as a process can:
// an immediate shutdown (SIGQUIT), which ends every backend at once and
// leaves crash recovery to the next start. Tests of outages use it; a
// persistent cluster starts again on its data with Start. A throwaway
// cluster is removed, as by Stop.
func (c *Cluster) Crash(ctx context.Context) error {
	if c.cmd != nil && c.cmd.Process != nil {
		select {
		case <-c.exited:
		default:
			_ = c.cmd.Process.Signal(syscall.SIGQUIT)
			select {
			case <-c.exited:
			case <-ctx.Done():
				_ = c.cmd.Process.Kill()
				<-c.exited
			}
		}
	}
	return c.Stop(ctx)
}

// Stop shuts the server down (a fast shutdown: open sessions are ended and
// everything committed is on disk) and, for a throwaway cluster, removes its
// files. Calling Stop again returns the first result.
func (c *Cluster) Stop(ctx context.Context) error {
	c.stopOnce.Do(func() { c.stopErr = c.stop(ctx) })
	return c.stopErr
}

func (c *Cluster) stop(ctx context.Context) error {
	var errs []error
	if c.cmd != nil && c.cmd.Process != nil {
		select {
		case <-c.exited:
		default:
			_ = c.cmd.Process.Signal(syscall.SIGINT)
			timer := time.NewTimer(30 * time.Second)
			defer timer.Stop()
			select {
			case <-c.exited:
			case <-ctx.Done():
				_ = c.cmd.Process.Kill()
				<-c.exited
				errs = append(errs, fmt.Errorf("stopping PostgreSQL: %w", ctx.Err()))
			case <-timer.C:
				_ = c.cmd.Process.Kill()
				<-c.exited
				errs = append(errs, errors.New("stopping PostgreSQL: no shutdown after 30s, killed"))
			}
		}
	}
	if c.throwaway && c.dir != "" {
		if err := os.RemoveAll(c.dir); err != nil {
			errs = append(errs, fmt.Errorf("removing %s: %w", c.dir, err))
		}
	}
	return errors.Join(errs...)
}

func (c *Cluster) logTail() string {
	raw, err := os.ReadFile(c.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	return tail(string(raw), 20)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func serverEnv() []string {
	env := []string{"LC_ALL=C", "LANG=C"}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "LC_") || strings.HasPrefix(kv, "LANG=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func sysProcAttr(owner osUser) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{}
	if owner.switched {
		attr.Credential = &syscall.Credential{Uid: uint32(owner.uid), Gid: uint32(owner.gid)}
	}
	return attr
}

func chown(path string, owner osUser) error {
	if !owner.switched {
		return nil
	}
	if err := os.Chown(path, owner.uid, owner.gid); err != nil {
		return fmt.Errorf("handing %s to the %s user: %w", path, owner.name, err)
	}
	// The server user must be able to reach the folder through its parents.
	for dir := filepath.Dir(path); dir != "/" && dir != "."; dir = filepath.Dir(dir) {
		fi, err := os.Stat(dir)
		if err != nil {
			return fmt.Errorf("checking %s: %w", dir, err)
		}
		if !canEnter(fi, owner) {
			return fmt.Errorf("the %s user cannot enter %s (mode %v), so it cannot run a cluster in %s: "+
				"choose a folder it can reach with AIFLOW_DATA_DIR, or set DATABASE_URL", owner.name, dir, fi.Mode().Perm(), path)
		}
	}
	return nil
}

func canEnter(fi os.FileInfo, u osUser) bool {
	perm := fi.Mode().Perm()
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !ok:
		return perm&0o001 != 0
	case int(st.Uid) == u.uid:
		return perm&0o100 != 0
	case int(st.Gid) == u.gid:
		return perm&0o010 != 0
	default:
		return perm&0o001 != 0
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand documents it)
	return hex.EncodeToString(b)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func portFree(p int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

// sweepStale removes throwaway clusters left behind by processes that died
// without stopping them (a test binary killed by its timeout, say).
func sweepStale(tmp string, logger *slog.Logger) {
	dirs, _ := filepath.Glob(filepath.Join(tmp, throwawayPrefix+"*"))
	for _, dir := range dirs {
		raw, err := os.ReadFile(filepath.Join(dir, "owner.pid"))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
		if err != nil || alive(pid) || serverAlive(filepath.Join(dir, "data")) {
			continue
		}
		if err := os.RemoveAll(dir); err == nil {
			logger.Debug("removed a stale throwaway cluster", "dir", dir)
		}
	}
}

func serverAlive(dataDir string) bool {
	pid, err := postmasterPID(dataDir)
	return err == nil && alive(pid)
}

// postmasterPID reads the process id the server running on dataDir
// wrote on the first line of its postmaster.pid, which it removes when
// it stops (a crash leaves it behind: see alive).
func postmasterPID(dataDir string) (int, error) {
	path := filepath.Join(dataDir, "postmaster.pid")
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	first, _, _ := strings.Cut(string(raw), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		return 0, fmt.Errorf("%s does not start with a process id: %q", path, first)
	}
	return pid, nil
}

func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

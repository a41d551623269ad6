package enginebench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/enginestore"
	"github.com/aiflow/aiflow/internal/eventstore"
)

// Machine describes the computer a run measured, for the table next to
// the numbers.
type Machine struct {
	// Cores is the logical CPUs Go may use (runtime.NumCPU).
	Cores int
	// OS and Arch are GOOS and GOARCH.
	OS, Arch string
	// CPU is the processor's model name when the system tells it (Linux),
	// otherwise empty.
	CPU string
	// GoVersion is the Go release the program was built with.
	GoVersion string
}

// ThisMachine describes the computer the program runs on.
func ThisMachine() Machine {
	return Machine{Cores: runtime.NumCPU(), OS: runtime.GOOS, Arch: runtime.GOARCH, CPU: cpuModel(), GoVersion: runtime.Version()}
}

// String formats m as "2 cores, linux/amd64, AMD EPYC, go1.26.8".
func (m Machine) String() string {
	parts := []string{fmt.Sprintf("%d cores", m.Cores), m.OS + "/" + m.Arch}
	if m.CPU != "" {
		parts = append(parts, m.CPU)
	}
	return strings.Join(append(parts, m.GoVersion), ", ")
}

// cpuModel reads the first "model name" of /proc/cpuinfo; elsewhere, or
// when it cannot be read, it returns "".
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// PostgresServer describes the PostgreSQL server a durable run wrote to:
// its version and the settings that decide what a commit costs.
type PostgresServer struct {
	// Version is server_version, such as "15.18".
	Version string
	// Fsync and SynchronousCommit are the settings of those names ("on"
	// for the durability the targets are stated for).
	Fsync, SynchronousCommit string
}

// String formats s as "15.18 (fsync=on, synchronous_commit=on)".
func (s PostgresServer) String() string {
	return fmt.Sprintf("%s (fsync=%s, synchronous_commit=%s)", s.Version, s.Fsync, s.SynchronousCommit)
}

// DescribePostgres asks pool's server for its version and durability
// settings. It returns the query's error.
func DescribePostgres(ctx context.Context, pool *pgxpool.Pool) (PostgresServer, error) {
	var s PostgresServer
	err := pool.QueryRow(ctx, `SELECT current_setting('server_version'), current_setting('fsync'), current_setting('synchronous_commit')`).
		Scan(&s.Version, &s.Fsync, &s.SynchronousCommit)
	if err != nil {
		return PostgresServer{}, fmt.Errorf("describing the PostgreSQL server: %w", err)
	}
	// Debian's builds add their package version: "15.18 (Debian 15.18-1)".
	s.Version, _, _ = strings.Cut(s.Version, " ")
	return s, nil
}

// OpenPostgres returns the engine's durable store on pool, whose database
// must be migrated: executions' histories in the event store, their
// summaries in the engine's tables. It returns the stores' errors.
func OpenPostgres(ctx context.Context, pool *pgxpool.Pool) (engine.Store, error) {
	events, err := eventstore.Open(ctx, pool, eventstore.Options{})
	if err != nil {
		return nil, fmt.Errorf("opening the event store: %w", err)
	}
	store, err := enginestore.New(ctx, pool, events)
	if err != nil {
		return nil, err
	}
	return store, nil
}

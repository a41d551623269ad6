package pgclustertest

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// CountingPool is Pool, a pool on a fresh database, whose queries whose
// SQL contains sql are counted in the counter it returns: for tests of
// how many statements a piece of code sends.
func CountingPool(t testing.TB, sql string) (*pgxpool.Pool, *atomic.Int64) {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(Database(t))
	if err != nil {
		t.Fatalf("pgclustertest: parsing the database URL: %v", err)
	}
	c := &queryCounter{sql: sql}
	cfg.ConnConfig.Tracer = c
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatalf("pgclustertest: opening a pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool, &c.n
}

// queryCounter is a pgx tracer counting the queries that contain sql.
type queryCounter struct {
	sql string
	n   atomic.Int64
}

func (c *queryCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	if strings.Contains(data.SQL, c.sql) {
		c.n.Add(1)
	}
	return ctx
}

func (c *queryCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

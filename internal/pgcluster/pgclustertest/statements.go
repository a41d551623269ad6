package pgclustertest

import (
	"context"
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// StatementsEnv, set to 1, loads pg_stat_statements into the throwaway
// cluster Main starts, for StatementStats. It is off by default: the
// extension costs a little on every statement.
const StatementsEnv = "AIFLOW_PG_STAT_STATEMENTS"

// serverSettings are the throwaway cluster's settings: pg_stat_statements
// preloaded when StatementsEnv asks for it.
func serverSettings() map[string]string {
	if os.Getenv(StatementsEnv) != "1" {
		return nil
	}
	return map[string]string{"shared_preload_libraries": "pg_stat_statements", "pg_stat_statements.track": "all"}
}

// StatementStats, when StatementsEnv is 1 and the server has
// pg_stat_statements loaded, starts counting the statements run on pool's
// server and returns a function that writes to w the costliest of them
// since, per op of n ops: calls, rows, execution time and WAL bytes. A
// benchmark calls it once its setup is done and the function when its
// loop has ended. Otherwise it returns a function that does nothing.
func StatementStats(tb testing.TB, pool *pgxpool.Pool) func(w io.Writer, n int) {
	tb.Helper()
	if os.Getenv(StatementsEnv) != "1" {
		return func(io.Writer, int) {}
	}
	ctx := context.Background()
	for _, sql := range []string{`CREATE EXTENSION IF NOT EXISTS pg_stat_statements SCHEMA public`, `SELECT public.pg_stat_statements_reset()`} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			tb.Fatalf("%s is set, but pg_stat_statements is not usable (a server of DATABASE_URL needs it in shared_preload_libraries): %v", StatementsEnv, err)
		}
	}
	return func(w io.Writer, n int) {
		rows, err := pool.Query(ctx, `SELECT calls, rows, total_exec_time, wal_bytes, left(regexp_replace(query, '\s+', ' ', 'g'), 100)
			FROM public.pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%' ORDER BY total_exec_time DESC LIMIT 10`)
		if err != nil {
			tb.Fatalf("reading pg_stat_statements: %v", err)
		}
		defer rows.Close()
		fmt.Fprintf(w, "statements per op, %d ops: calls, rows, execution µs, WAL bytes, statement\n", n)
		for rows.Next() {
			var calls, nrows int64
			var ms, wal float64
			var query string
			if err := rows.Scan(&calls, &nrows, &ms, &wal, &query); err != nil {
				tb.Fatalf("reading pg_stat_statements: %v", err)
			}
			fmt.Fprintf(w, "%8.4f %8.4f %8.2f %9.1f  %s\n", float64(calls)/float64(n), float64(nrows)/float64(n), ms*1000/float64(n), wal/float64(n), query)
		}
		if err := rows.Err(); err != nil {
			tb.Fatalf("reading pg_stat_statements: %v", err)
		}
	}
}

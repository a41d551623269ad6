package main

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/audit"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
)

func TestAuditVerifyAndList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := pgclustertest.Database(t)
	pool, err := pgxpool.New(ctx, dsn)
	require.NoError(t, err)
	defer pool.Close()
	l := audit.New(pool, audit.Options{})
	vars := map[string]string{"DATABASE_URL": dsn, "AIFLOW_DATA_DIR": t.TempDir()}

	te := newTestEnv(vars)
	require.Equal(t, 0, run(ctx, []string{"audit", "verify"}, te.env()), te.stderr.String())
	require.Contains(t, te.stdout.String(), "audit log intact: 0 records\n")

	te = newTestEnv(vars)
	require.Equal(t, 0, run(ctx, []string{"audit", "list"}, te.env()), te.stderr.String())
	require.Equal(t, "the audit log is empty\n", te.stdout.String())

	for i := 1; i <= 3; i++ {
		_, err := l.Append(ctx, audit.Record{Actor: fmt.Sprintf("user-%d", i), Action: "executions:start",
			Resource: "POST /v1/workflows/w/executions", Outcome: audit.OutcomeSucceeded, RequestID: fmt.Sprintf("req-%d", i)})
		require.NoError(t, err)
	}

	te = newTestEnv(vars)
	require.Equal(t, 0, run(ctx, []string{"audit", "verify"}, te.env()), te.stderr.String())
	require.Contains(t, te.stdout.String(), "audit log intact: 3 records\n")
	require.Regexp(t, `head: record 3, hash [0-9a-f]{64}\n`, te.stdout.String())

	te = newTestEnv(vars)
	require.Equal(t, 0, run(ctx, []string{"audit", "list", "--limit", "2"}, te.env()), te.stderr.String())
	out := te.stdout.String()
	require.Regexp(t, `(?m)^SEQ\s+TIME\s+ACTOR\s+ACTION\s+RESOURCE\s+OUTCOME\s+REQUEST ID`, out)
	require.Regexp(t, `(?m)^3\s+\S+\s+user-3\s+executions:start\s+POST /v1/workflows/w/executions\s+succeeded\s+req-3`, out)
	require.Regexp(t, `(?m)^2\s+\S+\s+user-2\s`, out)
	require.NotContains(t, out, "user-1")

	// Someone with the owner's password rewrites who started execution 2.
	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, "SET LOCAL session_replication_role = replica")
	require.NoError(t, err)
	_, err = tx.Exec(ctx, "UPDATE api.audit_log SET actor = 'mallory' WHERE seq = 2")
	require.NoError(t, err)
	require.NoError(t, tx.Commit(ctx))

	te = newTestEnv(vars)
	require.Equal(t, 1, run(ctx, []string{"audit", "verify"}, te.env()))
	errOut := te.stderr.String()
	require.Contains(t, errOut, "audit log broken at record 2: record 2 was changed: its fields do not match its hash\n")
	require.Regexp(t, `(?m)^2\s+\S+\s+mallory\s+executions:start`, errOut, "the broken record is shown as stored")
	require.Contains(t, errOut, "1 record before it intact\n")
}

func TestAuditOnAnUnmigratedDatabase(t *testing.T) {
	t.Parallel()
	te := newTestEnv(map[string]string{"DATABASE_URL": pgclustertest.EmptyDatabase(t), "AIFLOW_DATA_DIR": t.TempDir()})
	require.Equal(t, 1, run(context.Background(), []string{"audit", "verify"}, te.env()))
	require.Contains(t, te.stderr.String(), "has `aiflow migrate up` run?")
}

func TestAuditRejectsBadUse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "Usage:"},
		{[]string{"frob"}, `unknown subcommand "frob"`},
		{[]string{"verify", "now"}, `takes no arguments, got ["now"]`},
		{[]string{"list", "--limit", "0"}, "--limit must be 1 to 10000"},
		{[]string{"list", "extra"}, `unexpected arguments ["extra"]`},
	} {
		te := newTestEnv(nil)
		require.Equal(t, 2, run(context.Background(), append([]string{"audit"}, tc.args...), te.env()), "%v", tc.args)
		require.Contains(t, te.stderr.String(), tc.want, "%v", tc.args)
	}
	te := newTestEnv(map[string]string{"AIFLOW_LOG_LEVEL": "loud"})
	require.Equal(t, 2, run(context.Background(), []string{"audit", "verify"}, te.env()))
	require.Contains(t, te.stderr.String(), "aiflow audit: 1 configuration problem")

	te = newTestEnv(nil)
	require.Equal(t, 0, run(context.Background(), []string{"audit", "--help"}, te.env()))
	require.Contains(t, te.stdout.String(), "aiflow audit verify")
}

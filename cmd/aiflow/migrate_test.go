package main

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
)

func TestMigrateCommandRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	vars := map[string]string{"DATABASE_URL": pgclustertest.EmptyDatabase(t), "AIFLOW_DATA_DIR": t.TempDir()}
	migrateCmd := func(args ...string) (int, string, string) {
		te := newTestEnv(vars)
		code := run(ctx, append([]string{"migrate"}, args...), te.env())
		return code, te.stdout.String(), te.stderr.String()
	}

	code, out, _ := migrateCmd("status")
	require.Equal(t, 0, code)
	require.Regexp(t, `VERSION\s+MIGRATION\s+STATE\s+APPLIED AT`, out)
	require.Regexp(t, `1\s+00001_service_schemas.sql\s+pending`, out)

	code, out, _ = migrateCmd("up")
	require.Equal(t, 0, code)
	require.Contains(t, out, "applied 00001_service_schemas.sql")

	code, out, _ = migrateCmd("up")
	require.Equal(t, 0, code)
	require.Contains(t, out, "nothing to apply")

	code, out, _ = migrateCmd("status")
	require.Equal(t, 0, code)
	require.Regexp(t, `1\s+00001_service_schemas.sql\s+applied\s+\d{4}-\d\d-\d\dT`, out)

	code, out, _ = migrateCmd("down")
	require.Equal(t, 0, code)
	require.Contains(t, out, "rolled back 00008_supportdesk_idempotency.sql", "down rolls back the newest")
	require.NotContains(t, out, "00001")

	code, out, _ = migrateCmd("down", "--to", "0")
	require.Equal(t, 0, code)
	require.Equal(t, "rolled back 00007_service_role_grants.sql", strings.Fields(out)[0]+" "+strings.Fields(out)[1]+" "+strings.Fields(out)[2])

	code, out, _ = migrateCmd("down", "--to", "0")
	require.Equal(t, 0, code)
	require.Empty(t, out, "nothing was applied, nothing rolled back")

	code, out, _ = migrateCmd("down")
	require.Equal(t, 0, code)
	require.Contains(t, out, "nothing to roll back")
}

func TestMigrateCommandRejectsBadUse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "aiflow migrate up"},
		{[]string{"sideways"}, `unknown subcommand "sideways"`},
		{[]string{"up", "--to", "3"}, "--to applies to down only"},
		{[]string{"down", "extra"}, `unexpected arguments ["extra"]`},
		{[]string{"down", "--to", "x"}, `invalid value "x"`},
	} {
		te := newTestEnv(nil)
		require.Equal(t, 2, run(ctx, append([]string{"migrate"}, tc.args...), te.env()), "%v", tc.args)
		require.Contains(t, te.stderr.String(), tc.want, "%v", tc.args)
	}
}

package migrate_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// Migration 00020 keeps state machines' revisions (engine.state_machine_revisions),
// which executions' first commits name in place of their definitions. Up
// records each state machine's current revision and each version's; down
// refuses while an execution started since up exists, and drops the table
// otherwise.
func TestStateMachineRevisions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, m := migratedDownTo(t, 19)

	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	exec := func(sql string, args ...any) error {
		_, err := conn.Exec(ctx, sql, append([]any{pgx.QueryExecModeSimpleProtocol}, args...)...)
		return err
	}
	const sm = "arn:aws:states:us-east-1:123456789012:stateMachine:m"
	require.NoError(t, exec(`INSERT INTO engine.state_machines (arn, name, definition, role_arn, type, creation_date, update_date, revision_id)
		VALUES ($1, 'm', 'now', 'role-now', 'STANDARD', now(), now(), 'r2')`, sm))
	require.NoError(t, exec(`INSERT INTO engine.state_machine_versions (arn, state_machine_arn, version, definition, role_arn, description, revision_id, creation_date)
		VALUES ($1 || ':1', $1, 1, 'then', 'role-then', '', 'r1', now()), ($1 || ':2', $1, 2, 'now', 'role-now', '', 'r2', now())`, sm))
	startedBefore := func(name, when string) error {
		return exec(`INSERT INTO engine.executions (arn, state_machine_arn, name, status, start_date, input, output, error, cause, trace_header, seq)
			VALUES ($1 || ':' || $2, $1, $2, 'RUNNING', now() + $3::interval, '{}', '', '', '', '', 1)`, sm, name, when)
	}
	require.NoError(t, startedBefore("old", "-1 hour"))

	_, err = m.Up(ctx)
	require.NoError(t, err)
	rows, err := conn.Query(ctx, `SELECT revision_id, definition, role_arn FROM engine.state_machine_revisions
		WHERE state_machine_arn = $1 ORDER BY revision_id`, sm)
	require.NoError(t, err)
	type revision struct{ ID, Definition, Role string }
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[revision])
	require.NoError(t, err)
	require.Equal(t, []revision{{"r1", "then", "role-then"}, {"r2", "now", "role-now"}}, got,
		"the state machine's revision and each version's, once")

	_, err = m.DownTo(ctx, 19)
	require.NoError(t, err, "no execution started since up: down drops the table")
	_, err = m.Up(ctx)
	require.NoError(t, err)
	require.NoError(t, startedBefore("new", "1 second"))
	_, err = m.DownTo(ctx, 19)
	require.ErrorContains(t, err, "executions started since migration 00020 name their definition by revision",
		"down refuses while an execution started since up exists")
	require.NoError(t, exec(`DELETE FROM engine.executions WHERE name = 'new'`))
	_, err = m.DownTo(ctx, 19)
	require.NoError(t, err)
	var exists bool
	require.NoError(t, conn.QueryRow(ctx, `SELECT to_regclass('engine.state_machine_revisions') IS NOT NULL`).Scan(&exists))
	require.False(t, exists)
}

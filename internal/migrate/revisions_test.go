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

// Migration 00021 makes the database record every revision itself: a
// trigger on each of engine.state_machines and engine.state_machine_versions
// records the row's revision, whoever writes it (here, plain statements as
// a release before 00020 wrote them). Up records the revisions such a
// writer left out since 00020; down drops the triggers and keeps what was
// recorded.
func TestRevisionsKeptByTheDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, m := migratedDownTo(t, 20)

	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	exec := func(sql string, args ...any) {
		t.Helper()
		_, err := conn.Exec(ctx, sql, append([]any{pgx.QueryExecModeSimpleProtocol}, args...)...)
		require.NoError(t, err)
	}
	type revision struct{ ID, Definition, Role string }
	revisions := func() []revision {
		t.Helper()
		rows, err := conn.Query(ctx, `SELECT revision_id, definition, role_arn FROM engine.state_machine_revisions
			WHERE state_machine_arn = $1 ORDER BY revision_id`, "arn:aws:states:us-east-1:123456789012:stateMachine:m")
		require.NoError(t, err)
		got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[revision])
		require.NoError(t, err)
		return got
	}
	const sm = "arn:aws:states:us-east-1:123456789012:stateMachine:m"
	// At 00020, a writer of an earlier release leaves its revisions out.
	exec(`INSERT INTO engine.state_machines (arn, name, definition, role_arn, type, creation_date, update_date, revision_id)
		VALUES ($1, 'm', 'd1', 'role-1', 'STANDARD', now(), now(), 'r1')`, sm)
	exec(`INSERT INTO engine.state_machine_versions (arn, state_machine_arn, version, definition, role_arn, description, revision_id, creation_date)
		VALUES ($1 || ':1', $1, 1, 'd1', 'role-1', '', 'r1', now())`, sm)
	exec(`UPDATE engine.state_machines SET definition = 'd2', revision_id = 'r2' WHERE arn = $1`, sm)
	require.Empty(t, revisions())

	_, err = m.Up(ctx)
	require.NoError(t, err)
	require.Equal(t, []revision{{"r1", "d1", "role-1"}, {"r2", "d2", "role-1"}}, revisions(),
		"up records the state machine's revision and its version's")

	// From then on, every write of a revision records it, once.
	exec(`UPDATE engine.state_machines SET definition = 'd3', role_arn = 'role-3', revision_id = 'r3' WHERE arn = $1`, sm)
	exec(`INSERT INTO engine.state_machine_versions (arn, state_machine_arn, version, definition, role_arn, description, revision_id, creation_date)
		VALUES ($1 || ':2', $1, 2, 'd3', 'role-3', '', 'r3', now())`, sm)
	exec(`INSERT INTO engine.state_machines (arn, name, definition, role_arn, type, creation_date, update_date, revision_id)
		VALUES ($1, 'm', 'd4', 'role-4', 'STANDARD', now(), now(), 'r4')
		ON CONFLICT (arn) DO UPDATE SET definition = EXCLUDED.definition, role_arn = EXCLUDED.role_arn, revision_id = EXCLUDED.revision_id`, sm)
	exec(`UPDATE engine.state_machines SET status = status WHERE arn = $1`, sm)
	exec(`UPDATE engine.state_machines SET revision_id = '' WHERE arn = $1`, sm)
	want := []revision{{"r1", "d1", "role-1"}, {"r2", "d2", "role-1"}, {"r3", "d3", "role-3"}, {"r4", "d4", "role-4"}}
	require.Equal(t, want, revisions())

	_, err = m.DownTo(ctx, 20)
	require.NoError(t, err)
	exec(`UPDATE engine.state_machines SET definition = 'd5', revision_id = 'r5' WHERE arn = $1`, sm)
	require.Equal(t, want, revisions(), "down keeps what was recorded, and records nothing more")
}

package migrate_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// Migration 00019 drops approvals' unique index on task_token: the store
// holds each approval's id to its token's hash (apistore.ApprovalID), so the
// primary key makes a token one approval. Down puts the index back, and
// refuses while two approvals share a token.
func TestApprovalsTokenIndexDropped(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, m := migratedDownTo(t, 18)

	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	insert := func(id, token string) error {
		_, err := conn.Exec(ctx, `INSERT INTO api.approvals (id, execution_arn, step_id, task_token, message, approvers, status, created_at)
			VALUES ($1, 'arn:aws:states:us-east-1:123456789012:execution:m:e', 'approve', $2, 'Go on?', '{}', 'pending', now())`,
			pgx.QueryExecModeSimpleProtocol, id, token)
		return err
	}
	require.NoError(t, insert("apr_1", "tok"))
	require.ErrorContains(t, insert("apr_2", "tok"), "approvals_task_token_key", "before: the token's own unique index")

	_, err = m.Up(ctx)
	require.NoError(t, err)
	require.ErrorContains(t, insert("apr_1", "other"), "approvals_pkey", "the primary key stays")
	require.NoError(t, insert("apr_2", "tok"), "after: the store, not an index, holds a token to one id")

	_, err = m.DownTo(ctx, 18)
	require.ErrorContains(t, err, "approvals_task_token_key", "down refuses while two approvals share a token")
	_, err = conn.Exec(ctx, `DELETE FROM api.approvals WHERE id = 'apr_2'`)
	require.NoError(t, err)
	_, err = m.DownTo(ctx, 18)
	require.NoError(t, err)
	require.ErrorContains(t, insert("apr_3", "tok"), "approvals_task_token_key", "the index is back")
}

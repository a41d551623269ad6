package apistore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// recordVersionARN records arn as the Step Functions version of the
// workflow version v, in Publish's transaction, and sets it on v. The
// versions themselves never change (api.workflow_versions refuses
// updates); their ARNs live beside them, in api.workflow_version_arns,
// one per version: the state machine version it was last published as.
// Publishing the same definition again after the state machine was made
// anew (a local engine kept in memory) so moves the version to the new
// state machine version. An empty arn records nothing: the version keeps
// what it has, or starts on the unqualified ARN.
func recordVersionARN(ctx context.Context, tx pgx.Tx, v *Version, arn string) error {
	if arn == "" || arn == v.StateMachineVersionARN {
		return nil
	}
	if _, err := tx.Exec(ctx, `INSERT INTO api.workflow_version_arns (workflow, version, state_machine_version_arn)
		VALUES ($1, $2, $3) ON CONFLICT (workflow, version) DO UPDATE SET state_machine_version_arn = EXCLUDED.state_machine_version_arn`,
		v.Workflow, v.Version, arn); err != nil {
		return err
	}
	v.StateMachineVersionARN = arn
	return nil
}

// VersionOfStateMachineVersion returns the workflow and the version of it
// whose Step Functions version is arn, the one an execution started on
// it runs; ok is false when no workflow version records arn (an
// execution started on the unqualified ARN, or on a version since
// published anew).
func (s *Store) VersionOfStateMachineVersion(ctx context.Context, arn string) (workflow string, version int, ok bool, err error) {
	err = s.pool.QueryRow(ctx, `SELECT workflow, version FROM api.workflow_version_arns
		WHERE state_machine_version_arn = $1 ORDER BY version DESC LIMIT 1`, arn).Scan(&workflow, &version)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", 0, false, nil
	}
	if err != nil {
		return "", 0, false, fmt.Errorf("reading the workflow version of %s: %w", arn, err)
	}
	return workflow, version, true, nil
}

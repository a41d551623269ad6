package apistore

import (
	"context"

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

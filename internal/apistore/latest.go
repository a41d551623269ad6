package apistore

import (
	"context"
	"fmt"
)

// LatestVersion returns a workflow and its latest version, as one
// snapshot in one round trip: what a start needs of them. The version
// carries its number, input schema, checksum and state machine version
// ARN, and not its definition, ASL or graph, which a start never reads.
// It returns ErrNotFound for a workflow that does not exist.
func (s *Store) LatestVersion(ctx context.Context, name string) (Workflow, Version, error) {
	var w Workflow
	var v Version
	err := s.pool.QueryRow(ctx, `SELECT w.name, w.state_machine_arn, w.latest_version, w.created_at, w.updated_at,
			v.version, COALESCE(v.input_schema, ''), v.checksum, v.created_by, v.created_at, COALESCE(a.state_machine_version_arn, '')
		FROM api.workflows w
		JOIN api.workflow_versions v ON v.workflow = w.name AND v.version = w.latest_version
		LEFT JOIN api.workflow_version_arns a ON a.workflow = v.workflow AND a.version = v.version
		WHERE w.name = $1`, name).
		Scan(&w.Name, &w.StateMachineARN, &w.LatestVersion, &w.CreatedAt, &w.UpdatedAt,
			&v.Version, &v.InputSchema, &v.Checksum, &v.CreatedBy, &v.CreatedAt, &v.StateMachineVersionARN)
	if err != nil {
		return Workflow{}, Version{}, fmt.Errorf("reading the latest version of workflow %s: %w", name, interpret(err))
	}
	w.CreatedAt, w.UpdatedAt, v.CreatedAt = w.CreatedAt.UTC(), w.UpdatedAt.UTC(), v.CreatedAt.UTC()
	v.Workflow = w.Name
	return w, v, nil
}

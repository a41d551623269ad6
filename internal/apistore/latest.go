package apistore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// LatestVersion returns a workflow and its latest version, as one
// snapshot in one round trip: what a start needs of them. The version
// carries its number, input schema, checksum and state machine version
// ARN, and not its definition, ASL or graph, which a start never reads.
// It returns ErrNotFound for a workflow that does not exist.
//
// Every start reads it, so the reads made at once are one query
// (batchcall): while one is under way, the reads that arrive queue up,
// and the next query reads them all, made after they arrived, so each
// sees every version published before it was asked for. A read alone is
// one query at once; a read whose caller gives up before its query is
// left out.
func (s *Store) LatestVersion(ctx context.Context, name string) (Workflow, Version, error) {
	r, err := s.latest.Do(ctx, name)
	if err != nil {
		return Workflow{}, Version{}, fmt.Errorf("reading the latest version of workflow %s: %w", name, err)
	}
	return r.w, r.v, r.err
}

// Bounds of a query of latest versions.
const (
	// maxLatestBatch bounds the reads one query answers.
	maxLatestBatch = 1000
	// latestBatchTimeout bounds a query, which no one caller's context
	// governs alone.
	latestBatchTimeout = 30 * time.Second
)

// latestResult is a workflow and its latest version, or the error.
type latestResult struct {
	w   Workflow
	v   Version
	err error
}

// latestVersions reads the latest versions of the workflows named in one
// query.
func (s *Store) latestVersions(ctx context.Context, names []string) []latestResult {
	results := make([]latestResult, len(names))
	rows, err := s.pool.Query(ctx, `SELECT w.name, w.state_machine_arn, w.latest_version, w.created_at, w.updated_at,
			v.version, COALESCE(v.input_schema, ''), v.checksum, v.created_by, v.created_at, COALESCE(a.state_machine_version_arn, '')
		FROM api.workflows w
		JOIN api.workflow_versions v ON v.workflow = w.name AND v.version = w.latest_version
		LEFT JOIN api.workflow_version_arns a ON a.workflow = v.workflow AND a.version = v.version
		WHERE w.name = ANY($1::text[])`, names)
	found := make(map[string]latestResult, len(names))
	if err == nil {
		var r latestResult
		w, v := &r.w, &r.v
		_, err = pgx.ForEachRow(rows, []any{&w.Name, &w.StateMachineARN, &w.LatestVersion, &w.CreatedAt, &w.UpdatedAt,
			&v.Version, &v.InputSchema, &v.Checksum, &v.CreatedBy, &v.CreatedAt, &v.StateMachineVersionARN}, func() error {
			w.CreatedAt, w.UpdatedAt, v.CreatedAt = w.CreatedAt.UTC(), w.UpdatedAt.UTC(), v.CreatedAt.UTC()
			v.Workflow = w.Name
			found[w.Name] = r
			return nil
		})
	}
	for i, name := range names {
		switch r, ok := found[name]; {
		case err != nil:
			results[i].err = fmt.Errorf("reading the latest version of workflow %s: %w", name, interpret(err))
		case !ok:
			results[i].err = fmt.Errorf("reading the latest version of workflow %s: %w", name, ErrNotFound)
		default:
			results[i] = r
		}
	}
	return results
}

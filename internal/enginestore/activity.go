package enginestore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/sfn"
)

var _ engine.ActivityStore = (*Store)(nil)

// PutActivity creates or replaces an activity. It returns a
// ValidationException *sfn.Error when the ARN is empty.
func (s *Store) PutActivity(ctx context.Context, a engine.ActivityRecord) error {
	if a.ARN == "" {
		return &sfn.Error{Code: sfn.CodeValidation, Message: fmt.Sprintf("activity %q: the ARN is empty", a.Name)}
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO engine.activities (arn, name, creation_date) VALUES ($1, $2, $3)
		ON CONFLICT (arn) DO UPDATE SET name = EXCLUDED.name, creation_date = EXCLUDED.creation_date`,
		a.ARN, a.Name, storeTime(a.CreationDate))
	if err != nil {
		return opaque("storing activity "+a.ARN, err)
	}
	return nil
}

// DeleteActivity removes an activity; a missing one is no error.
func (s *Store) DeleteActivity(ctx context.Context, arn string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM engine.activities WHERE arn = $1`, arn); err != nil {
		return opaque("deleting activity "+arn, err)
	}
	return nil
}

// Activities returns every activity in ARN order.
func (s *Store) Activities(ctx context.Context) ([]engine.ActivityRecord, error) {
	rows, err := s.pool.Query(ctx, `SELECT arn, name, creation_date FROM engine.activities ORDER BY arn`)
	if err != nil {
		return nil, opaque("reading activities", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (engine.ActivityRecord, error) {
		var a engine.ActivityRecord
		err := row.Scan(&a.ARN, &a.Name, &a.CreationDate)
		a.CreationDate = storeTime(a.CreationDate)
		return a, err
	})
	if err != nil {
		return nil, opaque("reading activities", err)
	}
	return out, nil
}

package enginestore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/sfn"
)

// PutVersion stores a published version. It returns a
// ValidationException *sfn.Error when the ARN is empty.
func (s *Store) PutVersion(ctx context.Context, v engine.VersionRecord) error {
	if v.ARN == "" {
		return &sfn.Error{Code: sfn.CodeValidation, Message: fmt.Sprintf("version %d of %s: the ARN is empty", v.Version, v.StateMachineARN)}
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO engine.state_machine_versions
		(arn, state_machine_arn, version, definition, role_arn, description, revision_id, creation_date)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (arn) DO UPDATE SET definition = EXCLUDED.definition, role_arn = EXCLUDED.role_arn,
			description = EXCLUDED.description, revision_id = EXCLUDED.revision_id, creation_date = EXCLUDED.creation_date`,
		v.ARN, v.StateMachineARN, v.Version, v.Definition, v.RoleARN, v.Description, v.RevisionID, storeTime(v.CreationDate))
	if err != nil {
		return opaque("storing state machine version "+v.ARN, err)
	}
	return nil
}

// DeleteVersion removes a version; a missing one is no error.
func (s *Store) DeleteVersion(ctx context.Context, arn string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM engine.state_machine_versions WHERE arn = $1`, arn); err != nil {
		return opaque("deleting state machine version "+arn, err)
	}
	return nil
}

// Versions returns every version in ARN order.
func (s *Store) Versions(ctx context.Context) ([]engine.VersionRecord, error) {
	rows, err := s.pool.Query(ctx, `SELECT arn, state_machine_arn, version, definition, role_arn, description, revision_id, creation_date
		FROM engine.state_machine_versions ORDER BY arn`)
	if err != nil {
		return nil, opaque("reading state machine versions", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (engine.VersionRecord, error) {
		var v engine.VersionRecord
		err := row.Scan(&v.ARN, &v.StateMachineARN, &v.Version, &v.Definition, &v.RoleARN, &v.Description, &v.RevisionID, &v.CreationDate)
		v.CreationDate = storeTime(v.CreationDate)
		return v, err
	})
	if err != nil {
		return nil, opaque("reading state machine versions", err)
	}
	return out, nil
}

// routingEntry is one entry of an alias's routing column.
type routingEntry struct {
	VersionARN string `json:"stateMachineVersionArn"`
	Weight     int    `json:"weight"`
}

// PutAlias creates or replaces an alias. It returns a ValidationException
// *sfn.Error when the ARN is empty.
func (s *Store) PutAlias(ctx context.Context, a engine.AliasRecord) error {
	if a.ARN == "" {
		return &sfn.Error{Code: sfn.CodeValidation, Message: fmt.Sprintf("alias %q of %s: the ARN is empty", a.Name, a.StateMachineARN)}
	}
	routing := make([]routingEntry, len(a.Routing))
	for i, r := range a.Routing {
		routing[i] = routingEntry{VersionARN: r.StateMachineVersionARN, Weight: r.Weight}
	}
	doc, err := json.Marshal(routing)
	if err != nil {
		return fmt.Errorf("encoding the routing of alias %s: %w", a.ARN, err)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO engine.state_machine_aliases
		(arn, state_machine_arn, name, description, routing, creation_date, update_date)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (arn) DO UPDATE SET description = EXCLUDED.description, routing = EXCLUDED.routing,
			creation_date = EXCLUDED.creation_date, update_date = EXCLUDED.update_date`,
		a.ARN, a.StateMachineARN, a.Name, a.Description, string(doc), storeTime(a.CreationDate), storeTime(a.UpdateDate))
	if err != nil {
		return opaque("storing state machine alias "+a.ARN, err)
	}
	return nil
}

// DeleteAlias removes an alias; a missing one is no error.
func (s *Store) DeleteAlias(ctx context.Context, arn string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM engine.state_machine_aliases WHERE arn = $1`, arn); err != nil {
		return opaque("deleting state machine alias "+arn, err)
	}
	return nil
}

// Aliases returns every alias in ARN order.
func (s *Store) Aliases(ctx context.Context) ([]engine.AliasRecord, error) {
	rows, err := s.pool.Query(ctx, `SELECT arn, state_machine_arn, name, description, routing, creation_date, update_date
		FROM engine.state_machine_aliases ORDER BY arn`)
	if err != nil {
		return nil, opaque("reading state machine aliases", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (engine.AliasRecord, error) {
		var (
			a   engine.AliasRecord
			doc []byte
		)
		if err := row.Scan(&a.ARN, &a.StateMachineARN, &a.Name, &a.Description, &doc, &a.CreationDate, &a.UpdateDate); err != nil {
			return a, err
		}
		var routing []routingEntry
		if err := json.Unmarshal(doc, &routing); err != nil {
			return a, fmt.Errorf("decoding the routing of alias %s: %w", a.ARN, err)
		}
		for _, r := range routing {
			a.Routing = append(a.Routing, sfn.RoutingConfig{StateMachineVersionARN: r.VersionARN, Weight: r.Weight})
		}
		a.CreationDate, a.UpdateDate = storeTime(a.CreationDate), storeTime(a.UpdateDate)
		return a, nil
	})
	if err != nil {
		return nil, opaque("reading state machine aliases", err)
	}
	return out, nil
}

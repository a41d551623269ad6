// Package registrystore is the service registry's Store (internal/registry)
// in PostgreSQL: the registry schema (migration 00010) holds each service
// name's revision, versions and instances, and the event store holds each
// name's history (stream "service-<name>"). A change's rows are written in
// the transaction that appends its events (eventstore's AppendManyWith),
// after a check that the name is still at the revision the change was
// decided on, so the rows and the history commit together or not at all.
// pgx's errors are translated here, once.
package registrystore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/outage"
	"github.com/aiflow/aiflow/internal/registry"
	"github.com/aiflow/aiflow/internal/semver"
)

// Store is the registry's store on the event store's database. It is
// safe for concurrent use.
type Store struct {
	events *eventstore.Store
}

var _ registry.Store = (*Store)(nil)

// New returns the store on events' database (its pool), which must be
// migrated: the rows and the events of a change share one transaction, so
// they live in one database.
func New(events *eventstore.Store) *Store { return &Store{events: events} }

// errStale is what the statements of a change return when the name moved
// on; Save wraps registry.ErrStale for it.
var errStale = errors.New("stale revision")

// interpret translates pgx's errors into the registry's, once.
func interpret(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errStale):
		return registry.ErrStale
	case errors.Is(err, pgx.ErrNoRows):
		return registry.ErrNotFound
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23503": // foreign_key_violation: an instance of no version
			return fmt.Errorf("%s: %w", pe.Message, registry.ErrNotFound)
		case "23505": // unique_violation
			return fmt.Errorf("%s: %w", pe.Message, registry.ErrConflict)
		case "40001", "40P01": // a serialization failure or deadlock: read again
			return fmt.Errorf("%s: %w", pe.Message, registry.ErrStale)
		}
	}
	return outage.Classify(err)
}

// querier is what reads need of a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// readOnly runs fn in a read-only repeatable-read transaction: one
// snapshot for the revision and the rows.
func (s *Store) readOnly(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, s.events.Pool(), pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
}

// Load returns what is registered under name.
func (s *Store) Load(ctx context.Context, name string) (registry.State, error) {
	st := registry.State{Name: name}
	err := s.readOnly(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT revision FROM registry.service_names WHERE name = $1`, name).Scan(&st.Revision)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		st.Services, err = list(ctx, tx, registry.ListFilter{Name: name})
		return err
	})
	if err != nil {
		return registry.State{}, fmt.Errorf("loading service %s: %w", name, interpret(err))
	}
	return st, nil
}

// List returns the versions f selects, with their instances, sorted by
// name and version.
func (s *Store) List(ctx context.Context, f registry.ListFilter) ([]registry.Service, error) {
	var out []registry.Service
	err := s.readOnly(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = list(ctx, tx, f)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listing services: %w", interpret(err))
	}
	return out, nil
}

const serviceColumns = `name, version, description, capabilities, metadata, operations, auth, health_check, balancing, registered_at, updated_at`

const instanceColumns = `service, id, version, COALESCE(endpoint, ''), COALESCE(function_arn, ''), weight, zone, internal, metadata,
	status, status_reason, ttl_seconds, registered_at, heartbeat_at, check_passes, check_failures, checked_at, ejected_until`

func list(ctx context.Context, q querier, f registry.ListFilter) ([]registry.Service, error) {
	rows, err := q.Query(ctx, `SELECT `+serviceColumns+` FROM registry.services
		WHERE ($1 = '' OR name = $1) AND ($2 = '' OR $2 = ANY (capabilities))`, f.Name, f.Capability)
	if err != nil {
		return nil, err
	}
	svcs, err := pgx.CollectRows(rows, scanService)
	if err != nil {
		return nil, err
	}
	if len(svcs) == 0 {
		return nil, nil
	}
	names := make([]string, 0, len(svcs))
	index := make(map[[2]string]int, len(svcs))
	for i, s := range svcs {
		if !slices.Contains(names, s.Name) {
			names = append(names, s.Name)
		}
		index[[2]string{s.Name, s.Version}] = i
	}
	rows, err = q.Query(ctx, `SELECT `+instanceColumns+` FROM registry.instances WHERE service = ANY ($1) ORDER BY service, id`, names)
	if err != nil {
		return nil, err
	}
	ins, err := pgx.CollectRows(rows, scanInstance)
	if err != nil {
		return nil, err
	}
	for _, in := range ins {
		if i, ok := index[[2]string{in.Service, in.Version}]; ok {
			svcs[i].Instances = append(svcs[i].Instances, in)
		}
	}
	slices.SortFunc(svcs, func(a, b registry.Service) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return semver.Compare(a.Version, b.Version)
	})
	return svcs, nil
}

func scanService(row pgx.CollectableRow) (registry.Service, error) {
	var s registry.Service
	var caps []string
	var metadata, operations, auth, health []byte
	var balancing string
	if err := row.Scan(&s.Name, &s.Version, &s.Description, &caps, &metadata, &operations, &auth, &health, &balancing, &s.RegisteredAt, &s.UpdatedAt); err != nil {
		return s, err
	}
	if len(caps) > 0 {
		s.Capabilities = caps
	}
	s.Balancing = registry.Balancing(balancing)
	if err := unmarshalMap(metadata, &s.Metadata); err != nil {
		return s, fmt.Errorf("reading the metadata of %s %s: %w", s.Name, s.Version, err)
	}
	if err := json.Unmarshal(operations, &s.Operations); err != nil {
		return s, fmt.Errorf("reading the operations of %s %s: %w", s.Name, s.Version, err)
	}
	if auth != nil {
		s.Auth = &registry.Auth{}
		if err := json.Unmarshal(auth, s.Auth); err != nil {
			return s, fmt.Errorf("reading the auth of %s %s: %w", s.Name, s.Version, err)
		}
	}
	if health != nil {
		s.HealthCheck = &registry.HealthCheck{}
		if err := json.Unmarshal(health, s.HealthCheck); err != nil {
			return s, fmt.Errorf("reading the health check of %s %s: %w", s.Name, s.Version, err)
		}
	}
	s.RegisteredAt, s.UpdatedAt = s.RegisteredAt.UTC(), s.UpdatedAt.UTC()
	return s, nil
}

func scanInstance(row pgx.CollectableRow) (registry.Instance, error) {
	var in registry.Instance
	var metadata []byte
	var status string
	var checkedAt, ejectedUntil *time.Time
	if err := row.Scan(&in.Service, &in.ID, &in.Version, &in.Endpoint, &in.FunctionARN, &in.Weight, &in.Zone, &in.Internal, &metadata,
		&status, &in.StatusReason, &in.TTLSeconds, &in.RegisteredAt, &in.HeartbeatAt, &in.CheckPasses, &in.CheckFailures, &checkedAt, &ejectedUntil); err != nil {
		return in, err
	}
	in.Status = registry.Status(status)
	if err := unmarshalMap(metadata, &in.Metadata); err != nil {
		return in, fmt.Errorf("reading the metadata of instance %s of %s: %w", in.ID, in.Service, err)
	}
	in.RegisteredAt, in.HeartbeatAt = in.RegisteredAt.UTC(), in.HeartbeatAt.UTC()
	if checkedAt != nil {
		in.CheckedAt = checkedAt.UTC()
	}
	if ejectedUntil != nil {
		in.EjectedUntil = ejectedUntil.UTC()
	}
	return in, nil
}

// unmarshalMap reads a JSON object of strings; an empty one reads as nil,
// as the registry never tells them apart.
func unmarshalMap(raw []byte, out *map[string]string) error {
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		return err
	}
	if len(m) > 0 {
		*out = m
	}
	return nil
}

func marshalMap(m map[string]string) ([]byte, error) {
	if m == nil {
		return []byte(`{}`), nil
	}
	return json.Marshal(m)
}

// nullTime is t, or NULL for the zero time.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Save writes c and appends its events in one transaction, if the name
// is still at c.Revision.
func (s *Store) Save(ctx context.Context, c registry.Change) error {
	var reqs []eventstore.AppendRequest
	if len(c.Events) > 0 {
		evs := make([]eventstore.NewEvent, len(c.Events))
		for i, e := range c.Events {
			e.Sequence = 0
			data, err := json.Marshal(e)
			if err != nil {
				return fmt.Errorf("saving service %s: encoding event %d (%s): %w", c.Name, i, e.Type, err)
			}
			evs[i] = eventstore.NewEvent{Type: string(e.Type), Data: data, ExactData: true, Metadata: eventstore.Metadata{Actor: e.Actor}}
		}
		reqs = []eventstore.AppendRequest{{StreamID: registry.StreamID(c.Name), Expected: eventstore.Any, Events: evs}}
	}
	_, err := s.events.AppendManyWith(ctx, reqs, func(ctx context.Context, tx pgx.Tx) error { return write(ctx, tx, c) })
	if err != nil {
		return fmt.Errorf("saving service %s at revision %d: %w", c.Name, c.Revision, interpret(err))
	}
	return nil
}

// write runs a change's statements inside the append's transaction.
func write(ctx context.Context, tx pgx.Tx, c registry.Change) error {
	if c.Revision == 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO registry.service_names (name, revision) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING`, c.Name); err != nil {
			return err
		}
	}
	tag, err := tx.Exec(ctx, `UPDATE registry.service_names SET revision = revision + 1 WHERE name = $1 AND revision = $2`, c.Name, c.Revision)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return errStale
	}
	b := &pgx.Batch{}
	if len(c.DeleteServices) > 0 {
		b.Queue(`DELETE FROM registry.services WHERE name = $1 AND version = ANY ($2)`, c.Name, c.DeleteServices)
	}
	for _, svc := range c.PutServices {
		if svc.Name != c.Name {
			return fmt.Errorf("the change of service %s puts service %s", c.Name, svc.Name)
		}
		args, err := serviceArgs(svc)
		if err != nil {
			return err
		}
		b.Queue(`INSERT INTO registry.services (`+serviceColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
			ON CONFLICT (name, version) DO UPDATE SET description = EXCLUDED.description, capabilities = EXCLUDED.capabilities,
				metadata = EXCLUDED.metadata, operations = EXCLUDED.operations, auth = EXCLUDED.auth, health_check = EXCLUDED.health_check,
				balancing = EXCLUDED.balancing, registered_at = EXCLUDED.registered_at, updated_at = EXCLUDED.updated_at`, args...)
	}
	if len(c.DeleteInstances) > 0 {
		b.Queue(`DELETE FROM registry.instances WHERE service = $1 AND id = ANY ($2)`, c.Name, c.DeleteInstances)
	}
	if b.Len() > 0 {
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
	}
	return putInstances(ctx, tx, c)
}

// putInstances updates the change's instances that exist and inserts the
// others, in that order so that a role that may only update instances (the
// workers', which eject) needs no right to insert.
func putInstances(ctx context.Context, tx pgx.Tx, c registry.Change) error {
	if len(c.PutInstances) == 0 {
		return nil
	}
	args := make([][]any, len(c.PutInstances))
	updates := &pgx.Batch{}
	for i, in := range c.PutInstances {
		if in.Service != c.Name {
			return fmt.Errorf("the change of service %s puts an instance of %s: %w", c.Name, in.Service, registry.ErrNotFound)
		}
		metadata, err := marshalMap(in.Metadata)
		if err != nil {
			return err
		}
		args[i] = []any{in.Service, in.ID, in.Version, nullString(in.Endpoint), nullString(in.FunctionARN), in.Weight, in.Zone, in.Internal, metadata,
			string(in.Status), in.StatusReason, in.TTLSeconds, in.RegisteredAt, in.HeartbeatAt, in.CheckPasses, in.CheckFailures,
			nullTime(in.CheckedAt), nullTime(in.EjectedUntil)}
		updates.Queue(`UPDATE registry.instances SET version = $3, endpoint = $4, function_arn = $5, weight = $6, zone = $7, internal = $8,
				metadata = $9, status = $10, status_reason = $11, ttl_seconds = $12, registered_at = $13, heartbeat_at = $14,
				check_passes = $15, check_failures = $16, checked_at = $17, ejected_until = $18
			WHERE service = $1 AND id = $2`, args[i]...)
	}
	res := tx.SendBatch(ctx, updates)
	inserts := &pgx.Batch{}
	for i := range c.PutInstances {
		tag, err := res.Exec()
		if err != nil {
			res.Close()
			return err
		}
		if tag.RowsAffected() == 0 {
			inserts.Queue(`INSERT INTO registry.instances (service, id, version, endpoint, function_arn, weight, zone, internal, metadata,
					status, status_reason, ttl_seconds, registered_at, heartbeat_at, check_passes, check_failures, checked_at, ejected_until)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`, args[i]...)
		}
	}
	if err := res.Close(); err != nil {
		return err
	}
	if inserts.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, inserts).Close()
}

func serviceArgs(svc registry.Service) ([]any, error) {
	metadata, err := marshalMap(svc.Metadata)
	if err != nil {
		return nil, err
	}
	ops := svc.Operations
	if ops == nil {
		ops = []registry.Operation{}
	}
	operations, err := json.Marshal(ops)
	if err != nil {
		return nil, fmt.Errorf("encoding the operations of %s %s: %w", svc.Name, svc.Version, err)
	}
	var auth, health []byte
	if svc.Auth != nil {
		if auth, err = json.Marshal(svc.Auth); err != nil {
			return nil, err
		}
	}
	if svc.HealthCheck != nil {
		if health, err = json.Marshal(svc.HealthCheck); err != nil {
			return nil, err
		}
	}
	caps := svc.Capabilities
	if caps == nil {
		caps = []string{}
	}
	balancing := svc.Balancing
	if balancing == "" {
		balancing = registry.BalancingRoundRobin
	}
	return []any{svc.Name, svc.Version, svc.Description, caps, metadata, string(operations), auth, health, string(balancing), svc.RegisteredAt, svc.UpdatedAt}, nil
}

// Events returns up to limit events of name's history after sequence
// after, oldest first.
func (s *Store) Events(ctx context.Context, name string, after int64, limit int) ([]registry.Event, error) {
	stored, err := s.events.ReadStream(ctx, registry.StreamID(name), eventstore.ReadStreamOptions{From: max(after, 0) + 1, Limit: limit})
	if err != nil {
		return nil, fmt.Errorf("reading the history of service %s: %w", name, interpret(err))
	}
	out := make([]registry.Event, 0, len(stored))
	for _, ev := range stored {
		var e registry.Event
		if err := json.Unmarshal(ev.Data, &e); err != nil {
			return nil, fmt.Errorf("reading event %d of service %s: %w", ev.Version, name, err)
		}
		e.Sequence = ev.Version
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

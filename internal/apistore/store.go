// Package apistore keeps the records of the api schema in PostgreSQL:
// published workflows and their immutable versions, the idempotency keys
// of starts, and approvals. pgx's errors are translated here, once, into
// ErrNotFound and ErrConflict, and the database's unavailability into
// the outage package's class.
package apistore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aiflow/aiflow/internal/batchcall"
	"github.com/aiflow/aiflow/internal/outage"
)

// Errors of Store; the HTTP API maps them to statuses in its one table.
var (
	// ErrNotFound is returned for a workflow, version or approval that
	// does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict is returned when a write contradicts what is stored: an
	// idempotency key reused with another request, an approval decided
	// already.
	ErrConflict = errors.New("conflict")
)

// Store keeps the API's records in PostgreSQL (schema api, migration
// 00006): workflows and their immutable versions, idempotency keys and
// approvals. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool

	// claims batches the claims of idempotency keys (claims.go).
	claims batchcall.Group[IdempotencyKey, claimResult]
	// latest batches the reads of workflows' latest versions (latest.go).
	latest batchcall.Group[string, latestResult]
	// approvals batches the calls of AddApprovals (approvals.go).
	approvals batchcall.Group[[]Approval, error]
}

// New returns the store kept in pool's database.
func New(pool *pgxpool.Pool) *Store {
	s := &Store{pool: pool}
	s.claims = batchcall.Group[IdempotencyKey, claimResult]{Run: s.claimBatch, Max: maxClaimBatch, Timeout: claimBatchTimeout}
	s.latest = batchcall.Group[string, latestResult]{Run: s.latestVersions, Max: maxLatestBatch, Timeout: latestBatchTimeout, LeaveAbandoned: true}
	s.approvals = batchcall.Group[[]Approval, error]{Run: s.addApprovalCalls, Max: maxApprovalCalls, Timeout: approvalBatchTimeout}
	return s
}

// interpret translates pgx errors into the store's own, once.
func interpret(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return ErrConflict
	}
	return outage.Classify(err)
}

// Workflow is a published workflow.
type Workflow struct {
	Name            string    `json:"name"`
	StateMachineARN string    `json:"state_machine_arn"`
	LatestVersion   int       `json:"latest_version"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

// Version is one immutable version of a workflow.
type Version struct {
	Workflow   string `json:"workflow"`
	Version    int    `json:"version"`
	Definition string `json:"definition"`
	// ASL is the compiled state machine, with the queue substitutions
	// (${AiStepQueueUrl}, ...) as the compiler writes them.
	ASL string `json:"asl"`
	// Graph is a Mermaid flowchart of the workflow.
	Graph string `json:"graph"`
	// InputSchema is the JSON Schema of the execution input; empty when
	// the workflow declares none.
	InputSchema string    `json:"-"`
	Checksum    string    `json:"checksum"`
	CreatedBy   string    `json:"created_by"`
	CreatedAt   time.Time `json:"created_at"`
	// StateMachineVersionARN is the Step Functions version the workflow
	// version was last published as, where its executions start; empty
	// for a version published before versions were (see versionarns.go).
	StateMachineVersionARN string `json:"-"`
}

// PublishResult is what Publish did.
type PublishResult struct {
	Workflow Workflow
	Version  Version
	// Created is false when the latest version already had the checksum,
	// and no version was added.
	Created bool
}

// Publish stores v as the next version of its workflow, recording the
// state machine's ARN, unless the latest version has the same checksum;
// the workflow's row is locked meanwhile, so versions are numbered without
// gaps or duplicates.
func (s *Store) Publish(ctx context.Context, v Version, stateMachineARN string) (PublishResult, error) {
	var res PublishResult
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO api.workflows (name, state_machine_arn, latest_version, created_at, updated_at)
			VALUES ($1, $2, 1, $3, $3) ON CONFLICT (name) DO NOTHING`, v.Workflow, stateMachineARN, v.CreatedAt); err != nil {
			return err
		}
		w, err := scanWorkflow(tx.QueryRow(ctx, `SELECT name, state_machine_arn, latest_version, created_at, updated_at
			FROM api.workflows WHERE name = $1 FOR UPDATE`, v.Workflow))
		if err != nil {
			return err
		}
		latest, err := scanVersion(tx.QueryRow(ctx, versionSelect+` WHERE workflow = $1 AND version = $2`, v.Workflow, w.LatestVersion))
		switch {
		case err == nil && latest.Checksum == v.Checksum:
			if err := recordVersionARN(ctx, tx, &latest, v.StateMachineVersionARN); err != nil {
				return err
			}
			res = PublishResult{Workflow: w, Version: latest}
			return nil
		case err == nil:
			v.Version = w.LatestVersion + 1
		case errors.Is(err, pgx.ErrNoRows):
			v.Version = w.LatestVersion // the row was just made
		default:
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO api.workflow_versions
			(workflow, version, definition, asl, graph, input_schema, checksum, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, NULLIF($6, ''), $7, $8, $9)`,
			v.Workflow, v.Version, v.Definition, v.ASL, v.Graph, v.InputSchema, v.Checksum, v.CreatedBy, v.CreatedAt); err != nil {
			return err
		}
		arn := v.StateMachineVersionARN
		v.StateMachineVersionARN = ""
		if err := recordVersionARN(ctx, tx, &v, arn); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE api.workflows SET latest_version = $2, state_machine_arn = $3, updated_at = $4 WHERE name = $1`,
			v.Workflow, v.Version, stateMachineARN, v.CreatedAt); err != nil {
			return err
		}
		w.LatestVersion, w.StateMachineARN, w.UpdatedAt = v.Version, stateMachineARN, v.CreatedAt
		res = PublishResult{Workflow: w, Version: v, Created: true}
		return nil
	})
	if err != nil {
		return PublishResult{}, fmt.Errorf("publishing a version of %s: %w", v.Workflow, interpret(err))
	}
	return res, nil
}

// StateMachineARN returns the ARN a workflow was last published to, or
// ErrNotFound.
func (s *Store) StateMachineARN(ctx context.Context, name string) (string, error) {
	var arn string
	err := s.pool.QueryRow(ctx, `SELECT state_machine_arn FROM api.workflows WHERE name = $1`, name).Scan(&arn)
	if err != nil {
		return "", fmt.Errorf("reading workflow %s: %w", name, interpret(err))
	}
	return arn, nil
}

// Workflow returns a workflow, or ErrNotFound.
func (s *Store) Workflow(ctx context.Context, name string) (Workflow, error) {
	w, err := scanWorkflow(s.pool.QueryRow(ctx, `SELECT name, state_machine_arn, latest_version, created_at, updated_at
		FROM api.workflows WHERE name = $1`, name))
	if err != nil {
		return Workflow{}, fmt.Errorf("reading workflow %s: %w", name, interpret(err))
	}
	return w, nil
}

// Workflows returns up to limit workflows named after after, in name order.
func (s *Store) Workflows(ctx context.Context, after string, limit int) ([]Workflow, error) {
	rows, err := s.pool.Query(ctx, `SELECT name, state_machine_arn, latest_version, created_at, updated_at
		FROM api.workflows WHERE name > $1 ORDER BY name LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("listing workflows: %w", interpret(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Workflow, error) { return scanWorkflow(r) })
	if err != nil {
		return nil, fmt.Errorf("listing workflows: %w", interpret(err))
	}
	return out, nil
}

// WorkflowByARN returns the workflow whose state machine is arn, or
// ErrNotFound.
func (s *Store) WorkflowByARN(ctx context.Context, arn string) (Workflow, error) {
	w, err := scanWorkflow(s.pool.QueryRow(ctx, `SELECT name, state_machine_arn, latest_version, created_at, updated_at
		FROM api.workflows WHERE state_machine_arn = $1`, arn))
	if err != nil {
		return Workflow{}, fmt.Errorf("reading the workflow of %s: %w", arn, interpret(err))
	}
	return w, nil
}

const versionSelect = `SELECT workflow, version, definition, asl, graph, COALESCE(input_schema, ''), checksum, created_by, created_at,
	COALESCE(state_machine_version_arn, '') FROM api.workflow_versions LEFT JOIN api.workflow_version_arns USING (workflow, version)`

// Version returns one version of a workflow, or ErrNotFound.
func (s *Store) Version(ctx context.Context, name string, version int) (Version, error) {
	v, err := scanVersion(s.pool.QueryRow(ctx, versionSelect+` WHERE workflow = $1 AND version = $2`, name, version))
	if err != nil {
		return Version{}, fmt.Errorf("reading version %d of %s: %w", version, name, interpret(err))
	}
	return v, nil
}

func scanWorkflow(row pgx.Row) (Workflow, error) {
	var w Workflow
	err := row.Scan(&w.Name, &w.StateMachineARN, &w.LatestVersion, &w.CreatedAt, &w.UpdatedAt)
	w.CreatedAt, w.UpdatedAt = w.CreatedAt.UTC(), w.UpdatedAt.UTC()
	return w, err
}

func scanVersion(row pgx.Row) (Version, error) {
	var v Version
	err := row.Scan(&v.Workflow, &v.Version, &v.Definition, &v.ASL, &v.Graph, &v.InputSchema, &v.Checksum, &v.CreatedBy, &v.CreatedAt,
		&v.StateMachineVersionARN)
	v.CreatedAt = v.CreatedAt.UTC()
	return v, err
}

// IdempotencyKey is a key a principal sent with a start.
type IdempotencyKey struct {
	Principal    string
	Key          string
	RequestHash  string
	ExecutionARN string
	CreatedAt    time.Time
}

// ClaimKey records k unless the principal used the key before. It returns
// the key as stored and whether this call stored it: the same request
// hash means a retry of the same request; another is the caller's to
// refuse. It returns once the claim is committed; concurrent claims are
// committed together (claims.go).
func (s *Store) ClaimKey(ctx context.Context, k IdempotencyKey) (IdempotencyKey, bool, error) {
	return s.claim(ctx, k)
}

// Approval statuses.
const (
	ApprovalPending = "pending"
	// ApprovalDeciding is an approval whose decision is recorded and
	// fixed (Approval.Decision) but not yet known to be delivered to its
	// step: BeginDecision makes it, FinishDecision ends it.
	ApprovalDeciding = "deciding"
	ApprovalApproved = "approved"
	ApprovalRejected = "rejected"
	// ApprovalExpired is an approval whose step stopped waiting (it timed
	// out, or its execution ended) before anyone decided.
	ApprovalExpired = "expired"
)

// Approval is an approval step waiting for, or given, a decision.
type Approval struct {
	ID           string   `json:"id"`
	ExecutionARN string   `json:"-"`
	StepID       string   `json:"step"`
	TaskToken    string   `json:"-"`
	Message      string   `json:"message"`
	Approvers    []string `json:"approvers"`
	Status       string   `json:"status"`
	// Decision is the decision recorded, approved or rejected: set from
	// BeginDecision on, and kept once the approval is decided.
	Decision  string     `json:"-"`
	DecidedBy string     `json:"decided_by,omitempty"`
	Comment   string     `json:"comment,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	DecidedAt *time.Time `json:"decided_at,omitempty"`
}

// AddApproval records a pending approval, whose id must be ApprovalID of
// its task token; a second delivery of the same task token changes
// nothing.
func (s *Store) AddApproval(ctx context.Context, a Approval) error {
	if err := checkApprovalIDs([]Approval{a}); err != nil {
		return err
	}
	if a.Approvers == nil {
		a.Approvers = []string{}
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO api.approvals (id, execution_arn, step_id, task_token, message, approvers, status, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7) ON CONFLICT DO NOTHING`,
		a.ID, a.ExecutionARN, a.StepID, a.TaskToken, a.Message, a.Approvers, a.CreatedAt)
	if err != nil {
		return fmt.Errorf("recording approval %s: %w", a.ID, interpret(err))
	}
	return nil
}

const approvalColumns = `id, execution_arn, step_id, task_token, message, approvers, status, COALESCE(decision, ''),
	COALESCE(decided_by, ''), COALESCE(comment, ''), created_at, decided_at`

const approvalSelect = `SELECT ` + approvalColumns + ` FROM api.approvals`

func scanApproval(row pgx.Row) (Approval, error) {
	var a Approval
	err := row.Scan(&a.ID, &a.ExecutionARN, &a.StepID, &a.TaskToken, &a.Message, &a.Approvers, &a.Status, &a.Decision,
		&a.DecidedBy, &a.Comment, &a.CreatedAt, &a.DecidedAt)
	a.CreatedAt = a.CreatedAt.UTC()
	if a.DecidedAt != nil {
		t := a.DecidedAt.UTC()
		a.DecidedAt = &t
	}
	return a, err
}

// ApprovalFilter selects approvals to list.
type ApprovalFilter struct {
	// Status is one status; empty means pending.
	Status string
	// ExecutionARN, when set, keeps one execution's approvals.
	ExecutionARN string
	// After is the id of the last approval of the previous page.
	After string
	Limit int
}

// Approvals lists approvals in id order.
func (s *Store) Approvals(ctx context.Context, f ApprovalFilter) ([]Approval, error) {
	if f.Status == "" {
		f.Status = ApprovalPending
	}
	rows, err := s.pool.Query(ctx, approvalSelect+`
		WHERE status = $1 AND ($2 = '' OR execution_arn = $2) AND ($3 = '' OR id > $3)
		ORDER BY id LIMIT $4`, f.Status, f.ExecutionARN, f.After, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("listing approvals: %w", interpret(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Approval, error) { return scanApproval(r) })
	if err != nil {
		return nil, fmt.Errorf("listing approvals: %w", interpret(err))
	}
	return out, nil
}

// Approval returns one approval, or ErrNotFound.
func (s *Store) Approval(ctx context.Context, id string) (Approval, error) {
	a, err := scanApproval(s.pool.QueryRow(ctx, approvalSelect+` WHERE id = $1`, id))
	if err != nil {
		return Approval{}, fmt.Errorf("reading approval %s: %w", id, interpret(err))
	}
	return a, nil
}

// Decision is what BeginDecision records.
type Decision struct {
	ID string
	// Status is the decision: ApprovalApproved or ApprovalRejected.
	Status    string
	DecidedBy string
	Comment   string
	At        time.Time
}

// same reports whether a recorded decision is d: the same decision by the
// same principal with the same comment.
func (d Decision) same(a Approval) bool {
	return a.Decision == d.Status && a.DecidedBy == d.DecidedBy && a.Comment == d.Comment
}

// BeginDecision records d on a pending approval, which becomes
// ApprovalDeciding with d fixed, and returns it with began true: the
// caller then delivers the decision and calls FinishDecision. On an
// approval deciding with d already (a retry, or a call that failed between
// the steps) it changes nothing and returns it, began false, for the
// caller to deliver again; on one decided with d already it returns it as
// it is. Any other decision than the one recorded, and any decision on an
// expired approval, is ErrConflict, returned with the approval as stored;
// an unknown approval is ErrNotFound.
func (s *Store) BeginDecision(ctx context.Context, d Decision) (a Approval, began bool, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		a, err = scanApproval(tx.QueryRow(ctx, approvalSelect+` WHERE id = $1 FOR UPDATE`, d.ID))
		if err != nil {
			return err
		}
		switch {
		case a.Status == ApprovalPending:
		case a.Status == ApprovalExpired || !d.same(a):
			return ErrConflict
		default: // deciding or decided with d
			return nil
		}
		a, err = scanApproval(tx.QueryRow(ctx, `UPDATE api.approvals
			SET status = 'deciding', decision = $2, decided_by = NULLIF($3, ''), comment = NULLIF($4, ''), decided_at = $5
			WHERE id = $1 RETURNING `+approvalColumns, d.ID, d.Status, d.DecidedBy, d.Comment, d.At))
		began = err == nil
		return err
	})
	if err != nil {
		return a, false, fmt.Errorf("recording a decision on approval %s: %w", d.ID, interpret(err))
	}
	return a, began, nil
}

// FinishDecision ends a deciding approval once its decision is delivered:
// it becomes its decision, or ApprovalExpired (without decider or comment)
// when expired says the step had stopped waiting. On an approval that is
// not deciding (another call finished it) it changes nothing. It returns
// the approval as stored, or ErrNotFound.
func (s *Store) FinishDecision(ctx context.Context, id string, expired bool) (Approval, error) {
	a, err := scanApproval(s.pool.QueryRow(ctx, `UPDATE api.approvals
		SET status = CASE WHEN $2 THEN 'expired' ELSE decision END,
			decided_by = CASE WHEN $2 THEN NULL ELSE decided_by END,
			comment = CASE WHEN $2 THEN NULL ELSE comment END
		WHERE id = $1 AND status = 'deciding' RETURNING `+approvalColumns, id, expired))
	if errors.Is(err, pgx.ErrNoRows) {
		a, err = scanApproval(s.pool.QueryRow(ctx, approvalSelect+` WHERE id = $1`, id))
	}
	if err != nil {
		return a, fmt.Errorf("finishing the decision on approval %s: %w", id, interpret(err))
	}
	return a, nil
}

// Deciding returns up to limit approvals left deciding since before
// recorded: decisions whose delivery failed or was cut short, oldest
// first.
func (s *Store) Deciding(ctx context.Context, before time.Time, limit int) ([]Approval, error) {
	rows, err := s.pool.Query(ctx, approvalSelect+`
		WHERE status = 'deciding' AND decided_at < $1 ORDER BY decided_at, id LIMIT $2`, before, limit)
	if err != nil {
		return nil, fmt.Errorf("listing deciding approvals: %w", interpret(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Approval, error) { return scanApproval(r) })
	if err != nil {
		return nil, fmt.Errorf("listing deciding approvals: %w", interpret(err))
	}
	return out, nil
}

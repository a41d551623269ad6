package enginestore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/sfn"
)

// nameConstraint is the unique constraint on an execution's state machine
// and name (infra/migrations/00003_engine.sql).
const nameConstraint = "executions_state_machine_arn_name_key"

// group is one execution's part of a Commit call.
type group struct {
	arn, stream string
	commits     []int  // indexes in the call, in Seq order
	one         [1]int // the room of commits for the group of one commit
}

func (g *group) first(commits []engine.Commit) *engine.Commit { return &commits[g.commits[0]] }
func (g *group) last(commits []engine.Commit) *engine.Commit {
	return &commits[g.commits[len(g.commits)-1]]
}

// Commit writes the commits in order, all or none, in one transaction: an
// append to each execution's stream expecting its version to be the Seq
// before the first commit, and the upsert of every execution's summary. It
// returns a ValidationException *sfn.Error for a malformed commit and a
// ConflictException one for a Seq that is not the next of its execution,
// for a Seq stored already with other content, and for a first commit
// whose name its state machine has already. An error wrapping
// engine.ErrCommitRefused (no API error) says the database refuses the
// data of a commit; other errors (the database is unavailable) may pass.
//
// A commit that is stored already with the same Type and Data (a retry of
// a call that landed) writes nothing and, alone or with other such
// commits, succeeds; it never brings back an older summary.
func (s *Store) Commit(ctx context.Context, commits []engine.Commit) error {
	if len(commits) == 0 {
		return nil
	}
	for i := range commits {
		if err := engine.CheckCommit(i, &commits[i]); err != nil {
			return err
		}
	}
	groups, err := groupCommits(commits)
	if err != nil {
		return err
	}
	reqs := make([]eventstore.AppendRequest, len(groups))
	all := make([]eventstore.NewEvent, len(commits)) // every group's events, in one allocation
	for i, g := range groups {
		evs := all[:len(g.commits):len(g.commits)]
		all = all[len(g.commits):]
		for k, ci := range g.commits {
			c := &commits[ci]
			evs[k] = eventstore.NewEvent{
				ID: EventID(g.stream, c.Seq, c.Execution.StartDate), Type: c.Type, Data: c.Data, ExactData: true,
				Metadata: eventstore.Metadata{CorrelationID: g.arn},
			}
		}
		reqs[i] = eventstore.AppendRequest{StreamID: g.stream, Expected: eventstore.Exact(g.first(commits).Seq - 1), Events: evs}
	}
	summaries := newSummaries(commits, groups)
	if len(summaries.arns) == 0 {
		_, err = s.events.AppendMany(ctx, reqs)
	} else {
		// The summaries' upsert goes in the append's own pipeline: the
		// append, the upsert and the commit are one round trip.
		p := upsertParams(summaries)
		defer p.Release()
		_, err = s.events.AppendManyWithStatement(ctx, reqs, eventstore.AlsoStatement{Statement: &upsertEncoded, Params: p})
	}
	if err != nil {
		return s.commitError(ctx, commits, groups, err)
	}
	return nil
}

// groupCommits groups the commits by execution, in the order of their
// first commits, and checks what the call alone can tell: that the commits
// of one execution follow each other, and that no two first commits take
// one name.
func groupCommits(commits []engine.Commit) ([]*group, error) {
	// The groups are made in one slice, of room enough that none moves.
	all := make([]group, 0, len(commits))
	groups := make([]*group, 0, len(commits))
	byARN := make(map[string]*group, len(commits))
	var names map[[2]string]string
	for i := range commits {
		c := &commits[i]
		arn := c.Execution.ARN
		g := byARN[arn]
		if g == nil {
			all = append(all, group{arn: arn, stream: eventstore.ExecutionStreamID(arn)})
			g = &all[len(all)-1]
			g.commits = g.one[:0]
			byARN[arn] = g
			groups = append(groups, g)
		} else if prev := g.last(commits).Seq; c.Seq != prev+1 {
			return nil, engine.CommitConflictError(arn, prev+1, c.Seq)
		}
		if c.Seq == 1 {
			k := [2]string{c.Execution.StateMachineARN, c.Execution.Name}
			if other, taken := names[k]; taken {
				return nil, engine.ExecutionNameConflictError(arn, k[0], k[1], other)
			}
			if names == nil {
				names = map[[2]string]string{}
			}
			names[k] = arn
		}
		g.commits = append(g.commits, i)
	}
	return groups, nil
}

// summaries are the rows of engine.executions a call writes, one per
// execution, in ARN order so that concurrent calls lock rows in one order.
type summaries struct {
	arns, machines, names, statuses      []string
	starts                               []time.Time
	stops                                []*time.Time
	inputs, outputs, errs, causes, trace []string
	seqs                                 []int64
	redriveCounts                        []int32
	redriveDates                         []*time.Time
	versions, aliases                    []string
}

func newSummaries(commits []engine.Commit, groups []*group) *summaries {
	sorted := slices.Clone(groups)
	slices.SortFunc(sorted, func(a, b *group) int { return strings.Compare(a.arn, b.arn) })
	n := len(groups)
	s := &summaries{
		arns: make([]string, 0, n), machines: make([]string, 0, n), names: make([]string, 0, n), statuses: make([]string, 0, n),
		starts: make([]time.Time, 0, n), stops: make([]*time.Time, 0, n),
		inputs: make([]string, 0, n), outputs: make([]string, 0, n), errs: make([]string, 0, n), causes: make([]string, 0, n), trace: make([]string, 0, n),
		seqs: make([]int64, 0, n),
	}
	for _, g := range sorted {
		last := g.last(commits)
		if g.first(commits).Seq != 1 && !last.Execution.Status.Closed() && !g.redrives(commits) {
			// A running execution's summary changes only when it starts
			// and when it closes: its other commits leave the row as it
			// is, which halves the rows an execution rewrites.
			continue
		}
		r := last.Execution
		if first := g.first(commits); first.Seq == 1 {
			// A new execution's identity is that of its first commit
			// (an existing one's is kept by the upsert).
			id := first.Execution
			r.StateMachineARN, r.Name, r.StartDate, r.Input, r.TraceHeader = id.StateMachineARN, id.Name, id.StartDate, id.Input, id.TraceHeader
			r.VersionARN, r.AliasARN = id.VersionARN, id.AliasARN
		}
		var stop *time.Time
		if !r.StopDate.IsZero() {
			t := storeTime(r.StopDate)
			stop = &t
		}
		s.arns = append(s.arns, r.ARN)
		s.machines = append(s.machines, r.StateMachineARN)
		s.names = append(s.names, r.Name)
		s.statuses = append(s.statuses, string(r.Status))
		s.starts = append(s.starts, storeTime(r.StartDate))
		s.stops = append(s.stops, stop)
		s.inputs = append(s.inputs, r.Input)
		s.outputs = append(s.outputs, r.Output)
		s.errs = append(s.errs, r.Error)
		s.causes = append(s.causes, r.Cause)
		s.trace = append(s.trace, r.TraceHeader)
		s.seqs = append(s.seqs, last.Seq)
		s.addRedrive(r)
		s.versions = append(s.versions, r.VersionARN)
		s.aliases = append(s.aliases, r.AliasARN)
	}
	return s
}

// upsertStatement writes the summaries in the append's transaction (Commit
// sends it in the append's pipeline). An existing execution keeps its
// identity and takes the new status, stop date, output, error and cause,
// unless the row holds a later Seq already (a retried older commit). Only
// starts and ends are written (see newSummaries), so the row's seq is that
// of the last of them.
const upsertStatement = `INSERT INTO engine.executions AS e
		(arn, state_machine_arn, name, status, start_date, stop_date, input, output, error, cause, trace_header, seq, redrive_count, redrive_date, version_arn, alias_arn)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[],
			$7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::bigint[], $13::integer[], $14::timestamptz[], $15::text[], $16::text[])
		ON CONFLICT (arn) DO UPDATE SET status = EXCLUDED.status, stop_date = EXCLUDED.stop_date,
			output = EXCLUDED.output, error = EXCLUDED.error, cause = EXCLUDED.cause, seq = EXCLUDED.seq,
			redrive_count = EXCLUDED.redrive_count, redrive_date = EXCLUDED.redrive_date
		WHERE e.seq < EXCLUDED.seq`

// commitError turns a failed append into the Store's errors.
func (s *Store) commitError(ctx context.Context, commits []engine.Commit, groups []*group, err error) error {
	var (
		conflict *eventstore.ConflictError
		dup      *eventstore.DuplicateEventError
		invalid  *eventstore.InvalidError
	)
	switch {
	case errors.As(err, &conflict):
		if g := groupOf(groups, conflict.StreamID); g != nil {
			return engine.CommitConflictError(g.arn, conflict.Actual+1, g.first(commits).Seq)
		}
	case errors.As(err, &dup):
		if g := groupOf(groups, dup.StoredStreamID); g != nil {
			return &sfn.Error{Code: sfn.CodeConflict, Message: fmt.Sprintf("execution %s: commit seq %d is stored already with another type or other data", g.arn, dup.StoredVersion)}
		}
	case errors.As(err, &invalid):
		if g := groupOf(groups, invalid.StreamID); g != nil && invalid.Index >= 0 && invalid.Index < len(g.commits) {
			i := g.commits[invalid.Index]
			return &sfn.Error{Code: sfn.CodeValidation, Message: fmt.Sprintf("commit %d (execution %q, seq %d): %s %s", i, g.arn, commits[i].Seq, invalid.Field, invalid.Reason)}
		}
		return &sfn.Error{Code: sfn.CodeValidation, Message: fmt.Sprintf("committing %d transitions: %s", len(commits), invalid.Error())}
	case isUniqueViolation(err, nameConstraint):
		return s.nameConflict(ctx, commits)
	}
	if reason, ok := refusedData(err); ok {
		return fmt.Errorf("committing %d transitions: %w: %s", len(commits), engine.ErrCommitRefused, reason)
	}
	return opaque(fmt.Sprintf("committing %d transitions", len(commits)), err)
}

// refusedData reports whether PostgreSQL refused a statement for its data,
// which sending it again cannot mend, and why: a data exception (class 22,
// such as a NUL byte in a text column), an integrity constraint violation
// (class 23) or a program limit exceeded (class 54, such as a row too
// large). Every other error (a lost connection, a failover, a deadlock)
// may pass.
func refusedData(err error) (reason string, ok bool) {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || len(pgErr.Code) != 5 {
		return "", false
	}
	switch pgErr.Code[:2] {
	case "22", "23", "54":
		return pgErr.Message + " (SQLSTATE " + pgErr.Code + ")", true
	}
	return "", false
}

// groupOf finds the group of a stream as an eventstore error names it
// (an *InvalidError cuts long stream ids short and ends them with "…").
func groupOf(groups []*group, stream string) *group {
	prefix, cut := strings.CutSuffix(stream, "…")
	for _, g := range groups {
		if g.stream == stream || (cut && strings.HasPrefix(g.stream, prefix)) {
			return g
		}
	}
	return nil
}

// nameConflict names the first commit whose execution name its state
// machine had already, after the transaction that found it rolled back.
func (s *Store) nameConflict(ctx context.Context, commits []engine.Commit) error {
	var machines, names []string
	for _, c := range commits {
		if c.Seq == 1 {
			machines, names = append(machines, c.Execution.StateMachineARN), append(names, c.Execution.Name)
		}
	}
	var other, machine, name string
	err := s.pool.QueryRow(ctx, `SELECT arn, state_machine_arn, name FROM engine.executions
		WHERE (state_machine_arn, name) IN (SELECT * FROM unnest($1::text[], $2::text[])) LIMIT 1`,
		machines, names).Scan(&other, &machine, &name)
	if err == nil {
		for _, c := range commits {
			if c.Seq == 1 && c.Execution.StateMachineARN == machine && c.Execution.Name == name && c.Execution.ARN != other {
				return engine.ExecutionNameConflictError(c.Execution.ARN, machine, name, other)
			}
		}
	}
	return &sfn.Error{Code: sfn.CodeConflict, Message: fmt.Sprintf("committing %d transitions: a new execution has a name its state machine has already", len(commits))}
}

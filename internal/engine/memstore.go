package engine

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aiflow/aiflow/internal/sfn"
)

// MemoryStore is a Store that keeps everything in the process's memory:
// the --in-memory mode and fast tests. It is safe for concurrent use.
//
// It follows the Store contract of the PostgreSQL store (see
// enginetest.RunStoreSuite) with one difference: a retried commit that is
// already stored (the same Seq) is refused as a conflict, where the
// PostgreSQL store accepts an identical one as a no-op. The engine never
// retries a commit that succeeded, and a MemoryStore cannot fail after
// writing. It keeps the engine's batches as values (see BatchKeeper) and
// encodes each the first time Batches reads it. It checks only the shape
// of a commit's Data (braces around it) and its size, not that it is
// valid JSON: the engine makes it. The
// PostgreSQL store also refuses, as a ValidationException, Data that is
// not valid JSON or holds \u0000, which PostgreSQL's jsonb cannot keep.
type MemoryStore struct {
	mu        sync.RWMutex
	machines  map[string]StateMachineRecord
	revisions map[memRevision]memRevisionText
	execs     map[string]*memExecution
	byMachine map[string][]*memExecution // by (StartDate, ARN), oldest first
	names     map[memName]string         // (state machine, name) -> execution ARN
	vs        memVersions
	// activities are kept for ActivityStore; nil until the first.
	activities map[string]ActivityRecord
	// held, fresh and named are Commit's scratch, kept between calls
	// (under mu) so that a group commit allocates nothing: each commit's
	// execution, the executions the call starts, and the names they take.
	held  []*memExecution
	fresh map[string]*memExecution
	named map[memName]string
}

// memExecution is one execution: its summary, the Seq of its last commit
// and its batches back to back in one buffer, which costs one slice per
// execution instead of one per commit.
type memExecution struct {
	rec   ExecutionRecord
	start int64 // rec.StartDate in Unix microseconds
	seq   int64
	// pending is, while Commit checks a call, the Seq of the call's last
	// commit to the execution so far; 0 otherwise.
	pending int64
	// batches are the commits' Batch, or their Data as given: the engine
	// never changes either once written, so keeping them costs no copy.
	batches []*Batch
}

type memName struct{ stateMachine, name string }

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{
		machines:  map[string]StateMachineRecord{},
		revisions: map[memRevision]memRevisionText{},
		execs:     map[string]*memExecution{},
		byMachine: map[string][]*memExecution{},
		names:     map[memName]string{},
	}
}

var (
	_ Store       = (*MemoryStore)(nil)
	_ BatchKeeper = (*MemoryStore)(nil)
)

// KeepsBatches reports true: a MemoryStore keeps the engine's batches as
// values and encodes each only when Batches first reads it.
func (s *MemoryStore) KeepsBatches() bool { return true }

// PutStateMachine creates or replaces a state machine. It returns a
// ValidationException *Error when the ARN is empty.
func (s *MemoryStore) PutStateMachine(_ context.Context, sm StateMachineRecord) error {
	if sm.ARN == "" {
		return errorf(sfn.CodeValidation, "state machine %q: the ARN is empty", sm.Name)
	}
	sm.CreationDate = memTime(sm.CreationDate)
	sm.UpdateDate = memTime(sm.UpdateDate)
	sm.Tags = maps.Clone(sm.Tags)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.machines[sm.ARN] = sm
	if sm.RevisionID != "" {
		k := memRevision{sm.ARN, sm.RevisionID}
		if _, kept := s.revisions[k]; !kept {
			s.revisions[k] = memRevisionText{sm.Definition, sm.RoleARN}
		}
	}
	return nil
}

// memRevision is a revision of a state machine, and memRevisionText its
// definition and role.
type (
	memRevision     struct{ machine, id string }
	memRevisionText struct{ definition, roleARN string }
)

// StateMachineRevision returns a revision PutStateMachine kept.
func (s *MemoryStore) StateMachineRevision(_ context.Context, stateMachineARN, revisionID string) (definition, roleARN string, ok bool, err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.revisions[memRevision{stateMachineARN, revisionID}]
	return t.definition, t.roleARN, ok, nil
}

// DeleteStateMachine removes a state machine; its executions stay.
func (s *MemoryStore) DeleteStateMachine(_ context.Context, arn string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.machines, arn)
	return nil
}

// StateMachines returns every state machine in ARN order.
func (s *MemoryStore) StateMachines(context.Context) ([]StateMachineRecord, error) {
	s.mu.RLock()
	out := make([]StateMachineRecord, 0, len(s.machines))
	for _, sm := range s.machines {
		out = append(out, sm)
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b StateMachineRecord) int { return strings.Compare(a.ARN, b.ARN) })
	return out, nil
}

// Commit writes the commits in order, all or none. It returns a
// ValidationException *Error for a malformed commit and a
// ConflictException *Error for one whose Seq is not one past the last of
// its execution, or whose first commit names an execution its state
// machine has already; nothing of the call is written then.
func (s *MemoryStore) Commit(_ context.Context, commits []Commit) error {
	for i := range commits {
		if err := CheckCommit(i, &commits[i]); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	held, err := s.checkSeqs(commits)
	if err == nil {
		for i := range commits {
			s.apply(&commits[i], held[i])
		}
	}
	clear(held)
	s.held = held[:0]
	return err
}

// MaxBatchBytes bounds the Data of one commit. The PostgreSQL store keeps
// each batch as one event of its event store, which holds at most 1 MiB
// with its metadata; every Store refuses more, so that the in-memory mode
// fails where the durable one would.
const MaxBatchBytes = 1_000_000

// CheckCommit checks the shape of the i-th commit of a Store.Commit call:
// an execution ARN, a Seq from 1, a Type, Data that looks like a JSON
// object of at most MaxBatchBytes (or, with no Data, a Batch, whose size
// the engine checked), and a state machine and a name on the first
// commit. It returns a ValidationException *Error naming the commit
// and what is wrong. Stores call it before they write anything.
func CheckCommit(i int, c *Commit) error {
	bad := func(what string, args ...any) error {
		return errorf(sfn.CodeValidation, "commit %d (execution %q, seq %d): %s", i, c.Execution.ARN, c.Seq, fmt.Sprintf(what, args...))
	}
	switch {
	case c.Execution.ARN == "":
		return bad("the execution ARN is empty")
	case c.Seq < 1:
		return bad("seq must be 1 or more")
	case c.Type == "":
		return bad("the type is empty")
	case c.Seq == 1 && c.Execution.StateMachineARN == "":
		return bad("the state machine ARN is empty")
	case c.Seq == 1 && c.Execution.Name == "":
		return bad("the execution name is empty")
	}
	if c.Data == nil && c.Batch != nil {
		return nil // the engine checked its size (see BatchKeeper)
	}
	if len(c.Data) > MaxBatchBytes {
		return bad("the data is %d bytes, more than the %d-byte limit of a batch", len(c.Data), MaxBatchBytes)
	}
	d := bytes.TrimSpace(c.Data)
	if len(d) < 2 || d[0] != '{' || d[len(d)-1] != '}' {
		return bad("the data must be a JSON object, got %s", memPreview(c.Data))
	}
	return nil
}

func memPreview(b []byte) string {
	const n = 40
	if len(b) > n {
		return strconv.Quote(string(b[:n])) + "…"
	}
	return strconv.Quote(string(b))
}

// checkSeqs checks every commit's Seq against what is stored and what the
// commits before it in the call write, and returns each commit's
// execution (in s.held): a stored one, or, for an execution the call
// starts, a new one with no commit yet (Seq 0) that apply stores. s.mu is
// held. Each commit looks its execution up once, which apply reuses.
func (s *MemoryStore) checkSeqs(commits []Commit) ([]*memExecution, error) {
	held := s.held[:0]
	defer func() {
		for _, e := range held {
			e.pending = 0
		}
		clear(s.fresh)
		clear(s.named)
	}()
	for i := range commits {
		c := &commits[i]
		arn := c.Execution.ARN
		e := s.execs[arn]
		if e == nil && len(s.fresh) > 0 {
			e = s.fresh[arn]
		}
		var last int64
		if e != nil {
			last = e.seq
			if e.pending != 0 {
				last = e.pending
			}
		}
		if err := s.checkSeq(c, last, s.named); err != nil {
			return held, err
		}
		if e == nil {
			// A first commit (checkSeq saw Seq 1).
			e = &memExecution{}
			if s.fresh == nil {
				s.fresh, s.named = map[string]*memExecution{}, map[memName]string{}
			}
			s.fresh[arn] = e
			s.named[memName{c.Execution.StateMachineARN, c.Execution.Name}] = arn
		}
		e.pending = c.Seq
		held = append(held, e)
	}
	return held, nil
}

// checkSeq checks one commit against its execution's last Seq and, for a
// first commit, that its name is free (in the store and in named, the
// names earlier commits of the call take).
func (s *MemoryStore) checkSeq(c *Commit, last int64, named map[memName]string) error {
	if c.Seq != last+1 {
		return CommitConflictError(c.Execution.ARN, last+1, c.Seq)
	}
	if c.Seq != 1 {
		return nil
	}
	k := memName{c.Execution.StateMachineARN, c.Execution.Name}
	other, taken := s.names[k]
	if !taken {
		other, taken = named[k]
	}
	if taken {
		return ExecutionNameConflictError(c.Execution.ARN, c.Execution.StateMachineARN, c.Execution.Name, other)
	}
	return nil
}

// CommitConflictError is the ConflictException *Error of a commit whose
// Seq is not the next one of its execution.
func CommitConflictError(executionARN string, expected, given int64) *sfn.Error {
	return errorf(sfn.CodeConflict, "execution %s: commit seq %d is not the next one; expected seq %d", executionARN, given, expected)
}

// ExecutionNameConflictError is the ConflictException *Error of a first
// commit whose execution name its state machine has already.
func ExecutionNameConflictError(executionARN, stateMachineARN, name, other string) *sfn.Error {
	return errorf(sfn.CodeConflict, "execution %s: state machine %s has an execution named %q already (%s)", executionARN, stateMachineARN, name, other)
}

// apply writes one checked commit to its execution e, which checkSeqs
// gave; s.mu is held.
func (s *MemoryStore) apply(c *Commit, e *memExecution) {
	rec := c.Execution
	if e.seq == 0 {
		rec.StartDate = memTime(rec.StartDate)
		e.start = rec.StartDate.UnixMicro()
		s.execs[rec.ARN] = e
		s.names[memName{rec.StateMachineARN, rec.Name}] = rec.ARN
		list := s.byMachine[rec.StateMachineARN]
		if n := len(list); n == 0 || memCompare(list[n-1].start, list[n-1].rec.ARN, e.start, rec.ARN) < 0 {
			// The usual case: the newest execution so far.
			s.byMachine[rec.StateMachineARN] = append(list, e)
		} else {
			at, _ := slices.BinarySearchFunc(list, e, func(a, b *memExecution) int {
				return memCompare(a.start, a.rec.ARN, b.start, rec.ARN)
			})
			s.byMachine[rec.StateMachineARN] = slices.Insert(list, at, e)
		}
	} else {
		// The identity of an execution is that of its first commit.
		rec.StateMachineARN, rec.Name, rec.StartDate = e.rec.StateMachineARN, e.rec.Name, e.rec.StartDate
		rec.Input, rec.TraceHeader = e.rec.Input, e.rec.TraceHeader
	}
	rec.StopDate = memTime(rec.StopDate)
	rec.RedriveDate = memTime(rec.RedriveDate)
	e.rec = rec
	e.seq = c.Seq
	b := c.Batch
	if c.Data != nil || b == nil {
		b = &Batch{data: c.Data}
	}
	if e.batches == nil {
		// Room for the four commits of a short execution (a start, two
		// tasks, the end), where growing from one would allocate three
		// times; a finished execution gives back what it did not use.
		e.batches = make([]*Batch, 0, 4)
	}
	e.batches = append(e.batches, b)
	if rec.Status.Closed() && cap(e.batches) > len(e.batches) {
		// A finished execution gets no more batches: give back the
		// list's spare room.
		e.batches = slices.Clone(e.batches)
	}
}

// compareKey orders executions by start, then ARN.
func memCompare(startA int64, arnA string, startB int64, arnB string) int {
	if c := cmp.Compare(startA, startB); c != 0 {
		return c
	}
	return strings.Compare(arnA, arnB)
}

// storeTime is t as the stores keep it: microseconds, UTC.
func memTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.Truncate(time.Microsecond).UTC()
}

// Batches returns copies of an execution's batches in Seq order; nil for
// an unknown execution.
func (s *MemoryStore) Batches(_ context.Context, executionARN string) ([]json.RawMessage, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e := s.execs[executionARN]
	if e == nil {
		return nil, nil
	}
	out := make([]json.RawMessage, len(e.batches))
	for i, b := range e.batches {
		out[i] = slices.Clone(b.JSON())
	}
	return out, nil
}

// Execution returns one execution's summary.
func (s *MemoryStore) Execution(_ context.Context, arn string) (ExecutionRecord, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if e := s.execs[arn]; e != nil {
		return e.rec, true, nil
	}
	return ExecutionRecord{}, false, nil
}

// Executions lists a state machine's executions, newest start first (the
// greater ARN first on a tie), without their Input and Output. Its errors
// are those of CheckExecutionFilter.
func (s *MemoryStore) Executions(_ context.Context, f ExecutionFilter) ([]ExecutionRecord, string, error) {
	page, err := CheckExecutionFilter(f)
	if err != nil {
		return nil, "", err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	list := s.byMachine[f.StateMachineARN]
	i := len(list) - 1
	if page.HasAfter {
		// The first execution at or above the position sits at n; the
		// walk starts just under it.
		n, _ := slices.BinarySearchFunc(list, page.AfterARN, func(e *memExecution, arn string) int {
			return memCompare(e.start, e.rec.ARN, page.AfterStart, arn)
		})
		i = n - 1
	}
	var out []ExecutionRecord
	for ; i >= 0; i-- {
		e := list[i]
		if f.Status != "" && e.rec.Status != f.Status || !redriveMatches(f.Redrive, e.rec.RedriveCount) ||
			f.VersionARN != "" && e.rec.VersionARN != f.VersionARN || f.AliasARN != "" && e.rec.AliasARN != f.AliasARN {
			continue
		}
		if len(out) == page.Limit {
			last := out[len(out)-1]
			return out, ExecutionCursor(last.StartDate, last.ARN), nil
		}
		rec := e.rec
		rec.Input, rec.Output = "", ""
		out = append(out, rec)
	}
	return out, "", nil
}

// DefaultExecutionsLimit is the page size of Store.Executions when the
// filter's Limit is 0.
const DefaultExecutionsLimit = 100

// ExecutionPage is what CheckExecutionFilter makes of a filter: the page
// size and the position the page continues after.
type ExecutionPage struct {
	Limit int
	// HasAfter is false for the first page; otherwise the page holds the
	// executions below (AfterStart, AfterARN), AfterStart in Unix
	// microseconds.
	HasAfter   bool
	AfterStart int64
	AfterARN   string
}

// CheckExecutionFilter checks a filter of Store.Executions. It returns a
// ValidationException *Error when the state machine ARN is empty or the
// limit negative, and an InvalidToken one when After is not a position
// ExecutionCursor made.
func CheckExecutionFilter(f ExecutionFilter) (ExecutionPage, error) {
	if f.StateMachineARN == "" {
		return ExecutionPage{}, errorf(sfn.CodeValidation, "listing executions: the state machine ARN is empty")
	}
	page := ExecutionPage{Limit: f.Limit}
	switch {
	case f.Limit < 0:
		return ExecutionPage{}, errorf(sfn.CodeValidation, "listing executions of %s: the limit is %d; it must be 0 (meaning %d) or more", f.StateMachineARN, f.Limit, DefaultExecutionsLimit)
	case f.Limit == 0:
		page.Limit = DefaultExecutionsLimit
	}
	if f.After == "" {
		return page, nil
	}
	bad := errorf(sfn.CodeInvalidToken, "listing executions of %s: the position %s is not one a listing gave", f.StateMachineARN, memPreview([]byte(f.After)))
	raw, err := base64.RawURLEncoding.DecodeString(f.After)
	if err != nil {
		return ExecutionPage{}, bad
	}
	micros, arn, ok := strings.Cut(string(raw), "|")
	if !ok || arn == "" {
		return ExecutionPage{}, bad
	}
	if page.AfterStart, err = strconv.ParseInt(micros, 10, 64); err != nil {
		return ExecutionPage{}, bad
	}
	page.HasAfter, page.AfterARN = true, arn
	return page, nil
}

// ExecutionCursor is the After that continues a listing below the
// execution that started at start and has the ARN arn. Stores page on this
// key (keyset pagination), so a page does not shift when executions start
// while a caller pages.
func ExecutionCursor(start time.Time, arn string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(start.UnixMicro(), 10) + "|" + arn))
}

// OpenExecutions returns every RUNNING execution, oldest start first.
func (s *MemoryStore) OpenExecutions(context.Context) ([]ExecutionRecord, error) {
	s.mu.RLock()
	var out []ExecutionRecord
	for _, e := range s.execs {
		if e.rec.Status == sfn.StatusRunning {
			out = append(out, e.rec)
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b ExecutionRecord) int {
		return memCompare(a.StartDate.UnixMicro(), a.ARN, b.StartDate.UnixMicro(), b.ARN)
	})
	return out, nil
}

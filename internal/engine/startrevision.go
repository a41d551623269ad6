package engine

import (
	"context"
	"fmt"
)

// An execution's first commit names the revision of its state machine (or
// version) that it runs, whose definition and role the store keeps
// (Store.StateMachineRevision: PutStateMachine keeps every revision it is
// given, and the PostgreSQL store's database every revision any writer
// gives it), rather than carrying the definition, which every execution
// repeated. Executions that a release before revisions wrote carry their
// definition, and are read so.

// startOf is the start an execution of r (a state machine's record, or
// a version's under its state machine's ARN) writes in its first commit:
// the revision, or the definition of a record that has none.
func startOf(r StateMachineRecord) *batchStart {
	if r.RevisionID == "" {
		return &batchStart{Definition: r.Definition, RoleARN: r.RoleARN}
	}
	return &batchStart{Revision: r.RevisionID, RoleARN: r.RoleARN}
}

// startDefinition returns the definition and role an execution of the
// state machine stateMachineARN started with, from its first commit's
// start: the definition written there, or the revision's, which the store
// keeps.
func (e *Engine) startDefinition(ctx context.Context, stateMachineARN string, s *batchStart) (definition, roleARN string, err error) {
	if s.Revision == "" {
		return s.Definition, s.RoleARN, nil
	}
	definition, roleARN, ok, err := e.store.StateMachineRevision(ctx, stateMachineARN, s.Revision)
	if err != nil {
		return "", "", fmt.Errorf("reading revision %s of state machine %s: %w", s.Revision, stateMachineARN, err)
	}
	if !ok {
		return "", "", fmt.Errorf("revision %s of state machine %s, which the execution started on, is not in the store", s.Revision, stateMachineARN)
	}
	if s.RoleARN != "" {
		roleARN = s.RoleARN
	}
	return definition, roleARN, nil
}

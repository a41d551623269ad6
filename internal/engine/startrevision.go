package engine

import (
	"context"
	"fmt"
)

// An execution's first commit names the revision of its state machine (or
// version) that it runs, whose definition and role the store keeps
// (Store.StateMachineRevision), rather than carrying the definition,
// which every execution repeated. It carries the definition when the
// engine does not know the store to keep the revision: a state machine
// that a release before revisions created or changed, even after the
// migration that made the store keep them (the older release's process
// kept running beside it), has a revision the store never saw.

// revisionKey is a revision of a state machine.
type revisionKey struct{ machine, id string }

// putStateMachine puts rec in the store, which keeps its revision.
func (e *Engine) putStateMachine(ctx context.Context, rec StateMachineRecord) error {
	if err := e.store.PutStateMachine(ctx, rec); err != nil {
		return err
	}
	if rec.RevisionID != "" {
		e.kept.Store(revisionKey{rec.ARN, rec.RevisionID}, struct{}{})
	}
	return nil
}

// checkRevisions asks the store which revisions of the state machines and
// versions Start loaded it keeps.
func (e *Engine) checkRevisions(ctx context.Context) error {
	e.mu.Lock()
	keys := make([]revisionKey, 0, len(e.machines)+len(e.vs.versions))
	for _, m := range e.machines {
		keys = append(keys, revisionKey{m.rec.ARN, m.rec.RevisionID})
	}
	for _, v := range e.vs.versions {
		keys = append(keys, revisionKey{v.rec.StateMachineARN, v.rec.RevisionID})
	}
	e.mu.Unlock()
	for _, k := range keys {
		if _, known := e.kept.Load(k); known || k.id == "" {
			continue
		}
		_, _, ok, err := e.store.StateMachineRevision(ctx, k.machine, k.id)
		if err != nil {
			return fmt.Errorf("loading state machine revisions: %w", err)
		}
		if ok {
			e.kept.Store(k, struct{}{})
		}
	}
	return nil
}

// startOf is the start an execution of r (a state machine's record, or
// a version's under its state machine's ARN) writes in its first commit:
// the revision, when the store is known to keep it, or the definition.
func (e *Engine) startOf(r StateMachineRecord) *batchStart {
	if _, kept := e.kept.Load(revisionKey{r.ARN, r.RevisionID}); !kept || r.RevisionID == "" {
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

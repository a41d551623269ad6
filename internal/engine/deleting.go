package engine

import (
	"context"

	"github.com/aiflow/aiflow/internal/sfn"
)

// A deleted state machine whose executions still run stays, with status
// DELETING, until the last of them closes, as in Step Functions: it can
// be described but not started, updated or published. Its versions and
// aliases go at once.

// runningLocked reports whether an execution of the named state machine
// runs in this engine. The caller holds e.mu.
func (e *Engine) runningLocked(smName string) bool {
	for _, x := range e.execs {
		if x.smName == smName {
			return true
		}
	}
	return false
}

// deleteMachineLocked deletes a state machine, or marks it DELETING
// while executions of it run. The caller holds e.mu.
func (e *Engine) deleteMachineLocked(ctx context.Context, m *machine) error {
	if err := e.deleteVersionsLocked(ctx, m.rec.ARN); err != nil {
		return err
	}
	if e.runningLocked(m.rec.Name) {
		if m.rec.Status == sfn.StateMachineDeleting {
			return nil
		}
		rec := m.rec
		rec.Status = sfn.StateMachineDeleting
		if err := e.store.PutStateMachine(ctx, rec); err != nil {
			return e.storeError("DeleteStateMachine", err)
		}
		e.machines[rec.ARN] = &machine{rec: rec, sm: m.sm}
		return nil
	}
	if err := e.store.DeleteStateMachine(ctx, m.rec.ARN); err != nil {
		return e.storeError("DeleteStateMachine", err)
	}
	delete(e.machines, m.rec.ARN)
	return nil
}

// finishDeleting deletes a DELETING state machine once no execution of
// it runs: it is called when an execution of it closes, and at Start.
func (e *Engine) finishDeleting(ctx context.Context, smName string) {
	arn := e.stateMachineARN(smName)
	e.mu.Lock()
	defer e.mu.Unlock()
	m := e.machines[arn]
	if m == nil || m.rec.Status != sfn.StateMachineDeleting || e.runningLocked(smName) {
		return
	}
	if err := e.store.DeleteStateMachine(ctx, arn); err != nil {
		e.log.Error("deleting a state machine whose last execution closed", "state_machine", arn, "err", err)
		return
	}
	delete(e.machines, arn)
}

// finishDeletes deletes, at Start, the DELETING state machines that have
// no execution left.
func (e *Engine) finishDeletes(ctx context.Context) {
	e.mu.Lock()
	var names []string
	for _, m := range e.machines {
		if m.rec.Status == sfn.StateMachineDeleting {
			names = append(names, m.rec.Name)
		}
	}
	e.mu.Unlock()
	for _, n := range names {
		e.finishDeleting(ctx, n)
	}
}

package stack

import (
	"context"
	"errors"
	"os"

	"github.com/aiflow/aiflow/internal/sfn"
)

// createStateMachines creates the template's state machines on the engine,
// their definitions read from their files with the substitutions applied,
// or updates those a previous start created.
func (s *Stack) createStateMachines(ctx context.Context) error {
	fsys := os.DirFS(s.p.Dir)
	for _, sm := range s.model.StateMachines {
		def, err := sm.DefinitionString(fsys)
		if err != nil {
			return resourceErr(sm.LogicalID, "", "%w", err)
		}
		_, err = s.eng.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: sm.Name, Definition: def, RoleARN: sm.RoleARN, Type: sm.Type})
		var se *sfn.Error
		if errors.As(err, &se) && se.Code == sfn.CodeStateMachineAlreadyExists {
			_, err = s.eng.UpdateStateMachine(ctx, sfn.UpdateStateMachineInput{StateMachineARN: sm.ARN, Definition: &def, RoleARN: &sm.RoleARN})
		}
		if err != nil {
			return resourceErr(sm.LogicalID, "", "creating the state machine %s: %w", sm.Name, err)
		}
	}
	return nil
}

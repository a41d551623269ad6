package control

import (
	"context"

	"github.com/aiflow/aiflow/internal/sfn"
)

// StopParams is an execution to stop.
type StopParams struct {
	ExecutionARN string
	// Error and Cause are the execution's failure; empty means
	// "aiflow.Stopped" and a cause naming the principal.
	Error, Cause string
	// Principal stops it.
	Principal string
}

// Stop stops a running execution and returns it as it is then. Stopping
// is idempotent and its answer is the engine's view: when StopExecution
// fails but the execution has ended all the same (the engine stopped it
// and its answer was lost; the local engine failed it because its store
// refused the stop), Stop returns the execution as it ended, not an error
// saying it runs. Its errors are the engine's
// (sfn.CodeExecutionDoesNotExist for an unknown one).
func (s *Service) Stop(ctx context.Context, p StopParams) (sfn.Execution, error) {
	if p.Error == "" {
		p.Error = "aiflow.Stopped"
	}
	if p.Cause == "" {
		p.Cause = "stopped through the API by " + p.Principal
	}
	if _, err := s.opts.Engine.StopExecution(ctx, sfn.StopExecutionInput{ExecutionARN: p.ExecutionARN, Error: p.Error, Cause: p.Cause}); err != nil {
		if e, dErr := s.opts.Engine.DescribeExecution(ctx, p.ExecutionARN); dErr == nil && e.Status != sfn.StatusRunning {
			return e, nil
		}
		return sfn.Execution{}, err
	}
	return s.opts.Engine.DescribeExecution(ctx, p.ExecutionARN)
}

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

// Stop stops a running execution and returns it as it is then. Its errors
// are the engine's (sfn.CodeExecutionDoesNotExist for an unknown one).
func (s *Service) Stop(ctx context.Context, p StopParams) (sfn.Execution, error) {
	if p.Error == "" {
		p.Error = "aiflow.Stopped"
	}
	if p.Cause == "" {
		p.Cause = "stopped through the API by " + p.Principal
	}
	if _, err := s.opts.Engine.StopExecution(ctx, sfn.StopExecutionInput{ExecutionARN: p.ExecutionARN, Error: p.Error, Cause: p.Cause}); err != nil {
		return sfn.Execution{}, err
	}
	return s.opts.Engine.DescribeExecution(ctx, p.ExecutionARN)
}

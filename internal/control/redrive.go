package control

import (
	"context"

	"github.com/aiflow/aiflow/internal/sfn"
)

// RedriveParams is an execution to redrive.
type RedriveParams struct {
	ExecutionARN string
	// ClientToken makes the redrive idempotent: the same token within 15
	// minutes answers the same redrive (Step Functions' clientToken, at
	// most 64 characters); empty means none.
	ClientToken string
}

// Redrive carries a FAILED, TIMED_OUT or ABORTED execution on from the
// states that did not succeed, as Step Functions' RedriveExecution does,
// and returns the execution as it is then (RUNNING, unless it ended again
// at once). Its errors are the engine's: sfn.CodeExecutionNotRedrivable
// for one that runs or succeeded, closed more than 14 days ago, or of an
// EXPRESS state machine; sfn.CodeExecutionDoesNotExist for an unknown one.
func (s *Service) Redrive(ctx context.Context, p RedriveParams) (sfn.Execution, error) {
	if _, err := s.opts.Engine.RedriveExecution(ctx, sfn.RedriveExecutionInput{ExecutionARN: p.ExecutionARN, ClientToken: p.ClientToken}); err != nil {
		return sfn.Execution{}, err
	}
	return s.opts.Engine.DescribeExecution(ctx, p.ExecutionARN)
}

package sfnapi

import (
	"context"

	"github.com/aiflow/aiflow/internal/sfn"
)

// redriveFilters are the values of ListExecutions' redriveFilter.
var redriveFilters = []string{string(sfn.RedriveFilterRedriven), string(sfn.RedriveFilterNotRedriven)}

type redriveExecutionResponse struct {
	RedriveDate epochTime `json:"redriveDate"`
}

func (h *handler) redriveExecution(ctx context.Context, m *members) (any, error) {
	in := sfn.RedriveExecutionInput{
		ExecutionARN: m.required("executionArn"),
		ClientToken:  m.String("clientToken"),
	}
	if err := m.Done(); err != nil {
		return nil, err
	}
	out, err := h.svc.RedriveExecution(ctx, in)
	if err != nil {
		return nil, err
	}
	return redriveExecutionResponse{RedriveDate: epochTime(out.RedriveDate)}, nil
}

// describeExecutionResponse is DescribeExecution's answer: an execution
// with its redrive members, which Step Functions gives every execution
// of a STANDARD state machine (redriveCount 0 for one never redriven).
type describeExecutionResponse struct {
	executionResponse
	RedriveCount        int       `json:"redriveCount"`
	RedriveDate         epochTime `json:"redriveDate,omitzero"`
	RedriveStatus       string    `json:"redriveStatus,omitempty"`
	RedriveStatusReason string    `json:"redriveStatusReason,omitempty"`
}

func newDescribeExecutionResponse(x sfn.Execution) describeExecutionResponse {
	return describeExecutionResponse{
		executionResponse:   newExecutionResponse(x),
		RedriveCount:        x.RedriveCount,
		RedriveDate:         epochTime(x.RedriveDate),
		RedriveStatus:       string(x.RedriveStatus),
		RedriveStatusReason: x.RedriveStatusReason,
	}
}

package sfnapi

import (
	"context"
	"encoding/json"

	"github.com/aiflow/aiflow/internal/sfn"
)

// mapRuns is the Service's sfn.MapRuns, or the error that says this
// Service has none.
func (h *handler) mapRuns(op string) (sfn.MapRuns, error) {
	a, ok := h.svc.(sfn.MapRuns)
	if !ok {
		return nil, badRequest(CodeUnknownOperation, "the operation %s is not served here", op)
	}
	return a, nil
}

type mapRunCounts struct {
	Pending               int `json:"pending"`
	Running               int `json:"running"`
	Succeeded             int `json:"succeeded"`
	Failed                int `json:"failed"`
	TimedOut              int `json:"timedOut"`
	Aborted               int `json:"aborted"`
	Total                 int `json:"total"`
	ResultsWritten        int `json:"resultsWritten"`
	FailuresNotRedrivable int `json:"failuresNotRedrivable"`
	PendingRedrive        int `json:"pendingRedrive"`
}

func counts(c sfn.MapRunCounts) mapRunCounts {
	return mapRunCounts{Pending: c.Pending, Running: c.Running, Succeeded: c.Succeeded, Failed: c.Failed,
		TimedOut: c.TimedOut, Aborted: c.Aborted, Total: c.Total, ResultsWritten: c.ResultsWritten}
}

func (h *handler) describeMapRun(ctx context.Context, m *members) (any, error) {
	a, err := h.mapRuns("DescribeMapRun")
	if err != nil {
		return nil, err
	}
	arn := m.required("mapRunArn")
	if err := m.Done(); err != nil {
		return nil, err
	}
	r, err := a.DescribeMapRun(ctx, arn)
	if err != nil {
		return nil, err
	}
	return struct {
		MapRunARN                  string       `json:"mapRunArn"`
		ExecutionARN               string       `json:"executionArn"`
		Status                     string       `json:"status"`
		StartDate                  epochTime    `json:"startDate"`
		StopDate                   epochTime    `json:"stopDate,omitzero"`
		MaxConcurrency             int          `json:"maxConcurrency"`
		ToleratedFailurePercentage float64      `json:"toleratedFailurePercentage"`
		ToleratedFailureCount      int          `json:"toleratedFailureCount"`
		ItemCounts                 mapRunCounts `json:"itemCounts"`
		ExecutionCounts            mapRunCounts `json:"executionCounts"`
		RedriveCount               int          `json:"redriveCount"`
	}{r.MapRunARN, r.ExecutionARN, r.Status, epochTime(r.StartDate), epochTime(r.StopDate), r.MaxConcurrency,
		r.ToleratedFailurePercentage, r.ToleratedFailureCount, counts(r.ItemCounts), counts(r.ExecutionCounts), 0}, nil
}

func (h *handler) listMapRuns(ctx context.Context, m *members) (any, error) {
	a, err := h.mapRuns("ListMapRuns")
	if err != nil {
		return nil, err
	}
	in := sfn.ListMapRunsInput{ExecutionARN: m.required("executionArn"), MaxResults: m.integer("maxResults", 0, maxPageSize), NextToken: m.String("nextToken")}
	if err := m.Done(); err != nil {
		return nil, err
	}
	out, err := a.ListMapRuns(ctx, in)
	if err != nil {
		return nil, err
	}
	type item struct {
		ExecutionARN    string    `json:"executionArn"`
		MapRunARN       string    `json:"mapRunArn"`
		StateMachineARN string    `json:"stateMachineArn"`
		StartDate       epochTime `json:"startDate"`
		StopDate        epochTime `json:"stopDate,omitzero"`
	}
	resp := struct {
		MapRuns   []item `json:"mapRuns"`
		NextToken string `json:"nextToken,omitempty"`
	}{MapRuns: make([]item, 0, len(out.MapRuns)), NextToken: out.NextToken}
	for _, r := range out.MapRuns {
		resp.MapRuns = append(resp.MapRuns, item{r.ExecutionARN, r.MapRunARN, r.StateMachineARN, epochTime(r.StartDate), epochTime(r.StopDate)})
	}
	return resp, nil
}

func (h *handler) updateMapRun(ctx context.Context, m *members) (any, error) {
	a, err := h.mapRuns("UpdateMapRun")
	if err != nil {
		return nil, err
	}
	in := sfn.UpdateMapRunInput{MapRunARN: m.required("mapRunArn")}
	if v := m.Value("maxConcurrency"); v != nil {
		n := m.integer("maxConcurrency", 0, 10000)
		in.MaxConcurrency = &n
	}
	if v := m.Value("toleratedFailureCount"); v != nil {
		n := m.integer("toleratedFailureCount", 0, 1<<31-1)
		in.ToleratedFailureCount = &n
	}
	if v := m.Value("toleratedFailurePercentage"); v != nil {
		var p float64
		if err := json.Unmarshal(v, &p); err != nil {
			m.Fail(badRequest(CodeSerialization, "member toleratedFailurePercentage of UpdateMapRun must be a number"))
		}
		in.ToleratedFailurePercentage = &p
	}
	if err := m.Done(); err != nil {
		return nil, err
	}
	if err := a.UpdateMapRun(ctx, in); err != nil {
		return nil, err
	}
	return empty{}, nil
}

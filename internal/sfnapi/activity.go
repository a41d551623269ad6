package sfnapi

import (
	"context"

	"github.com/aiflow/aiflow/internal/sfn"
)

// activities is the Service's sfn.Activities, or the error that says
// this Service has none.
func (h *handler) activities(op string) (sfn.Activities, error) {
	a, ok := h.svc.(sfn.Activities)
	if !ok {
		return nil, badRequest(CodeUnknownOperation, "the operation %s is not served here", op)
	}
	return a, nil
}

type activityItem struct {
	ActivityARN  string    `json:"activityArn"`
	Name         string    `json:"name"`
	CreationDate epochTime `json:"creationDate"`
}

func (h *handler) createActivity(ctx context.Context, m *members) (any, error) {
	a, err := h.activities("CreateActivity")
	if err != nil {
		return nil, err
	}
	in := sfn.CreateActivityInput{Name: m.required("name")}
	m.Ignore("tags", "encryptionConfiguration")
	if err := m.Done(); err != nil {
		return nil, err
	}
	out, err := a.CreateActivity(ctx, in)
	if err != nil {
		return nil, err
	}
	return struct {
		ActivityARN  string    `json:"activityArn"`
		CreationDate epochTime `json:"creationDate"`
	}{out.ActivityARN, epochTime(out.CreationDate)}, nil
}

func (h *handler) describeActivity(ctx context.Context, m *members) (any, error) {
	a, err := h.activities("DescribeActivity")
	if err != nil {
		return nil, err
	}
	arn := m.required("activityArn")
	if err := m.Done(); err != nil {
		return nil, err
	}
	out, err := a.DescribeActivity(ctx, arn)
	if err != nil {
		return nil, err
	}
	return activityItem{out.ActivityARN, out.Name, epochTime(out.CreationDate)}, nil
}

func (h *handler) listActivities(ctx context.Context, m *members) (any, error) {
	a, err := h.activities("ListActivities")
	if err != nil {
		return nil, err
	}
	in := sfn.ListActivitiesInput{MaxResults: m.integer("maxResults", 0, maxPageSize), NextToken: m.String("nextToken")}
	if err := m.Done(); err != nil {
		return nil, err
	}
	out, err := a.ListActivities(ctx, in)
	if err != nil {
		return nil, err
	}
	resp := struct {
		Activities []activityItem `json:"activities"`
		NextToken  string         `json:"nextToken,omitempty"`
	}{Activities: make([]activityItem, 0, len(out.Activities)), NextToken: out.NextToken}
	for _, x := range out.Activities {
		resp.Activities = append(resp.Activities, activityItem{x.ActivityARN, x.Name, epochTime(x.CreationDate)})
	}
	return resp, nil
}

func (h *handler) deleteActivity(ctx context.Context, m *members) (any, error) {
	a, err := h.activities("DeleteActivity")
	if err != nil {
		return nil, err
	}
	arn := m.required("activityArn")
	if err := m.Done(); err != nil {
		return nil, err
	}
	if err := a.DeleteActivity(ctx, arn); err != nil {
		return nil, err
	}
	return empty{}, nil
}

func (h *handler) getActivityTask(ctx context.Context, m *members) (any, error) {
	a, err := h.activities("GetActivityTask")
	if err != nil {
		return nil, err
	}
	in := sfn.GetActivityTaskInput{ActivityARN: m.required("activityArn"), WorkerName: m.String("workerName")}
	if err := m.Done(); err != nil {
		return nil, err
	}
	out, err := a.GetActivityTask(ctx, in)
	if err != nil {
		return nil, err
	}
	return struct {
		TaskToken string `json:"taskToken,omitempty"`
		Input     string `json:"input,omitempty"`
	}{out.TaskToken, out.Input}, nil
}

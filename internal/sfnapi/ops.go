package sfnapi

import (
	"context"
	"encoding/json"

	"github.com/aiflow/aiflow/internal/sfn"
)

// operations are the served operations by X-Amz-Target name.
var operations = map[string]operation{
	"CreateStateMachine":             (*handler).createStateMachine,
	"UpdateStateMachine":             (*handler).updateStateMachine,
	"DescribeStateMachine":           (*handler).describeStateMachine,
	"ListStateMachines":              (*handler).listStateMachines,
	"DeleteStateMachine":             (*handler).deleteStateMachine,
	"ValidateStateMachineDefinition": (*handler).validateStateMachineDefinition,
	"StartExecution":                 (*handler).startExecution,
	"StartSyncExecution":             (*handler).startSyncExecution,
	"DescribeExecution":              (*handler).describeExecution,
	"ListExecutions":                 (*handler).listExecutions,
	"StopExecution":                  (*handler).stopExecution,
	"RedriveExecution":               (*handler).redriveExecution,
	"GetExecutionHistory":            (*handler).getExecutionHistory,
	"SendTaskSuccess":                (*handler).sendTaskSuccess,
	"SendTaskFailure":                (*handler).sendTaskFailure,
	"SendTaskHeartbeat":              (*handler).sendTaskHeartbeat,
	"TestState":                      (*handler).testState,
	"CreateActivity":                 (*handler).createActivity,
	"DescribeActivity":               (*handler).describeActivity,
	"ListActivities":                 (*handler).listActivities,
	"DeleteActivity":                 (*handler).deleteActivity,
	"GetActivityTask":                (*handler).getActivityTask,
	"DescribeMapRun":                 (*handler).describeMapRun,
	"ListMapRuns":                    (*handler).listMapRuns,
	"UpdateMapRun":                   (*handler).updateMapRun,
}

// Enumerations of request members.
var (
	stateMachineTypes = []string{sfn.TypeStandard, sfn.TypeExpress}
	includedData      = []string{"ALL_DATA", "METADATA_ONLY"}
	statusFilters     = []string{
		string(sfn.StatusRunning), string(sfn.StatusSucceeded), string(sfn.StatusFailed),
		string(sfn.StatusTimedOut), string(sfn.StatusAborted), "PENDING_REDRIVE",
	}
	severities = []string{"ERROR", "WARNING"}
)

// maxPageSize is the largest maxResults of the List and Get operations.
const maxPageSize = 1000

// The configuration members that only matter on AWS (logs, traces, keys)
// are accepted and ignored; what the engine does not have is refused when
// asked for.

func (h *handler) createStateMachine(ctx context.Context, m *members) (any, error) {
	in := sfn.CreateStateMachineInput{
		Name:       m.required("name"),
		Definition: m.required("definition"),
		RoleARN:    m.required("roleArn"),
		Type:       m.enum("type", stateMachineTypes...),

		Publish:            m.Boolean("publish", false),
		VersionDescription: m.String("versionDescription"),
		Tags:               m.tags("tags"),
	}
	m.Ignore("loggingConfiguration", "tracingConfiguration", "encryptionConfiguration")
	if err := m.Done(); err != nil {
		return nil, err
	}
	out, err := h.svc.CreateStateMachine(ctx, in)
	if err != nil {
		return nil, err
	}
	return createStateMachineResponse{StateMachineARN: out.StateMachineARN, CreationDate: epochTime(out.CreationDate),
		StateMachineVersionARN: out.StateMachineVersionARN}, nil
}

func (h *handler) updateStateMachine(ctx context.Context, m *members) (any, error) {
	in := sfn.UpdateStateMachineInput{
		StateMachineARN: m.required("stateMachineArn"),
		Definition:      m.OptString("definition"),
		RoleARN:         m.OptString("roleArn"),

		Publish:            m.Boolean("publish", false),
		VersionDescription: m.String("versionDescription"),
	}
	m.Ignore("loggingConfiguration", "tracingConfiguration", "encryptionConfiguration")
	if err := m.Done(); err != nil {
		return nil, err
	}
	out, err := h.svc.UpdateStateMachine(ctx, in)
	if err != nil {
		return nil, err
	}
	return updateStateMachineResponse{UpdateDate: epochTime(out.UpdateDate), RevisionID: out.RevisionID,
		StateMachineVersionARN: out.StateMachineVersionARN}, nil
}

func (h *handler) describeStateMachine(ctx context.Context, m *members) (any, error) {
	arn := m.required("stateMachineArn")
	m.enum("includedData", includedData...)
	if err := m.Done(); err != nil {
		return nil, err
	}
	sm, err := h.svc.DescribeStateMachine(ctx, arn)
	if err != nil {
		return nil, err
	}
	return describeStateMachineResponse{
		StateMachineARN:      sm.StateMachineARN,
		Name:                 sm.Name,
		Status:               sm.Status,
		Definition:           sm.Definition,
		RoleARN:              sm.RoleARN,
		Type:                 sm.Type,
		CreationDate:         epochTime(sm.CreationDate),
		RevisionID:           sm.RevisionID,
		Description:          sm.Description,
		LoggingConfiguration: loggingConfiguration{Level: "OFF"},
	}, nil
}

func (h *handler) listStateMachines(ctx context.Context, m *members) (any, error) {
	in := sfn.ListStateMachinesInput{
		MaxResults: m.integer("maxResults", 0, maxPageSize),
		NextToken:  m.String("nextToken"),
	}
	if err := m.Done(); err != nil {
		return nil, err
	}
	out, err := h.svc.ListStateMachines(ctx, in)
	if err != nil {
		return nil, err
	}
	resp := listStateMachinesResponse{StateMachines: make([]stateMachineListItem, 0, len(out.StateMachines)), NextToken: out.NextToken}
	for _, sm := range out.StateMachines {
		resp.StateMachines = append(resp.StateMachines, stateMachineListItem{
			StateMachineARN: sm.StateMachineARN,
			Name:            sm.Name,
			Type:            sm.Type,
			CreationDate:    epochTime(sm.CreationDate),
		})
	}
	return resp, nil
}

func (h *handler) deleteStateMachine(ctx context.Context, m *members) (any, error) {
	arn := m.required("stateMachineArn")
	if err := m.Done(); err != nil {
		return nil, err
	}
	if err := h.svc.DeleteStateMachine(ctx, arn); err != nil {
		return nil, err
	}
	return empty{}, nil
}

// validateStateMachineDefinition applies severity and maxResults to the
// engine's diagnostics, which are all errors.
func (h *handler) validateStateMachineDefinition(ctx context.Context, m *members) (any, error) {
	def := m.required("definition")
	m.enum("type", stateMachineTypes...)
	severity := m.enum("severity", severities...)
	limit := m.integer("maxResults", 0, 100)
	if err := m.Done(); err != nil {
		return nil, err
	}
	out, err := h.svc.ValidateStateMachineDefinition(ctx, def)
	if err != nil {
		return nil, err
	}
	if limit == 0 {
		limit = 100
	}
	resp := validateResponse{Result: out.Result, Diagnostics: []diagnostic{}}
	for _, d := range out.Diagnostics {
		if severity == "ERROR" && d.Severity != "ERROR" {
			continue
		}
		if len(resp.Diagnostics) == limit {
			resp.Truncated = true
			break
		}
		resp.Diagnostics = append(resp.Diagnostics, diagnostic{Severity: d.Severity, Code: d.Code, Message: d.Message, Location: d.Location})
	}
	return resp, nil
}

func startInput(m *members) sfn.StartExecutionInput {
	in := sfn.StartExecutionInput{
		StateMachineARN: m.required("stateMachineArn"),
		Name:            m.String("name"),
		Input:           m.String("input"),
		TraceHeader:     m.String("traceHeader"),
	}
	checkDocument(m, "input", in.Input)
	return in
}

func (h *handler) startExecution(ctx context.Context, m *members) (any, error) {
	in := startInput(m)
	if err := m.Done(); err != nil {
		return nil, err
	}
	out, err := h.svc.StartExecution(ctx, in)
	if err != nil {
		return nil, err
	}
	return startExecutionResponse{ExecutionARN: out.ExecutionARN, StartDate: epochTime(out.StartDate)}, nil
}

func (h *handler) startSyncExecution(ctx context.Context, m *members) (any, error) {
	in := startInput(m)
	m.enum("includedData", includedData...)
	if err := m.Done(); err != nil {
		return nil, err
	}
	x, err := h.svc.StartSyncExecution(ctx, in)
	if err != nil {
		return nil, err
	}
	return newExecutionResponse(x), nil
}

func (h *handler) describeExecution(ctx context.Context, m *members) (any, error) {
	arn := m.required("executionArn")
	m.enum("includedData", includedData...)
	if err := m.Done(); err != nil {
		return nil, err
	}
	x, err := h.svc.DescribeExecution(ctx, arn)
	if err != nil {
		return nil, err
	}
	return newDescribeExecutionResponse(x), nil
}

func (h *handler) listExecutions(ctx context.Context, m *members) (any, error) {
	in := sfn.ListExecutionsInput{
		StateMachineARN: m.required("stateMachineArn"),
		StatusFilter:    sfn.ExecutionStatus(m.enum("statusFilter", statusFilters...)),
		MaxResults:      m.integer("maxResults", 0, maxPageSize),
		NextToken:       m.String("nextToken"),
		RedriveFilter:   sfn.RedriveFilter(m.enum("redriveFilter", redriveFilters...)),
	}
	m.unsupported("mapRunArn")
	if err := m.Done(); err != nil {
		return nil, err
	}
	out, err := h.svc.ListExecutions(ctx, in)
	if err != nil {
		return nil, err
	}
	resp := listExecutionsResponse{Executions: make([]executionListItem, 0, len(out.Executions)), NextToken: out.NextToken}
	for _, x := range out.Executions {
		resp.Executions = append(resp.Executions, executionListItem{
			ExecutionARN:    x.ExecutionARN,
			StateMachineARN: x.StateMachineARN,
			Name:            x.Name,
			Status:          string(x.Status),
			StartDate:       epochTime(x.StartDate),
			StopDate:        epochTime(x.StopDate),
			RedriveCount:    x.RedriveCount,
			RedriveDate:     epochTime(x.RedriveDate),

			StateMachineVersionARN: x.StateMachineVersionARN,
			StateMachineAliasARN:   x.StateMachineAliasARN,
		})
	}
	return resp, nil
}

func (h *handler) stopExecution(ctx context.Context, m *members) (any, error) {
	in := sfn.StopExecutionInput{
		ExecutionARN: m.required("executionArn"),
		Error:        m.String("error"),
		Cause:        m.String("cause"),
	}
	if err := m.Done(); err != nil {
		return nil, err
	}
	stop, err := h.svc.StopExecution(ctx, in)
	if err != nil {
		return nil, err
	}
	return stopExecutionResponse{StopDate: epochTime(stop)}, nil
}

func (h *handler) getExecutionHistory(ctx context.Context, m *members) (any, error) {
	in := sfn.GetExecutionHistoryInput{
		ExecutionARN:         m.required("executionArn"),
		MaxResults:           m.integer("maxResults", 0, maxPageSize),
		NextToken:            m.String("nextToken"),
		ReverseOrder:         m.Boolean("reverseOrder", false),
		ExcludeExecutionData: !m.Boolean("includeExecutionData", true),
	}
	if err := m.Done(); err != nil {
		return nil, err
	}
	out, err := h.svc.GetExecutionHistory(ctx, in)
	if err != nil {
		return nil, err
	}
	resp := getExecutionHistoryResponse{Events: make([]json.RawMessage, 0, len(out.Events)), NextToken: out.NextToken}
	for _, ev := range out.Events {
		b, err := encodeEvent(ev)
		if err != nil {
			return nil, err
		}
		resp.Events = append(resp.Events, b)
	}
	return resp, nil
}

func (h *handler) sendTaskSuccess(ctx context.Context, m *members) (any, error) {
	in := sfn.SendTaskSuccessInput{TaskToken: m.required("taskToken"), Output: m.required("output")}
	checkDocument(m, "output", in.Output)
	if err := m.Done(); err != nil {
		return nil, err
	}
	if err := h.svc.SendTaskSuccess(ctx, in); err != nil {
		return nil, err
	}
	return empty{}, nil
}

func (h *handler) sendTaskFailure(ctx context.Context, m *members) (any, error) {
	in := sfn.SendTaskFailureInput{TaskToken: m.required("taskToken"), Error: m.String("error"), Cause: m.String("cause")}
	if err := m.Done(); err != nil {
		return nil, err
	}
	if err := h.svc.SendTaskFailure(ctx, in); err != nil {
		return nil, err
	}
	return empty{}, nil
}

func (h *handler) sendTaskHeartbeat(ctx context.Context, m *members) (any, error) {
	token := m.required("taskToken")
	if err := m.Done(); err != nil {
		return nil, err
	}
	if err := h.svc.SendTaskHeartbeat(ctx, token); err != nil {
		return nil, err
	}
	return empty{}, nil
}

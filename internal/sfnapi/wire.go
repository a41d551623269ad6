package sfnapi

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aiflow/aiflow/internal/sfn"
)

// epochTime is a timestamp as Step Functions sends it: seconds since the
// epoch as a JSON number, to the millisecond.
type epochTime time.Time

// IsZero reports whether the time is unset, for omitzero.
func (t epochTime) IsZero() bool { return time.Time(t).IsZero() }

// MarshalJSON writes seconds with up to three decimals, such as
// 1700000000.123.
func (t epochTime) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(time.Time(t).UnixMilli())/1e3, 'f', -1, 64), nil
}

// dataDetails are the inputDetails and outputDetails of history events:
// the engine never truncates a payload.
var dataDetails = json.RawMessage(`{"truncated":false}`)

// encodeEvent writes a history event as Step Functions does. The engine's
// HistoryEvent carries the wire names of its detail members, so the event
// is encoded from its own JSON: the timestamp becomes epoch seconds, and
// each input, output and assignedVariables member of the details gets its
// inputDetails, outputDetails or assignedVariablesDetails beside it. An
// empty input or output is one left out (includeExecutionData false), and
// is left out of the wire too.
func encodeEvent(ev sfn.HistoryEvent) (json.RawMessage, error) {
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encoding history event %d: %w", ev.ID, err)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return nil, fmt.Errorf("decoding history event %d: %w", ev.ID, err)
	}
	if obj["timestamp"], err = epochTime(ev.Timestamp).MarshalJSON(); err != nil {
		return nil, err
	}
	for name, v := range obj {
		if !strings.HasSuffix(name, "EventDetails") {
			continue
		}
		if obj[name], err = withDataDetails(v); err != nil {
			return nil, fmt.Errorf("encoding %s of history event %d: %w", name, ev.ID, err)
		}
	}
	return json.Marshal(obj)
}

// withDataDetails adds the *Details members beside the payloads of one
// event's details.
func withDataDetails(v json.RawMessage) (json.RawMessage, error) {
	var d map[string]json.RawMessage
	if err := json.Unmarshal(v, &d); err != nil {
		return nil, err
	}
	if d == nil {
		return v, nil
	}
	for _, name := range []string{"input", "output"} {
		s, ok := d[name]
		if !ok {
			continue
		}
		if string(s) == `""` {
			delete(d, name)
			continue
		}
		d[name+"Details"] = dataDetails
	}
	if _, ok := d["assignedVariables"]; ok {
		d["assignedVariablesDetails"] = dataDetails
	}
	return json.Marshal(d)
}

// Response shapes, with the member names of the Step Functions API.

type createStateMachineResponse struct {
	StateMachineARN        string    `json:"stateMachineArn"`
	CreationDate           epochTime `json:"creationDate"`
	StateMachineVersionARN string    `json:"stateMachineVersionArn,omitempty"`
}

type updateStateMachineResponse struct {
	UpdateDate             epochTime `json:"updateDate"`
	RevisionID             string    `json:"revisionId,omitempty"`
	StateMachineVersionARN string    `json:"stateMachineVersionArn,omitempty"`
}

type loggingConfiguration struct {
	Level                string `json:"level"`
	IncludeExecutionData bool   `json:"includeExecutionData"`
}

type tracingConfiguration struct {
	Enabled bool `json:"enabled"`
}

type describeStateMachineResponse struct {
	StateMachineARN      string               `json:"stateMachineArn"`
	Name                 string               `json:"name"`
	Status               string               `json:"status,omitempty"`
	Definition           string               `json:"definition"`
	RoleARN              string               `json:"roleArn"`
	Type                 string               `json:"type"`
	CreationDate         epochTime            `json:"creationDate"`
	RevisionID           string               `json:"revisionId,omitempty"`
	Description          string               `json:"description,omitempty"`
	LoggingConfiguration loggingConfiguration `json:"loggingConfiguration"`
	TracingConfiguration tracingConfiguration `json:"tracingConfiguration"`
}

type stateMachineListItem struct {
	StateMachineARN string    `json:"stateMachineArn"`
	Name            string    `json:"name"`
	Type            string    `json:"type"`
	CreationDate    epochTime `json:"creationDate"`
}

type listStateMachinesResponse struct {
	StateMachines []stateMachineListItem `json:"stateMachines"`
	NextToken     string                 `json:"nextToken,omitempty"`
}

type diagnostic struct {
	Severity string `json:"severity"`
	Code     string `json:"code"`
	Message  string `json:"message"`
	Location string `json:"location,omitempty"`
}

type validateResponse struct {
	Result      string       `json:"result"`
	Diagnostics []diagnostic `json:"diagnostics"`
	Truncated   bool         `json:"truncated"`
}

type startExecutionResponse struct {
	ExecutionARN string    `json:"executionArn"`
	StartDate    epochTime `json:"startDate"`
}

// includedDetails are the inputDetails and outputDetails of executions.
type includedDetails struct {
	Included bool `json:"included"`
}

type executionResponse struct {
	ExecutionARN    string           `json:"executionArn"`
	StateMachineARN string           `json:"stateMachineArn"`
	Name            string           `json:"name,omitempty"`
	Status          string           `json:"status"`
	StartDate       epochTime        `json:"startDate"`
	StopDate        epochTime        `json:"stopDate,omitzero"`
	Input           *string          `json:"input,omitempty"`
	InputDetails    *includedDetails `json:"inputDetails,omitempty"`
	Output          *string          `json:"output,omitempty"`
	OutputDetails   *includedDetails `json:"outputDetails,omitempty"`
	Error           string           `json:"error,omitempty"`
	Cause           string           `json:"cause,omitempty"`
	TraceHeader     string           `json:"traceHeader,omitempty"`

	StateMachineVersionARN string `json:"stateMachineVersionArn,omitempty"`
	StateMachineAliasARN   string `json:"stateMachineAliasArn,omitempty"`
}

func newExecutionResponse(x sfn.Execution) executionResponse {
	r := executionResponse{
		ExecutionARN:    x.ExecutionARN,
		StateMachineARN: x.StateMachineARN,
		Name:            x.Name,
		Status:          string(x.Status),
		StartDate:       epochTime(x.StartDate),
		StopDate:        epochTime(x.StopDate),
		Error:           x.Error,
		Cause:           x.Cause,
		TraceHeader:     x.TraceHeader,

		StateMachineVersionARN: x.StateMachineVersionARN,
		StateMachineAliasARN:   x.StateMachineAliasARN,
	}
	if x.Input != "" {
		r.Input, r.InputDetails = &x.Input, &includedDetails{Included: true}
	}
	if x.Output != "" {
		r.Output, r.OutputDetails = &x.Output, &includedDetails{Included: true}
	}
	return r
}

type executionListItem struct {
	ExecutionARN    string    `json:"executionArn"`
	StateMachineARN string    `json:"stateMachineArn"`
	Name            string    `json:"name"`
	Status          string    `json:"status"`
	StartDate       epochTime `json:"startDate"`
	StopDate        epochTime `json:"stopDate,omitzero"`
	RedriveCount    int       `json:"redriveCount"`
	RedriveDate     epochTime `json:"redriveDate,omitzero"`

	StateMachineVersionARN string `json:"stateMachineVersionArn,omitempty"`
	StateMachineAliasARN   string `json:"stateMachineAliasArn,omitempty"`
}

type listExecutionsResponse struct {
	Executions []executionListItem `json:"executions"`
	NextToken  string              `json:"nextToken,omitempty"`
}

type stopExecutionResponse struct {
	StopDate epochTime `json:"stopDate"`
}

type getExecutionHistoryResponse struct {
	Events    []json.RawMessage `json:"events"`
	NextToken string            `json:"nextToken,omitempty"`
}

// empty is the response of operations that return nothing.
type empty struct{}

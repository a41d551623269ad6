package sfnapi

import (
	"context"

	"github.com/aiflow/aiflow/internal/sfn"
)

// inspectionLevels are TestState's inspection levels.
var inspectionLevels = []string{sfn.InspectionInfo, sfn.InspectionDebug, sfn.InspectionTrace}

// testState serves TestState when the Service can test a state.
func (h *handler) testState(ctx context.Context, m *members) (any, error) {
	tester, ok := h.svc.(sfn.StateTester)
	if !ok {
		return nil, badRequest(CodeUnknownOperation, "the operation TestState is not served here")
	}
	in := sfn.TestStateInput{
		Definition:      m.required("definition"),
		RoleARN:         m.String("roleArn"),
		Input:           m.String("input"),
		InspectionLevel: m.enum("inspectionLevel", inspectionLevels...),
		RevealSecrets:   m.Boolean("revealSecrets", false),
		Variables:       m.String("variables"),
		StateName:       m.String("stateName"),
		Context:         m.String("context"),
	}
	checkDocument(m, "input", in.Input)
	var mock struct {
		Result      *string `json:"result"`
		ErrorOutput *struct {
			Error string `json:"error"`
			Cause string `json:"cause"`
		} `json:"errorOutput"`
		FieldValidationMode string `json:"fieldValidationMode"`
	}
	if m.Object("mock", &mock, "a mock structure") {
		in.Mock = &sfn.TestStateMock{FieldValidationMode: mock.FieldValidationMode}
		if mock.Result != nil {
			in.Mock.Result = *mock.Result
		}
		if mock.ErrorOutput != nil {
			in.Mock.ErrorOutput = &sfn.TestStateMockError{Error: mock.ErrorOutput.Error, Cause: mock.ErrorOutput.Cause}
		}
	}
	var conf struct {
		RetrierRetryCount        *int   `json:"retrierRetryCount"`
		ErrorCausedByState       string `json:"errorCausedByState"`
		MapIterationFailureCount *int   `json:"mapIterationFailureCount"`
		MapItemReaderData        string `json:"mapItemReaderData"`
	}
	if m.Object("stateConfiguration", &conf, "a stateConfiguration structure") {
		in.StateConfiguration = &sfn.TestStateConfiguration{
			RetrierRetryCount: conf.RetrierRetryCount, ErrorCausedByState: conf.ErrorCausedByState,
			MapIterationFailureCount: conf.MapIterationFailureCount, MapItemReaderData: conf.MapItemReaderData,
		}
	}
	if err := m.Done(); err != nil {
		return nil, err
	}
	out, err := tester.TestState(ctx, in)
	if err != nil {
		return nil, err
	}
	resp := testStateResponse{Output: out.Output, Error: out.Error, Cause: out.Cause, NextState: out.NextState, Status: out.Status}
	if d := out.InspectionData; d != nil {
		resp.InspectionData = &inspectionData{
			Input: d.Input, AfterArguments: d.AfterArguments, AfterInputPath: d.AfterInputPath,
			AfterParameters: d.AfterParameters, Result: d.Result, AfterResultSelector: d.AfterResultSelector,
			AfterResultPath: d.AfterResultPath, Variables: d.Variables, AfterItemsPath: d.AfterItemsPath,
			AfterItemSelector: d.AfterItemSelector, AfterItemBatcher: d.AfterItemBatcher,
			ToleratedFailureCount: d.ToleratedFailureCount, ToleratedFailurePercentage: d.ToleratedFailurePercentage,
			MaxConcurrency: d.MaxConcurrency,
		}
		if e := d.ErrorDetails; e != nil {
			resp.InspectionData.ErrorDetails = &inspectionErrorDetails{
				CatchIndex: e.CatchIndex, RetryIndex: e.RetryIndex, RetryBackoffIntervalSeconds: e.RetryBackoffIntervalSeconds,
			}
		}
	}
	return resp, nil
}

type testStateResponse struct {
	Output         string          `json:"output,omitempty"`
	Error          string          `json:"error,omitempty"`
	Cause          string          `json:"cause,omitempty"`
	InspectionData *inspectionData `json:"inspectionData,omitempty"`
	NextState      string          `json:"nextState,omitempty"`
	Status         string          `json:"status,omitempty"`
}

type inspectionData struct {
	Input                      string                  `json:"input,omitempty"`
	AfterArguments             string                  `json:"afterArguments,omitempty"`
	AfterInputPath             string                  `json:"afterInputPath,omitempty"`
	AfterParameters            string                  `json:"afterParameters,omitempty"`
	Result                     string                  `json:"result,omitempty"`
	AfterResultSelector        string                  `json:"afterResultSelector,omitempty"`
	AfterResultPath            string                  `json:"afterResultPath,omitempty"`
	Variables                  string                  `json:"variables,omitempty"`
	ErrorDetails               *inspectionErrorDetails `json:"errorDetails,omitempty"`
	AfterItemsPath             string                  `json:"afterItemsPath,omitempty"`
	AfterItemSelector          string                  `json:"afterItemSelector,omitempty"`
	AfterItemBatcher           string                  `json:"afterItemBatcher,omitempty"`
	ToleratedFailureCount      *int                    `json:"toleratedFailureCount,omitempty"`
	ToleratedFailurePercentage *float64                `json:"toleratedFailurePercentage,omitempty"`
	MaxConcurrency             *int                    `json:"maxConcurrency,omitempty"`
}

type inspectionErrorDetails struct {
	CatchIndex                  *int `json:"catchIndex,omitempty"`
	RetryIndex                  *int `json:"retryIndex,omitempty"`
	RetryBackoffIntervalSeconds *int `json:"retryBackoffIntervalSeconds,omitempty"`
}

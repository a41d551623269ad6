// Package awssfn is the state-machine and task-callback ports over the
// aws-sdk-go-v2 Step Functions client: the same methods as the local
// engine, with the engine's types in and out, against AWS Step Functions or
// any endpoint that speaks its API (the engine's own HTTP API, Step
// Functions Local, LocalStack). Code and the conformance suite can so use
// either interchangeably.
//
// The client's errors are translated here, once: every error the service
// answered (a typed error of package types or any smithy.APIError) becomes
// an *sfn.Error with the same Code and message; other errors (a
// connection that failed, a cancelled context) are returned wrapped.
package awssfn

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdksfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/aiflow/aiflow/internal/sfn"
)

// Client runs the engine's API on a Step Functions endpoint.
type Client struct {
	sfn *sdksfn.Client
}

// New returns a Client over c.
func New(c *sdksfn.Client) *Client { return &Client{sfn: c} }

// NewClient makes a Step Functions client from the default AWS
// configuration (environment, shared files, roles) in region, or the
// configured region when region is "". With an endpoint, such as
// "http://127.0.0.1:8083" for the engine's HTTP API, it calls that
// endpoint with static dummy credentials, in us-east-1 unless region says
// otherwise, and without the "sync-" host prefix of StartSyncExecution,
// which local endpoints have no DNS name for.
func NewClient(ctx context.Context, endpoint, region string) (*sdksfn.Client, error) {
	var opts []func(*config.LoadOptions) error
	if endpoint != "" {
		if region == "" {
			region = "us-east-1"
		}
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("loading AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, errors.New("loading AWS configuration: no region: set AWS_REGION or pass one")
	}
	return sdksfn.NewFromConfig(cfg, func(o *sdksfn.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
			o.APIOptions = append(o.APIOptions, disableHostPrefix)
		}
	}), nil
}

// disableHostPrefixID names the middleware disableHostPrefix adds.
const disableHostPrefixID = "aiflowDisableHostPrefix"

// disableHostPrefix keeps the SDK from prefixing the endpoint's host name
// ("sync-" for StartSyncExecution).
func disableHostPrefix(stack *middleware.Stack) error {
	if _, ok := stack.Initialize.Get(disableHostPrefixID); ok {
		return nil
	}
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc(disableHostPrefixID,
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
		}), middleware.Before)
}

// noHostPrefixAtCustomEndpoint drops the host prefix when the client has a
// custom endpoint, however the client was made.
func noHostPrefixAtCustomEndpoint(o *sdksfn.Options) {
	if o.BaseEndpoint != nil {
		o.APIOptions = append(o.APIOptions, disableHostPrefix)
	}
}

// fail translates an error of the client: what the service answered
// becomes an *sfn.Error.
func fail(op string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return &sfn.Error{Code: ae.ErrorCode(), Message: ae.ErrorMessage()}
	}
	return fmt.Errorf("calling Step Functions %s: %w", op, err)
}

// CreateStateMachine creates a state machine.
func (c *Client) CreateStateMachine(ctx context.Context, in sfn.CreateStateMachineInput) (sfn.CreateStateMachineOutput, error) {
	out, err := c.sfn.CreateStateMachine(ctx, &sdksfn.CreateStateMachineInput{
		Name:                 aws.String(in.Name),
		Definition:           aws.String(in.Definition),
		RoleArn:              aws.String(in.RoleARN),
		Type:                 types.StateMachineType(in.Type),
		LoggingConfiguration: logging(in.Logging),
		TracingConfiguration: tracing(&in.Tracing),
		Publish:              in.Publish,
		VersionDescription:   optString(in.VersionDescription),
		Tags:                 sdkTags(in.Tags),
	})
	if err != nil {
		return sfn.CreateStateMachineOutput{}, fail("CreateStateMachine", err)
	}
	return sfn.CreateStateMachineOutput{
		StateMachineARN:        aws.ToString(out.StateMachineArn),
		CreationDate:           aws.ToTime(out.CreationDate),
		StateMachineVersionARN: aws.ToString(out.StateMachineVersionArn),
	}, nil
}

// logging is the SDK's form of c; nil stays nil.
func logging(c *sfn.LoggingConfiguration) *types.LoggingConfiguration {
	if c == nil {
		return nil
	}
	out := &types.LoggingConfiguration{Level: types.LogLevel(c.Level), IncludeExecutionData: c.IncludeExecutionData}
	if c.LogGroupARN != "" {
		out.Destinations = []types.LogDestination{{CloudWatchLogsLogGroup: &types.CloudWatchLogsLogGroup{LogGroupArn: aws.String(c.LogGroupARN)}}}
	}
	return out
}

// tracing is the SDK's form of enabled; nil stays nil.
func tracing(enabled *bool) *types.TracingConfiguration {
	if enabled == nil {
		return nil
	}
	return &types.TracingConfiguration{Enabled: *enabled}
}

// UpdateStateMachine changes a state machine's definition, role, logging
// or tracing.
func (c *Client) UpdateStateMachine(ctx context.Context, in sfn.UpdateStateMachineInput) (sfn.UpdateStateMachineOutput, error) {
	out, err := c.sfn.UpdateStateMachine(ctx, &sdksfn.UpdateStateMachineInput{
		StateMachineArn:      aws.String(in.StateMachineARN),
		Definition:           in.Definition,
		RoleArn:              in.RoleARN,
		LoggingConfiguration: logging(in.Logging),
		TracingConfiguration: tracing(in.Tracing),
		Publish:              in.Publish,
		VersionDescription:   optString(in.VersionDescription),
	})
	if err != nil {
		return sfn.UpdateStateMachineOutput{}, fail("UpdateStateMachine", err)
	}
	return sfn.UpdateStateMachineOutput{
		UpdateDate:             aws.ToTime(out.UpdateDate),
		RevisionID:             aws.ToString(out.RevisionId),
		StateMachineVersionARN: aws.ToString(out.StateMachineVersionArn),
	}, nil
}

// DescribeStateMachine describes a state machine. The Step Functions API
// has no update date, so UpdateDate stays zero.
func (c *Client) DescribeStateMachine(ctx context.Context, arn string) (sfn.StateMachine, error) {
	out, err := c.sfn.DescribeStateMachine(ctx, &sdksfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
	if err != nil {
		return sfn.StateMachine{}, fail("DescribeStateMachine", err)
	}
	return sfn.StateMachine{
		StateMachineARN: aws.ToString(out.StateMachineArn),
		Name:            aws.ToString(out.Name),
		Status:          string(out.Status),
		Definition:      aws.ToString(out.Definition),
		RoleARN:         aws.ToString(out.RoleArn),
		Type:            string(out.Type),
		CreationDate:    aws.ToTime(out.CreationDate),
		RevisionID:      aws.ToString(out.RevisionId),
		Description:     aws.ToString(out.Description),
	}, nil
}

// ListStateMachines returns a page of state machines, with the fields the
// Step Functions API lists: ARN, name, type and creation date.
func (c *Client) ListStateMachines(ctx context.Context, in sfn.ListStateMachinesInput) (sfn.ListStateMachinesOutput, error) {
	out, err := c.sfn.ListStateMachines(ctx, &sdksfn.ListStateMachinesInput{
		MaxResults: maxResults(in.MaxResults),
		NextToken:  optString(in.NextToken),
	})
	if err != nil {
		return sfn.ListStateMachinesOutput{}, fail("ListStateMachines", err)
	}
	res := sfn.ListStateMachinesOutput{NextToken: aws.ToString(out.NextToken)}
	for _, sm := range out.StateMachines {
		res.StateMachines = append(res.StateMachines, sfn.StateMachine{
			StateMachineARN: aws.ToString(sm.StateMachineArn),
			Name:            aws.ToString(sm.Name),
			Type:            string(sm.Type),
			CreationDate:    aws.ToTime(sm.CreationDate),
		})
	}
	return res, nil
}

// DeleteStateMachine deletes a state machine.
func (c *Client) DeleteStateMachine(ctx context.Context, arn string) error {
	if _, err := c.sfn.DeleteStateMachine(ctx, &sdksfn.DeleteStateMachineInput{StateMachineArn: aws.String(arn)}); err != nil {
		return fail("DeleteStateMachine", err)
	}
	return nil
}

// ValidateStateMachineDefinition checks a definition.
func (c *Client) ValidateStateMachineDefinition(ctx context.Context, definition string) (sfn.ValidateOutput, error) {
	out, err := c.sfn.ValidateStateMachineDefinition(ctx, &sdksfn.ValidateStateMachineDefinitionInput{Definition: aws.String(definition)})
	if err != nil {
		return sfn.ValidateOutput{}, fail("ValidateStateMachineDefinition", err)
	}
	res := sfn.ValidateOutput{Result: string(out.Result)}
	for _, d := range out.Diagnostics {
		res.Diagnostics = append(res.Diagnostics, sfn.Diagnostic{
			Severity: string(d.Severity),
			Code:     aws.ToString(d.Code),
			Message:  aws.ToString(d.Message),
			Location: aws.ToString(d.Location),
		})
	}
	return res, nil
}

// StartExecution starts an execution.
func (c *Client) StartExecution(ctx context.Context, in sfn.StartExecutionInput) (sfn.StartExecutionOutput, error) {
	out, err := c.sfn.StartExecution(ctx, &sdksfn.StartExecutionInput{
		StateMachineArn: aws.String(in.StateMachineARN),
		Name:            optString(in.Name),
		Input:           optString(in.Input),
		TraceHeader:     optString(in.TraceHeader),
	})
	if err != nil {
		return sfn.StartExecutionOutput{}, fail("StartExecution", err)
	}
	return sfn.StartExecutionOutput{
		ExecutionARN: aws.ToString(out.ExecutionArn),
		StartDate:    aws.ToTime(out.StartDate),
	}, nil
}

// StartSyncExecution runs an execution to its end and describes it.
func (c *Client) StartSyncExecution(ctx context.Context, in sfn.StartExecutionInput) (sfn.Execution, error) {
	out, err := c.sfn.StartSyncExecution(ctx, &sdksfn.StartSyncExecutionInput{
		StateMachineArn: aws.String(in.StateMachineARN),
		Name:            optString(in.Name),
		Input:           optString(in.Input),
		TraceHeader:     optString(in.TraceHeader),
	}, noHostPrefixAtCustomEndpoint)
	if err != nil {
		return sfn.Execution{}, fail("StartSyncExecution", err)
	}
	return sfn.Execution{
		ExecutionARN:    aws.ToString(out.ExecutionArn),
		StateMachineARN: aws.ToString(out.StateMachineArn),
		Name:            aws.ToString(out.Name),
		Status:          sfn.ExecutionStatus(out.Status),
		StartDate:       aws.ToTime(out.StartDate),
		StopDate:        aws.ToTime(out.StopDate),
		Input:           aws.ToString(out.Input),
		Output:          aws.ToString(out.Output),
		Error:           aws.ToString(out.Error),
		Cause:           aws.ToString(out.Cause),
		TraceHeader:     aws.ToString(out.TraceHeader),
	}, nil
}

// DescribeExecution describes an execution.
func (c *Client) DescribeExecution(ctx context.Context, arn string) (sfn.Execution, error) {
	out, err := c.sfn.DescribeExecution(ctx, &sdksfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	if err != nil {
		return sfn.Execution{}, fail("DescribeExecution", err)
	}
	return sfn.Execution{
		ExecutionARN:    aws.ToString(out.ExecutionArn),
		StateMachineARN: aws.ToString(out.StateMachineArn),
		Name:            aws.ToString(out.Name),
		Status:          sfn.ExecutionStatus(out.Status),
		StartDate:       aws.ToTime(out.StartDate),
		StopDate:        aws.ToTime(out.StopDate),
		Input:           aws.ToString(out.Input),
		Output:          aws.ToString(out.Output),
		Error:           aws.ToString(out.Error),
		Cause:           aws.ToString(out.Cause),
		TraceHeader:     aws.ToString(out.TraceHeader),

		RedriveCount:           int(aws.ToInt32(out.RedriveCount)),
		RedriveDate:            aws.ToTime(out.RedriveDate),
		RedriveStatus:          sfn.RedriveStatus(out.RedriveStatus),
		RedriveStatusReason:    aws.ToString(out.RedriveStatusReason),
		StateMachineVersionARN: aws.ToString(out.StateMachineVersionArn),
		StateMachineAliasARN:   aws.ToString(out.StateMachineAliasArn),
	}, nil
}

// ListExecutions returns a page of a state machine's executions, with the
// fields the Step Functions API lists: ARNs, name, status and dates.
func (c *Client) ListExecutions(ctx context.Context, in sfn.ListExecutionsInput) (sfn.ListExecutionsOutput, error) {
	out, err := c.sfn.ListExecutions(ctx, &sdksfn.ListExecutionsInput{
		StateMachineArn: aws.String(in.StateMachineARN),
		StatusFilter:    types.ExecutionStatus(in.StatusFilter),
		RedriveFilter:   types.ExecutionRedriveFilter(in.RedriveFilter),
		MaxResults:      maxResults(in.MaxResults),
		NextToken:       optString(in.NextToken),
	})
	if err != nil {
		return sfn.ListExecutionsOutput{}, fail("ListExecutions", err)
	}
	res := sfn.ListExecutionsOutput{NextToken: aws.ToString(out.NextToken)}
	for _, x := range out.Executions {
		res.Executions = append(res.Executions, sfn.Execution{
			ExecutionARN:    aws.ToString(x.ExecutionArn),
			StateMachineARN: aws.ToString(x.StateMachineArn),
			Name:            aws.ToString(x.Name),
			Status:          sfn.ExecutionStatus(x.Status),
			StartDate:       aws.ToTime(x.StartDate),
			StopDate:        aws.ToTime(x.StopDate),
			RedriveCount:    int(aws.ToInt32(x.RedriveCount)),
			RedriveDate:     aws.ToTime(x.RedriveDate),

			StateMachineVersionARN: aws.ToString(x.StateMachineVersionArn),
			StateMachineAliasARN:   aws.ToString(x.StateMachineAliasArn),
		})
	}
	return res, nil
}

// StopExecution stops an execution and returns when it stopped.
func (c *Client) StopExecution(ctx context.Context, in sfn.StopExecutionInput) (time.Time, error) {
	out, err := c.sfn.StopExecution(ctx, &sdksfn.StopExecutionInput{
		ExecutionArn: aws.String(in.ExecutionARN),
		Error:        optString(in.Error),
		Cause:        optString(in.Cause),
	})
	if err != nil {
		return time.Time{}, fail("StopExecution", err)
	}
	return aws.ToTime(out.StopDate), nil
}

// GetExecutionHistory returns a page of an execution's history.
func (c *Client) GetExecutionHistory(ctx context.Context, in sfn.GetExecutionHistoryInput) (sfn.GetExecutionHistoryOutput, error) {
	out, err := c.sfn.GetExecutionHistory(ctx, &sdksfn.GetExecutionHistoryInput{
		ExecutionArn:         aws.String(in.ExecutionARN),
		MaxResults:           maxResults(in.MaxResults),
		NextToken:            optString(in.NextToken),
		ReverseOrder:         in.ReverseOrder,
		IncludeExecutionData: aws.Bool(!in.ExcludeExecutionData),
	})
	if err != nil {
		return sfn.GetExecutionHistoryOutput{}, fail("GetExecutionHistory", err)
	}
	res := sfn.GetExecutionHistoryOutput{NextToken: aws.ToString(out.NextToken)}
	for _, ev := range out.Events {
		e := historyEvent(ev)
		if e.ExecutionStarted != nil && e.ExecutionStarted.StateMachineARN == "" {
			// Step Functions leaves the state machine out of the event;
			// the execution's ARN names it.
			e.ExecutionStarted.StateMachineARN = stateMachineOf(in.ExecutionARN)
		}
		res.Events = append(res.Events, e)
	}
	return res, nil
}

// stateMachineOf returns the ARN of the state machine of an execution
// ARN (arn:PARTITION:states:REGION:ACCOUNT:execution|express:MACHINE:NAME),
// "" for anything else.
func stateMachineOf(executionARN string) string {
	parts := strings.Split(executionARN, ":")
	if len(parts) < 8 || parts[0] != "arn" || parts[2] != "states" || (parts[5] != "execution" && parts[5] != "express") {
		return ""
	}
	return strings.Join(parts[:5], ":") + ":stateMachine:" + parts[6]
}

// SendTaskSuccess completes the task of a token with an output.
func (c *Client) SendTaskSuccess(ctx context.Context, in sfn.SendTaskSuccessInput) error {
	_, err := c.sfn.SendTaskSuccess(ctx, &sdksfn.SendTaskSuccessInput{TaskToken: aws.String(in.TaskToken), Output: aws.String(in.Output)})
	if err != nil {
		return fail("SendTaskSuccess", err)
	}
	return nil
}

// SendTaskFailure fails the task of a token.
func (c *Client) SendTaskFailure(ctx context.Context, in sfn.SendTaskFailureInput) error {
	_, err := c.sfn.SendTaskFailure(ctx, &sdksfn.SendTaskFailureInput{
		TaskToken: aws.String(in.TaskToken),
		Error:     optString(in.Error),
		Cause:     optString(in.Cause),
	})
	if err != nil {
		return fail("SendTaskFailure", err)
	}
	return nil
}

// SendTaskHeartbeat reports that the task of a token is still at work.
func (c *Client) SendTaskHeartbeat(ctx context.Context, taskToken string) error {
	if _, err := c.sfn.SendTaskHeartbeat(ctx, &sdksfn.SendTaskHeartbeatInput{TaskToken: aws.String(taskToken)}); err != nil {
		return fail("SendTaskHeartbeat", err)
	}
	return nil
}

// maxResults converts a page size for the client, keeping sizes beyond
// int32 too large rather than letting them wrap into small ones.
func maxResults(n int) int32 {
	return int32(max(min(n, math.MaxInt32), math.MinInt32))
}

// optString is nil for "", so that optional members stay unset.
func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

package awssfn

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdksfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/aiflow/aiflow/internal/sfn"
)

var _ sfn.StateTester = (*Client)(nil)

// TestState runs one state on its own (Step Functions' TestState).
func (c *Client) TestState(ctx context.Context, in sfn.TestStateInput) (sfn.TestStateOutput, error) {
	req := &sdksfn.TestStateInput{
		Definition:      aws.String(in.Definition),
		Input:           optString(in.Input),
		InspectionLevel: types.InspectionLevel(in.InspectionLevel),
		RevealSecrets:   in.RevealSecrets,
		RoleArn:         optString(in.RoleARN),
		StateName:       optString(in.StateName),
		Variables:       optString(in.Variables),
		Context:         optString(in.Context),
	}
	if m := in.Mock; m != nil {
		req.Mock = &types.MockInput{Result: optString(m.Result), FieldValidationMode: types.MockResponseValidationMode(m.FieldValidationMode)}
		if m.ErrorOutput != nil {
			req.Mock.ErrorOutput = &types.MockErrorOutput{Error: aws.String(m.ErrorOutput.Error), Cause: optString(m.ErrorOutput.Cause)}
		}
	}
	if s := in.StateConfiguration; s != nil {
		req.StateConfiguration = &types.TestStateConfiguration{
			ErrorCausedByState:       optString(s.ErrorCausedByState),
			MapItemReaderData:        optString(s.MapItemReaderData),
			MapIterationFailureCount: int32Ptr(s.MapIterationFailureCount),
			RetrierRetryCount:        int32Ptr(s.RetrierRetryCount),
		}
	}
	out, err := c.sfn.TestState(ctx, req)
	if err != nil {
		return sfn.TestStateOutput{}, fail("TestState", err)
	}
	res := sfn.TestStateOutput{
		Output: aws.ToString(out.Output), Error: aws.ToString(out.Error), Cause: aws.ToString(out.Cause),
		NextState: aws.ToString(out.NextState), Status: string(out.Status),
	}
	if d := out.InspectionData; d != nil {
		res.InspectionData = &sfn.InspectionData{
			Input: aws.ToString(d.Input), AfterArguments: aws.ToString(d.AfterArguments),
			AfterInputPath: aws.ToString(d.AfterInputPath), AfterParameters: aws.ToString(d.AfterParameters),
			Result: aws.ToString(d.Result), AfterResultSelector: aws.ToString(d.AfterResultSelector),
			AfterResultPath: aws.ToString(d.AfterResultPath), Variables: aws.ToString(d.Variables),
			AfterItemsPath: aws.ToString(d.AfterItemsPath), AfterItemSelector: aws.ToString(d.AfterItemSelector),
			AfterItemBatcher:      aws.ToString(d.AfterItemBatcher),
			ToleratedFailureCount: intPtr(d.ToleratedFailureCount), MaxConcurrency: intPtr(d.MaxConcurrency),
		}
		if p := d.ToleratedFailurePercentage; p != nil {
			res.InspectionData.ToleratedFailurePercentage = new(float64(*p))
		}
		if e := d.ErrorDetails; e != nil {
			res.InspectionData.ErrorDetails = &sfn.InspectionErrorDetails{
				CatchIndex: intPtr(e.CatchIndex), RetryIndex: intPtr(e.RetryIndex),
				RetryBackoffIntervalSeconds: intPtr(e.RetryBackoffIntervalSeconds),
			}
		}
	}
	return res, nil
}

func int32Ptr(n *int) *int32 {
	if n == nil {
		return nil
	}
	return new(int32(*n))
}

func intPtr(n *int32) *int {
	if n == nil {
		return nil
	}
	return new(int(*n))
}

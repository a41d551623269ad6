package awssfn

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdksfn "github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/aiflow/aiflow/internal/sfn"
)

var _ sfn.MapRuns = (*Client)(nil)

// DescribeMapRun describes a Map Run.
func (c *Client) DescribeMapRun(ctx context.Context, arn string) (sfn.MapRun, error) {
	out, err := c.sfn.DescribeMapRun(ctx, &sdksfn.DescribeMapRunInput{MapRunArn: aws.String(arn)})
	if err != nil {
		return sfn.MapRun{}, fail("DescribeMapRun", err)
	}
	r := sfn.MapRun{
		MapRunARN: aws.ToString(out.MapRunArn), ExecutionARN: aws.ToString(out.ExecutionArn), Status: string(out.Status),
		StartDate: aws.ToTime(out.StartDate), StopDate: aws.ToTime(out.StopDate), MaxConcurrency: int(out.MaxConcurrency),
		ToleratedFailurePercentage: float64(out.ToleratedFailurePercentage), ToleratedFailureCount: int(out.ToleratedFailureCount),
	}
	if n := out.ItemCounts; n != nil {
		r.ItemCounts = sfn.MapRunCounts{Pending: int(n.Pending), Running: int(n.Running), Succeeded: int(n.Succeeded), Failed: int(n.Failed),
			TimedOut: int(n.TimedOut), Aborted: int(n.Aborted), Total: int(n.Total), ResultsWritten: int(n.ResultsWritten)}
	}
	if n := out.ExecutionCounts; n != nil {
		r.ExecutionCounts = sfn.MapRunCounts{Pending: int(n.Pending), Running: int(n.Running), Succeeded: int(n.Succeeded), Failed: int(n.Failed),
			TimedOut: int(n.TimedOut), Aborted: int(n.Aborted), Total: int(n.Total), ResultsWritten: int(n.ResultsWritten)}
	}
	return r, nil
}

// ListMapRuns lists an execution's Map Runs.
func (c *Client) ListMapRuns(ctx context.Context, in sfn.ListMapRunsInput) (sfn.ListMapRunsOutput, error) {
	req := &sdksfn.ListMapRunsInput{ExecutionArn: aws.String(in.ExecutionARN), NextToken: optString(in.NextToken)}
	if in.MaxResults != 0 {
		req.MaxResults = maxResults(in.MaxResults)
	}
	out, err := c.sfn.ListMapRuns(ctx, req)
	if err != nil {
		return sfn.ListMapRunsOutput{}, fail("ListMapRuns", err)
	}
	res := sfn.ListMapRunsOutput{MapRuns: make([]sfn.MapRunListItem, 0, len(out.MapRuns)), NextToken: aws.ToString(out.NextToken)}
	for _, r := range out.MapRuns {
		res.MapRuns = append(res.MapRuns, sfn.MapRunListItem{ExecutionARN: aws.ToString(r.ExecutionArn), MapRunARN: aws.ToString(r.MapRunArn),
			StateMachineARN: aws.ToString(r.StateMachineArn), StartDate: aws.ToTime(r.StartDate), StopDate: aws.ToTime(r.StopDate)})
	}
	return res, nil
}

// UpdateMapRun changes a running Map Run.
func (c *Client) UpdateMapRun(ctx context.Context, in sfn.UpdateMapRunInput) error {
	req := &sdksfn.UpdateMapRunInput{MapRunArn: aws.String(in.MapRunARN), MaxConcurrency: int32Ptr(in.MaxConcurrency)}
	if n := in.ToleratedFailureCount; n != nil {
		req.ToleratedFailureCount = aws.Int64(int64(*n))
	}
	if p := in.ToleratedFailurePercentage; p != nil {
		req.ToleratedFailurePercentage = aws.Float32(float32(*p))
	}
	if _, err := c.sfn.UpdateMapRun(ctx, req); err != nil {
		return fail("UpdateMapRun", err)
	}
	return nil
}

package awssfn

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdksfn "github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/aiflow/aiflow/internal/sfn"
)

// RedriveExecution redrives a FAILED, TIMED_OUT or ABORTED execution and
// returns when it was redriven. Without a client token the SDK makes one,
// so a retried call is still one redrive. Its errors are Step Functions'
// (ExecutionNotRedrivable, ExecutionDoesNotExist, ...) as *sfn.Error.
func (c *Client) RedriveExecution(ctx context.Context, in sfn.RedriveExecutionInput) (sfn.RedriveExecutionOutput, error) {
	out, err := c.sfn.RedriveExecution(ctx, &sdksfn.RedriveExecutionInput{
		ExecutionArn: aws.String(in.ExecutionARN),
		ClientToken:  optString(in.ClientToken),
	})
	if err != nil {
		return sfn.RedriveExecutionOutput{}, fail("RedriveExecution", err)
	}
	return sfn.RedriveExecutionOutput{RedriveDate: aws.ToTime(out.RedriveDate)}, nil
}

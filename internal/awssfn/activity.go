package awssfn

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdksfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/aiflow/aiflow/internal/sfn"
)

var _ sfn.Activities = (*Client)(nil)

// CreateActivity creates an activity, or returns the one of that name.
func (c *Client) CreateActivity(ctx context.Context, in sfn.CreateActivityInput) (sfn.CreateActivityOutput, error) {
	req := &sdksfn.CreateActivityInput{Name: aws.String(in.Name)}
	for k, v := range in.Tags {
		req.Tags = append(req.Tags, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	out, err := c.sfn.CreateActivity(ctx, req)
	if err != nil {
		return sfn.CreateActivityOutput{}, fail("CreateActivity", err)
	}
	return sfn.CreateActivityOutput{ActivityARN: aws.ToString(out.ActivityArn), CreationDate: aws.ToTime(out.CreationDate)}, nil
}

// DescribeActivity returns an activity.
func (c *Client) DescribeActivity(ctx context.Context, arn string) (sfn.Activity, error) {
	out, err := c.sfn.DescribeActivity(ctx, &sdksfn.DescribeActivityInput{ActivityArn: aws.String(arn)})
	if err != nil {
		return sfn.Activity{}, fail("DescribeActivity", err)
	}
	return sfn.Activity{ActivityARN: aws.ToString(out.ActivityArn), Name: aws.ToString(out.Name), CreationDate: aws.ToTime(out.CreationDate)}, nil
}

// ListActivities lists a page of activities.
func (c *Client) ListActivities(ctx context.Context, in sfn.ListActivitiesInput) (sfn.ListActivitiesOutput, error) {
	req := &sdksfn.ListActivitiesInput{NextToken: optString(in.NextToken)}
	if in.MaxResults != 0 {
		req.MaxResults = maxResults(in.MaxResults)
	}
	out, err := c.sfn.ListActivities(ctx, req)
	if err != nil {
		return sfn.ListActivitiesOutput{}, fail("ListActivities", err)
	}
	res := sfn.ListActivitiesOutput{Activities: make([]sfn.Activity, 0, len(out.Activities)), NextToken: aws.ToString(out.NextToken)}
	for _, a := range out.Activities {
		res.Activities = append(res.Activities, sfn.Activity{ActivityARN: aws.ToString(a.ActivityArn), Name: aws.ToString(a.Name), CreationDate: aws.ToTime(a.CreationDate)})
	}
	return res, nil
}

// DeleteActivity deletes an activity.
func (c *Client) DeleteActivity(ctx context.Context, arn string) error {
	if _, err := c.sfn.DeleteActivity(ctx, &sdksfn.DeleteActivityInput{ActivityArn: aws.String(arn)}); err != nil {
		return fail("DeleteActivity", err)
	}
	return nil
}

// GetActivityTask waits for a task of an activity; the service answers
// within about a minute, with or without one.
func (c *Client) GetActivityTask(ctx context.Context, in sfn.GetActivityTaskInput) (sfn.GetActivityTaskOutput, error) {
	out, err := c.sfn.GetActivityTask(ctx, &sdksfn.GetActivityTaskInput{ActivityArn: aws.String(in.ActivityARN), WorkerName: optString(in.WorkerName)})
	if err != nil {
		return sfn.GetActivityTaskOutput{}, fail("GetActivityTask", err)
	}
	return sfn.GetActivityTaskOutput{TaskToken: aws.ToString(out.TaskToken), Input: aws.ToString(out.Input)}, nil
}

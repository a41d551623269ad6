package awssfn

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdksfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/aiflow/aiflow/internal/sfn"
)

// PublishStateMachineVersion publishes the state machine's current
// revision as a version.
func (c *Client) PublishStateMachineVersion(ctx context.Context, in sfn.PublishVersionInput) (sfn.PublishVersionOutput, error) {
	out, err := c.sfn.PublishStateMachineVersion(ctx, &sdksfn.PublishStateMachineVersionInput{
		StateMachineArn: aws.String(in.StateMachineARN),
		RevisionId:      optString(in.RevisionID),
		Description:     optString(in.Description),
	})
	if err != nil {
		return sfn.PublishVersionOutput{}, fail("PublishStateMachineVersion", err)
	}
	return sfn.PublishVersionOutput{StateMachineVersionARN: aws.ToString(out.StateMachineVersionArn), CreationDate: aws.ToTime(out.CreationDate)}, nil
}

// ListStateMachineVersions returns a page of a state machine's versions,
// newest first.
func (c *Client) ListStateMachineVersions(ctx context.Context, in sfn.ListVersionsInput) (sfn.ListVersionsOutput, error) {
	out, err := c.sfn.ListStateMachineVersions(ctx, &sdksfn.ListStateMachineVersionsInput{
		StateMachineArn: aws.String(in.StateMachineARN),
		MaxResults:      maxResults(in.MaxResults),
		NextToken:       optString(in.NextToken),
	})
	if err != nil {
		return sfn.ListVersionsOutput{}, fail("ListStateMachineVersions", err)
	}
	res := sfn.ListVersionsOutput{StateMachineVersions: []sfn.VersionListItem{}, NextToken: aws.ToString(out.NextToken)}
	for _, v := range out.StateMachineVersions {
		res.StateMachineVersions = append(res.StateMachineVersions, sfn.VersionListItem{
			StateMachineVersionARN: aws.ToString(v.StateMachineVersionArn), CreationDate: aws.ToTime(v.CreationDate)})
	}
	return res, nil
}

// DeleteStateMachineVersion deletes a version.
func (c *Client) DeleteStateMachineVersion(ctx context.Context, versionARN string) error {
	if _, err := c.sfn.DeleteStateMachineVersion(ctx, &sdksfn.DeleteStateMachineVersionInput{StateMachineVersionArn: aws.String(versionARN)}); err != nil {
		return fail("DeleteStateMachineVersion", err)
	}
	return nil
}

func sdkRouting(rs []sfn.RoutingConfig) []types.RoutingConfigurationListItem {
	if rs == nil {
		return nil
	}
	out := make([]types.RoutingConfigurationListItem, len(rs))
	for i, r := range rs {
		out[i] = types.RoutingConfigurationListItem{StateMachineVersionArn: aws.String(r.StateMachineVersionARN), Weight: int32(r.Weight)}
	}
	return out
}

// CreateStateMachineAlias creates an alias.
func (c *Client) CreateStateMachineAlias(ctx context.Context, in sfn.CreateAliasInput) (sfn.CreateAliasOutput, error) {
	out, err := c.sfn.CreateStateMachineAlias(ctx, &sdksfn.CreateStateMachineAliasInput{
		Name:                 aws.String(in.Name),
		Description:          optString(in.Description),
		RoutingConfiguration: sdkRouting(in.RoutingConfiguration),
	})
	if err != nil {
		return sfn.CreateAliasOutput{}, fail("CreateStateMachineAlias", err)
	}
	return sfn.CreateAliasOutput{StateMachineAliasARN: aws.ToString(out.StateMachineAliasArn), CreationDate: aws.ToTime(out.CreationDate)}, nil
}

// DescribeStateMachineAlias describes an alias.
func (c *Client) DescribeStateMachineAlias(ctx context.Context, aliasARN string) (sfn.Alias, error) {
	out, err := c.sfn.DescribeStateMachineAlias(ctx, &sdksfn.DescribeStateMachineAliasInput{StateMachineAliasArn: aws.String(aliasARN)})
	if err != nil {
		return sfn.Alias{}, fail("DescribeStateMachineAlias", err)
	}
	a := sfn.Alias{StateMachineAliasARN: aws.ToString(out.StateMachineAliasArn), Name: aws.ToString(out.Name),
		Description: aws.ToString(out.Description), CreationDate: aws.ToTime(out.CreationDate), UpdateDate: aws.ToTime(out.UpdateDate)}
	for _, r := range out.RoutingConfiguration {
		a.RoutingConfiguration = append(a.RoutingConfiguration, sfn.RoutingConfig{StateMachineVersionARN: aws.ToString(r.StateMachineVersionArn), Weight: int(r.Weight)})
	}
	return a, nil
}

// UpdateStateMachineAlias changes an alias's description or routing.
func (c *Client) UpdateStateMachineAlias(ctx context.Context, in sfn.UpdateAliasInput) (time.Time, error) {
	out, err := c.sfn.UpdateStateMachineAlias(ctx, &sdksfn.UpdateStateMachineAliasInput{
		StateMachineAliasArn: aws.String(in.StateMachineAliasARN),
		Description:          in.Description,
		RoutingConfiguration: sdkRouting(in.RoutingConfiguration),
	})
	if err != nil {
		return time.Time{}, fail("UpdateStateMachineAlias", err)
	}
	return aws.ToTime(out.UpdateDate), nil
}

// ListStateMachineAliases returns a page of a state machine's aliases.
func (c *Client) ListStateMachineAliases(ctx context.Context, in sfn.ListAliasesInput) (sfn.ListAliasesOutput, error) {
	out, err := c.sfn.ListStateMachineAliases(ctx, &sdksfn.ListStateMachineAliasesInput{
		StateMachineArn: aws.String(in.StateMachineARN),
		MaxResults:      maxResults(in.MaxResults),
		NextToken:       optString(in.NextToken),
	})
	if err != nil {
		return sfn.ListAliasesOutput{}, fail("ListStateMachineAliases", err)
	}
	res := sfn.ListAliasesOutput{StateMachineAliases: []sfn.AliasListItem{}, NextToken: aws.ToString(out.NextToken)}
	for _, a := range out.StateMachineAliases {
		res.StateMachineAliases = append(res.StateMachineAliases, sfn.AliasListItem{
			StateMachineAliasARN: aws.ToString(a.StateMachineAliasArn), CreationDate: aws.ToTime(a.CreationDate)})
	}
	return res, nil
}

// DeleteStateMachineAlias deletes an alias.
func (c *Client) DeleteStateMachineAlias(ctx context.Context, aliasARN string) error {
	if _, err := c.sfn.DeleteStateMachineAlias(ctx, &sdksfn.DeleteStateMachineAliasInput{StateMachineAliasArn: aws.String(aliasARN)}); err != nil {
		return fail("DeleteStateMachineAlias", err)
	}
	return nil
}

func sdkTags(tags []sfn.Tag) []types.Tag {
	if tags == nil {
		return nil
	}
	out := make([]types.Tag, len(tags))
	for i, t := range tags {
		out[i] = types.Tag{Key: aws.String(t.Key), Value: aws.String(t.Value)}
	}
	return out
}

// TagResource tags a state machine or an activity.
func (c *Client) TagResource(ctx context.Context, resourceARN string, tags []sfn.Tag) error {
	if _, err := c.sfn.TagResource(ctx, &sdksfn.TagResourceInput{ResourceArn: aws.String(resourceARN), Tags: sdkTags(tags)}); err != nil {
		return fail("TagResource", err)
	}
	return nil
}

// UntagResource removes tags by key.
func (c *Client) UntagResource(ctx context.Context, resourceARN string, keys []string) error {
	if _, err := c.sfn.UntagResource(ctx, &sdksfn.UntagResourceInput{ResourceArn: aws.String(resourceARN), TagKeys: keys}); err != nil {
		return fail("UntagResource", err)
	}
	return nil
}

// ListTagsForResource lists a resource's tags.
func (c *Client) ListTagsForResource(ctx context.Context, resourceARN string) ([]sfn.Tag, error) {
	out, err := c.sfn.ListTagsForResource(ctx, &sdksfn.ListTagsForResourceInput{ResourceArn: aws.String(resourceARN)})
	if err != nil {
		return nil, fail("ListTagsForResource", err)
	}
	res := make([]sfn.Tag, 0, len(out.Tags))
	for _, t := range out.Tags {
		res = append(res, sfn.Tag{Key: aws.ToString(t.Key), Value: aws.ToString(t.Value)})
	}
	return res, nil
}

// DescribeStateMachineForExecution describes the state machine an
// execution runs.
func (c *Client) DescribeStateMachineForExecution(ctx context.Context, executionARN string) (sfn.MachineForExecution, error) {
	out, err := c.sfn.DescribeStateMachineForExecution(ctx, &sdksfn.DescribeStateMachineForExecutionInput{ExecutionArn: aws.String(executionARN)})
	if err != nil {
		return sfn.MachineForExecution{}, fail("DescribeStateMachineForExecution", err)
	}
	return sfn.MachineForExecution{StateMachineARN: aws.ToString(out.StateMachineArn), Name: aws.ToString(out.Name),
		Definition: aws.ToString(out.Definition), RoleARN: aws.ToString(out.RoleArn), UpdateDate: aws.ToTime(out.UpdateDate),
		RevisionID: aws.ToString(out.RevisionId)}, nil
}

var _ sfn.Service = (*Client)(nil)

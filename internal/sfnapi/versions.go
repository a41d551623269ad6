package sfnapi

import (
	"context"

	"github.com/aiflow/aiflow/internal/sfn"
)

// The operations of versions, aliases, tags and
// DescribeStateMachineForExecution.
func init() {
	for name, op := range map[string]operation{
		"PublishStateMachineVersion":       (*handler).publishStateMachineVersion,
		"ListStateMachineVersions":         (*handler).listStateMachineVersions,
		"DeleteStateMachineVersion":        (*handler).deleteStateMachineVersion,
		"CreateStateMachineAlias":          (*handler).createStateMachineAlias,
		"DescribeStateMachineAlias":        (*handler).describeStateMachineAlias,
		"UpdateStateMachineAlias":          (*handler).updateStateMachineAlias,
		"ListStateMachineAliases":          (*handler).listStateMachineAliases,
		"DeleteStateMachineAlias":          (*handler).deleteStateMachineAlias,
		"TagResource":                      (*handler).tagResource,
		"UntagResource":                    (*handler).untagResource,
		"ListTagsForResource":              (*handler).listTagsForResource,
		"DescribeStateMachineForExecution": (*handler).describeStateMachineForExecution,
	} {
		operations[name] = op
	}
}

// wireTag is a tag as the API spells it.
type wireTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// wireRouting is a RoutingConfig as the API spells it.
type wireRouting struct {
	StateMachineVersionARN string `json:"stateMachineVersionArn"`
	Weight                 int    `json:"weight"`
}

// tags reads a list of tags member.
func (m *members) tags(name string) []sfn.Tag {
	var ts []wireTag
	if !m.Object(name, &ts, "a list of tags") {
		return nil
	}
	out := make([]sfn.Tag, len(ts))
	for i, t := range ts {
		out[i] = sfn.Tag{Key: t.Key, Value: t.Value}
	}
	return out
}

// routing reads a routingConfiguration member; nil when absent.
func (m *members) routing(name string) []sfn.RoutingConfig {
	var rs []wireRouting
	if !m.Object(name, &rs, "a list of routing configurations") {
		return nil
	}
	out := make([]sfn.RoutingConfig, len(rs))
	for i, r := range rs {
		out[i] = sfn.RoutingConfig{StateMachineVersionARN: r.StateMachineVersionARN, Weight: r.Weight}
	}
	return out
}

func wireRoutings(rs []sfn.RoutingConfig) []wireRouting {
	out := make([]wireRouting, len(rs))
	for i, r := range rs {
		out[i] = wireRouting{StateMachineVersionARN: r.StateMachineVersionARN, Weight: r.Weight}
	}
	return out
}

type publishVersionResponse struct {
	StateMachineVersionARN string    `json:"stateMachineVersionArn"`
	CreationDate           epochTime `json:"creationDate"`
}

func (h *handler) publishStateMachineVersion(ctx context.Context, m *members) (any, error) {
	in := sfn.PublishVersionInput{
		StateMachineARN: m.required("stateMachineArn"),
		RevisionID:      m.String("revisionId"),
		Description:     m.String("description"),
	}
	if err := m.Done(); err != nil {
		return nil, err
	}
	out, err := h.svc.PublishStateMachineVersion(ctx, in)
	if err != nil {
		return nil, err
	}
	return publishVersionResponse{StateMachineVersionARN: out.StateMachineVersionARN, CreationDate: epochTime(out.CreationDate)}, nil
}

type versionListItem struct {
	StateMachineVersionARN string    `json:"stateMachineVersionArn"`
	CreationDate           epochTime `json:"creationDate"`
}

type listVersionsResponse struct {
	StateMachineVersions []versionListItem `json:"stateMachineVersions"`
	NextToken            string            `json:"nextToken,omitempty"`
}

func (h *handler) listStateMachineVersions(ctx context.Context, m *members) (any, error) {
	in := sfn.ListVersionsInput{
		StateMachineARN: m.required("stateMachineArn"),
		MaxResults:      m.integer("maxResults", 0, maxPageSize),
		NextToken:       m.String("nextToken"),
	}
	if err := m.Done(); err != nil {
		return nil, err
	}
	out, err := h.svc.ListStateMachineVersions(ctx, in)
	if err != nil {
		return nil, err
	}
	resp := listVersionsResponse{StateMachineVersions: make([]versionListItem, 0, len(out.StateMachineVersions)), NextToken: out.NextToken}
	for _, v := range out.StateMachineVersions {
		resp.StateMachineVersions = append(resp.StateMachineVersions, versionListItem{StateMachineVersionARN: v.StateMachineVersionARN, CreationDate: epochTime(v.CreationDate)})
	}
	return resp, nil
}

func (h *handler) deleteStateMachineVersion(ctx context.Context, m *members) (any, error) {
	arn := m.required("stateMachineVersionArn")
	if err := m.Done(); err != nil {
		return nil, err
	}
	if err := h.svc.DeleteStateMachineVersion(ctx, arn); err != nil {
		return nil, err
	}
	return empty{}, nil
}

type createAliasResponse struct {
	StateMachineAliasARN string    `json:"stateMachineAliasArn"`
	CreationDate         epochTime `json:"creationDate"`
}

func (h *handler) createStateMachineAlias(ctx context.Context, m *members) (any, error) {
	if m.Value("routingConfiguration") == nil {
		m.required("routingConfiguration")
	}
	in := sfn.CreateAliasInput{
		Name:                 m.required("name"),
		Description:          m.String("description"),
		RoutingConfiguration: m.routing("routingConfiguration"),
	}
	if err := m.Done(); err != nil {
		return nil, err
	}
	out, err := h.svc.CreateStateMachineAlias(ctx, in)
	if err != nil {
		return nil, err
	}
	return createAliasResponse{StateMachineAliasARN: out.StateMachineAliasARN, CreationDate: epochTime(out.CreationDate)}, nil
}

type describeAliasResponse struct {
	StateMachineAliasARN string        `json:"stateMachineAliasArn"`
	Name                 string        `json:"name"`
	Description          string        `json:"description,omitempty"`
	RoutingConfiguration []wireRouting `json:"routingConfiguration"`
	CreationDate         epochTime     `json:"creationDate"`
	UpdateDate           epochTime     `json:"updateDate"`
}

func (h *handler) describeStateMachineAlias(ctx context.Context, m *members) (any, error) {
	arn := m.required("stateMachineAliasArn")
	if err := m.Done(); err != nil {
		return nil, err
	}
	a, err := h.svc.DescribeStateMachineAlias(ctx, arn)
	if err != nil {
		return nil, err
	}
	return describeAliasResponse{StateMachineAliasARN: a.StateMachineAliasARN, Name: a.Name, Description: a.Description,
		RoutingConfiguration: wireRoutings(a.RoutingConfiguration), CreationDate: epochTime(a.CreationDate), UpdateDate: epochTime(a.UpdateDate)}, nil
}

type updateAliasResponse struct {
	UpdateDate epochTime `json:"updateDate"`
}

func (h *handler) updateStateMachineAlias(ctx context.Context, m *members) (any, error) {
	in := sfn.UpdateAliasInput{
		StateMachineAliasARN: m.required("stateMachineAliasArn"),
		Description:          m.OptString("description"),
		RoutingConfiguration: m.routing("routingConfiguration"),
	}
	if err := m.Done(); err != nil {
		return nil, err
	}
	date, err := h.svc.UpdateStateMachineAlias(ctx, in)
	if err != nil {
		return nil, err
	}
	return updateAliasResponse{UpdateDate: epochTime(date)}, nil
}

type aliasListItem struct {
	StateMachineAliasARN string    `json:"stateMachineAliasArn"`
	CreationDate         epochTime `json:"creationDate"`
}

type listAliasesResponse struct {
	StateMachineAliases []aliasListItem `json:"stateMachineAliases"`
	NextToken           string          `json:"nextToken,omitempty"`
}

func (h *handler) listStateMachineAliases(ctx context.Context, m *members) (any, error) {
	in := sfn.ListAliasesInput{
		StateMachineARN: m.required("stateMachineArn"),
		MaxResults:      m.integer("maxResults", 0, maxPageSize),
		NextToken:       m.String("nextToken"),
	}
	if err := m.Done(); err != nil {
		return nil, err
	}
	out, err := h.svc.ListStateMachineAliases(ctx, in)
	if err != nil {
		return nil, err
	}
	resp := listAliasesResponse{StateMachineAliases: make([]aliasListItem, 0, len(out.StateMachineAliases)), NextToken: out.NextToken}
	for _, a := range out.StateMachineAliases {
		resp.StateMachineAliases = append(resp.StateMachineAliases, aliasListItem{StateMachineAliasARN: a.StateMachineAliasARN, CreationDate: epochTime(a.CreationDate)})
	}
	return resp, nil
}

func (h *handler) deleteStateMachineAlias(ctx context.Context, m *members) (any, error) {
	arn := m.required("stateMachineAliasArn")
	if err := m.Done(); err != nil {
		return nil, err
	}
	if err := h.svc.DeleteStateMachineAlias(ctx, arn); err != nil {
		return nil, err
	}
	return empty{}, nil
}

func (h *handler) tagResource(ctx context.Context, m *members) (any, error) {
	arn := m.required("resourceArn")
	if m.Value("tags") == nil {
		m.required("tags")
	}
	tags := m.tags("tags")
	if err := m.Done(); err != nil {
		return nil, err
	}
	if err := h.svc.TagResource(ctx, arn, tags); err != nil {
		return nil, err
	}
	return empty{}, nil
}

func (h *handler) untagResource(ctx context.Context, m *members) (any, error) {
	arn := m.required("resourceArn")
	if m.Value("tagKeys") == nil {
		m.required("tagKeys")
	}
	keys := m.Strings("tagKeys")
	if err := m.Done(); err != nil {
		return nil, err
	}
	if err := h.svc.UntagResource(ctx, arn, keys); err != nil {
		return nil, err
	}
	return empty{}, nil
}

type listTagsResponse struct {
	Tags []wireTag `json:"tags"`
}

func (h *handler) listTagsForResource(ctx context.Context, m *members) (any, error) {
	arn := m.required("resourceArn")
	if err := m.Done(); err != nil {
		return nil, err
	}
	tags, err := h.svc.ListTagsForResource(ctx, arn)
	if err != nil {
		return nil, err
	}
	resp := listTagsResponse{Tags: make([]wireTag, 0, len(tags))}
	for _, t := range tags {
		resp.Tags = append(resp.Tags, wireTag{Key: t.Key, Value: t.Value})
	}
	return resp, nil
}

type machineForExecutionResponse struct {
	StateMachineARN      string               `json:"stateMachineArn"`
	Name                 string               `json:"name"`
	Definition           string               `json:"definition"`
	RoleARN              string               `json:"roleArn"`
	UpdateDate           epochTime            `json:"updateDate"`
	RevisionID           string               `json:"revisionId,omitempty"`
	LoggingConfiguration loggingConfiguration `json:"loggingConfiguration"`
	TracingConfiguration tracingConfiguration `json:"tracingConfiguration"`
}

func (h *handler) describeStateMachineForExecution(ctx context.Context, m *members) (any, error) {
	arn := m.required("executionArn")
	m.enum("includedData", includedData...)
	if err := m.Done(); err != nil {
		return nil, err
	}
	d, err := h.svc.DescribeStateMachineForExecution(ctx, arn)
	if err != nil {
		return nil, err
	}
	return machineForExecutionResponse{StateMachineARN: d.StateMachineARN, Name: d.Name, Definition: d.Definition, RoleARN: d.RoleARN,
		UpdateDate: epochTime(d.UpdateDate), RevisionID: d.RevisionID, LoggingConfiguration: loggingConfiguration{Level: "OFF"}}, nil
}

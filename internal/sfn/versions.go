package sfn

import (
	"context"
	"time"
)

// Limits of versions, aliases and tags, as the Step Functions API
// reference gives them.
const (
	// MaxVersions is how many versions one state machine may have
	// (PublishStateMachineVersion); one more is ServiceQuotaExceededException.
	MaxVersions = 1000
	// MaxAliases is how many aliases one state machine may have
	// (CreateStateMachineAlias).
	MaxAliases = 100
	// MaxTags is how many tags one resource may carry (TagResource);
	// more is TooManyTags.
	MaxTags = 50
	// MaxVersionDescription bounds a version's description and
	// MaxAliasDescription an alias's.
	MaxVersionDescription = 256
	MaxAliasDescription   = 256
)

// Error codes of versions, aliases, tags and Map Runs (ResourceNotFound:
// a version, alias, tagged resource or Map Run that does not exist).
const (
	CodeResourceNotFound     = "ResourceNotFound"
	CodeServiceQuotaExceeded = "ServiceQuotaExceededException"
	CodeTooManyTags          = "TooManyTags"
)

// State machine statuses: a deleted state machine is DELETING while
// executions of it still run, then gone.
const (
	StateMachineActive   = "ACTIVE"
	StateMachineDeleting = "DELETING"
)

// RevisionInitial is the revisionId PublishStateMachineVersion takes for
// the first revision of a state machine, which has no revision ID yet.
const RevisionInitial = "INITIAL"

// Tag is one tag of a resource.
type Tag struct {
	Key   string
	Value string
}

// PublishVersionInput is the input of PublishStateMachineVersion.
type PublishVersionInput struct {
	StateMachineARN string
	// RevisionID, when set, publishes only if the state machine's current
	// revision is this one (else ConflictException); "INITIAL" names the
	// revision of a state machine never updated.
	RevisionID  string
	Description string
}

// PublishVersionOutput is the result of PublishStateMachineVersion.
type PublishVersionOutput struct {
	StateMachineVersionARN string
	CreationDate           time.Time
}

// ListVersionsInput is the input of ListStateMachineVersions.
type ListVersionsInput struct {
	StateMachineARN string
	MaxResults      int // 0 means 100, at most 1000
	NextToken       string
}

// VersionListItem is one version as ListStateMachineVersions lists it.
type VersionListItem struct {
	StateMachineVersionARN string
	CreationDate           time.Time
}

// ListVersionsOutput is a page of ListStateMachineVersions, newest first.
type ListVersionsOutput struct {
	StateMachineVersions []VersionListItem
	NextToken            string
}

// RoutingConfig is one version an alias routes to, with the percentage
// of its executions (the weights of an alias add up to 100).
type RoutingConfig struct {
	StateMachineVersionARN string
	Weight                 int
}

// CreateAliasInput is the input of CreateStateMachineAlias.
type CreateAliasInput struct {
	Name        string
	Description string
	// RoutingConfiguration names one or two versions of one state machine.
	RoutingConfiguration []RoutingConfig
}

// CreateAliasOutput is the result of CreateStateMachineAlias.
type CreateAliasOutput struct {
	StateMachineAliasARN string
	CreationDate         time.Time
}

// UpdateAliasInput is the input of UpdateStateMachineAlias; nil fields
// keep their value, and one of them must be set.
type UpdateAliasInput struct {
	StateMachineAliasARN string
	Description          *string
	RoutingConfiguration []RoutingConfig
}

// Alias describes a state machine alias.
type Alias struct {
	StateMachineAliasARN string
	Name                 string
	Description          string
	RoutingConfiguration []RoutingConfig
	CreationDate         time.Time
	UpdateDate           time.Time
}

// ListAliasesInput is the input of ListStateMachineAliases. The ARN is a
// state machine's, or a version's to list the aliases routing to it.
type ListAliasesInput struct {
	StateMachineARN string
	MaxResults      int // 0 means 100, at most 1000
	NextToken       string
}

// AliasListItem is one alias as ListStateMachineAliases lists it.
type AliasListItem struct {
	StateMachineAliasARN string
	CreationDate         time.Time
}

// ListAliasesOutput is a page of ListStateMachineAliases.
type ListAliasesOutput struct {
	StateMachineAliases []AliasListItem
	NextToken           string
}

// MachineForExecution is the result of DescribeStateMachineForExecution:
// the state machine as the execution runs it (the version's definition
// for an execution started on a version or alias).
type MachineForExecution struct {
	StateMachineARN string
	Name            string
	Definition      string
	RoleARN         string
	UpdateDate      time.Time
	RevisionID      string
}

// Versions publishes, lists and deletes state machine versions: the
// numbered, immutable snapshots whose ARN is the state machine's with
// ":<number>" after it.
type Versions interface {
	PublishStateMachineVersion(ctx context.Context, in PublishVersionInput) (PublishVersionOutput, error)
	ListStateMachineVersions(ctx context.Context, in ListVersionsInput) (ListVersionsOutput, error)
	DeleteStateMachineVersion(ctx context.Context, versionARN string) error
}

// Aliases create, read, change and delete state machine aliases: names
// (ARN: the state machine's with ":<name>" after it) that route
// executions to one or two versions by weight.
type Aliases interface {
	CreateStateMachineAlias(ctx context.Context, in CreateAliasInput) (CreateAliasOutput, error)
	DescribeStateMachineAlias(ctx context.Context, aliasARN string) (Alias, error)
	UpdateStateMachineAlias(ctx context.Context, in UpdateAliasInput) (updateDate time.Time, err error)
	ListStateMachineAliases(ctx context.Context, in ListAliasesInput) (ListAliasesOutput, error)
	DeleteStateMachineAlias(ctx context.Context, aliasARN string) error
}

// Tags tag state machines and activities.
type Tags interface {
	TagResource(ctx context.Context, resourceARN string, tags []Tag) error
	UntagResource(ctx context.Context, resourceARN string, keys []string) error
	ListTagsForResource(ctx context.Context, resourceARN string) ([]Tag, error)
}

// ExecutionMachines describes the state machine an execution runs.
type ExecutionMachines interface {
	DescribeStateMachineForExecution(ctx context.Context, executionARN string) (MachineForExecution, error)
}

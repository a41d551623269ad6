package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aiflow/aiflow/internal/asl"
	"github.com/aiflow/aiflow/internal/sfn"
)

// VersionRecord is a published state machine version as a Store keeps
// it: the state machine's revision when it was published.
type VersionRecord struct {
	// ARN is the state machine's ARN with ":<Version>" after it.
	ARN             string
	StateMachineARN string
	Version         int
	Definition      string
	RoleARN         string
	Description     string
	// RevisionID is the state machine's revision the version was
	// published from.
	RevisionID   string
	CreationDate time.Time
}

// AliasRecord is a state machine alias as a Store keeps it.
type AliasRecord struct {
	// ARN is the state machine's ARN with ":<Name>" after it.
	ARN             string
	StateMachineARN string
	Name            string
	Description     string
	Routing         []sfn.RoutingConfig
	CreationDate    time.Time
	UpdateDate      time.Time
}

// VersionStore is the part of a Store that keeps versions and aliases.
// Deleting a missing one is no error.
type VersionStore interface {
	PutVersion(ctx context.Context, v VersionRecord) error
	DeleteVersion(ctx context.Context, arn string) error
	// Versions returns every version.
	Versions(ctx context.Context) ([]VersionRecord, error)
	PutAlias(ctx context.Context, a AliasRecord) error
	DeleteAlias(ctx context.Context, arn string) error
	// Aliases returns every alias.
	Aliases(ctx context.Context) ([]AliasRecord, error)
}

// version is a published version with its parsed definition.
type version struct {
	rec VersionRecord
	sm  *asl.StateMachine
}

// versionSet holds the engine's versions and aliases, under Engine.mu.
type versionSet struct {
	versions map[string]*version    // by version ARN
	aliases  map[string]AliasRecord // by alias ARN
}

func newVersionSet() versionSet {
	return versionSet{versions: map[string]*version{}, aliases: map[string]AliasRecord{}}
}

// isAliasName reports whether s has the form of an alias name: 1 to 80
// letters, digits, _, - and . (the caller refuses digits only, which
// would read as a version number).
func isAliasName(s string) bool {
	if len(s) == 0 || len(s) > 80 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// isVersionLabel reports whether s is a version number: 1 to 10 digits,
// the first not 0.
func isVersionLabel(s string) bool {
	return len(s) >= 1 && len(s) <= 10 && s[0] != '0' && isDigits(s)
}

// stateMachineTarget is what a state machine ARN, qualified or not,
// names: a state machine, one of its versions, or one of its aliases.
type stateMachineTarget struct {
	machineARN string
	versionARN string // set for a version
	aliasARN   string // set for an alias
}

// parseTarget reads a state machine ARN that may carry a version number
// or an alias name.
func parseTarget(arn string) (stateMachineTarget, error) {
	if isStatesARN(arn, 1, "stateMachine") {
		return stateMachineTarget{machineARN: arn}, nil
	}
	if !isStatesARN(arn, 2, "stateMachine") {
		return stateMachineTarget{}, errorf(sfn.CodeInvalidArn, "invalid state machine ARN %q: want arn:aws:states:REGION:ACCOUNT:stateMachine:NAME, with :VERSION or :ALIAS after it for a version or an alias", arn)
	}
	i := strings.LastIndexByte(arn, ':')
	machine, label := arn[:i], arn[i+1:]
	if isVersionLabel(label) {
		return stateMachineTarget{machineARN: machine, versionARN: arn}, nil
	}
	if !isAliasName(label) || isDigits(label) {
		return stateMachineTarget{}, errorf(sfn.CodeInvalidArn, "invalid state machine ARN %q: %q is neither a version number nor an alias name", arn, label)
	}
	return stateMachineTarget{machineARN: machine, aliasARN: arn}, nil
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// checkVersionARN accepts a version ARN only.
func checkVersionARN(arn string) (stateMachineTarget, error) {
	t, err := parseTarget(arn)
	if err == nil && t.versionARN == "" {
		err = errorf(sfn.CodeInvalidArn, "invalid state machine version ARN %q: want the state machine's ARN with :VERSION after it", arn)
	}
	return t, err
}

// checkAliasARN accepts an alias ARN only.
func checkAliasARN(arn string) (stateMachineTarget, error) {
	t, err := parseTarget(arn)
	if err == nil && t.aliasARN == "" {
		err = errorf(sfn.CodeInvalidArn, "invalid state machine alias ARN %q: want the state machine's ARN with :ALIAS after it", arn)
	}
	return t, err
}

// refuseQualified is the error of an operation on a state machine given
// a version's or alias's ARN; nil for an unqualified ARN.
func refuseQualified(op, arn string) error {
	if isStatesARN(arn, 1, "stateMachine") {
		return nil
	}
	if _, err := parseTarget(arn); err != nil {
		return err
	}
	return errorf(sfn.CodeValidation, "%s takes an unqualified state machine ARN, not a version's or an alias's: %s", op, arn)
}

// loadVersions reads the versions and aliases from the store at Start.
// A machine's LastVersion is raised to its highest version, in case the
// store kept a version but not the machine's count after it.
func (e *Engine) loadVersions(ctx context.Context) error {
	vs, err := e.store.Versions(ctx)
	if err != nil {
		return fmt.Errorf("loading state machine versions: %w", err)
	}
	as, err := e.store.Aliases(ctx)
	if err != nil {
		return fmt.Errorf("loading state machine aliases: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, r := range vs {
		sm, err := parseDefinition(r.Definition)
		if err != nil {
			return fmt.Errorf("loading state machine version %s: %w", r.ARN, err)
		}
		e.vs.versions[r.ARN] = &version{rec: r, sm: sm}
		if m := e.machines[r.StateMachineARN]; m != nil && m.rec.LastVersion < r.Version {
			m.rec.LastVersion = r.Version
		}
	}
	for _, a := range as {
		e.vs.aliases[a.ARN] = a
	}
	return nil
}

// publishLocked publishes the current revision of m as a version, or
// returns the version already published from it. The caller holds e.mu.
func (e *Engine) publishLocked(ctx context.Context, m *machine, description string) (VersionRecord, error) {
	if len(description) > sfn.MaxVersionDescription {
		return VersionRecord{}, errorf(sfn.CodeValidation, "the version description has %d characters; the limit is %d", len(description), sfn.MaxVersionDescription)
	}
	n := 0
	for _, v := range e.vs.versions {
		if v.rec.StateMachineARN != m.rec.ARN {
			continue
		}
		if v.rec.RevisionID == m.rec.RevisionID {
			return v.rec, nil
		}
		n++
	}
	if n >= sfn.MaxVersions {
		return VersionRecord{}, errorf(sfn.CodeServiceQuotaExceeded, "state machine %s has %d versions, the most Step Functions allows; delete unused ones (DeleteStateMachineVersion)", m.rec.ARN, n)
	}
	num := m.rec.LastVersion + 1
	v := VersionRecord{ARN: m.rec.ARN + ":" + strconv.Itoa(num), StateMachineARN: m.rec.ARN, Version: num,
		Definition: m.rec.Definition, RoleARN: m.rec.RoleARN, Description: description, RevisionID: m.rec.RevisionID, CreationDate: e.now()}
	if err := e.store.PutVersion(ctx, v); err != nil {
		return VersionRecord{}, e.storeError("PublishStateMachineVersion", err)
	}
	rec := m.rec
	rec.LastVersion = num
	if err := e.store.PutStateMachine(ctx, rec); err != nil {
		return VersionRecord{}, e.storeError("PublishStateMachineVersion", err)
	}
	e.machines[rec.ARN] = &machine{rec: rec, sm: m.sm}
	e.vs.versions[v.ARN] = &version{rec: v, sm: m.sm}
	return v, nil
}

// activeMachineLocked returns the state machine of arn, refusing one
// that does not exist or is being deleted. The caller holds e.mu.
func (e *Engine) activeMachineLocked(arn string) (*machine, error) {
	m := e.machines[arn]
	if m == nil {
		return nil, errorf(sfn.CodeStateMachineDoesNotExist, "state machine %s does not exist", arn)
	}
	if m.rec.Status == sfn.StateMachineDeleting {
		return nil, errorf(sfn.CodeStateMachineDeleting, "state machine %s is being deleted", arn)
	}
	return m, nil
}

// PublishStateMachineVersion publishes the state machine's current
// revision as its next version, numbered from 1 and never reused.
// Publishing a revision that has a version already returns that version.
// A RevisionID other than the current one is ConflictException; more
// than sfn.MaxVersions versions is ServiceQuotaExceededException.
func (e *Engine) PublishStateMachineVersion(ctx context.Context, in sfn.PublishVersionInput) (sfn.PublishVersionOutput, error) {
	if err := e.checkOpen(); err != nil {
		return sfn.PublishVersionOutput{}, err
	}
	if err := refuseQualified("PublishStateMachineVersion", in.StateMachineARN); err != nil {
		return sfn.PublishVersionOutput{}, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	m, err := e.activeMachineLocked(in.StateMachineARN)
	if err != nil {
		return sfn.PublishVersionOutput{}, err
	}
	if in.RevisionID != "" && in.RevisionID != m.rec.RevisionID &&
		(in.RevisionID != sfn.RevisionInitial || !m.rec.UpdateDate.Equal(m.rec.CreationDate)) {
		return sfn.PublishVersionOutput{}, errorf(sfn.CodeConflict, "state machine %s is at revision %s, not %s: it changed since", m.rec.ARN, m.rec.RevisionID, in.RevisionID)
	}
	v, err := e.publishLocked(ctx, m, in.Description)
	if err != nil {
		return sfn.PublishVersionOutput{}, err
	}
	return sfn.PublishVersionOutput{StateMachineVersionARN: v.ARN, CreationDate: v.CreationDate}, nil
}

// ListStateMachineVersions lists a state machine's versions, newest
// first; a state machine without versions, or none, has an empty list.
func (e *Engine) ListStateMachineVersions(ctx context.Context, in sfn.ListVersionsInput) (sfn.ListVersionsOutput, error) {
	if err := refuseQualified("ListStateMachineVersions", in.StateMachineARN); err != nil {
		return sfn.ListVersionsOutput{}, err
	}
	limit, err := pageSize(in.MaxResults)
	if err != nil {
		return sfn.ListVersionsOutput{}, err
	}
	below := int(^uint(0) >> 1)
	if in.NextToken != "" {
		n, err := strconv.Atoi(in.NextToken)
		if err != nil || n < 1 {
			return sfn.ListVersionsOutput{}, errorf(sfn.CodeInvalidToken, "invalid nextToken %q", in.NextToken)
		}
		below = n
	}
	e.mu.Lock()
	var recs []VersionRecord
	for _, v := range e.vs.versions {
		if v.rec.StateMachineARN == in.StateMachineARN && v.rec.Version < below {
			recs = append(recs, v.rec)
		}
	}
	e.mu.Unlock()
	slices.SortFunc(recs, func(a, b VersionRecord) int { return b.Version - a.Version })
	out := sfn.ListVersionsOutput{StateMachineVersions: []sfn.VersionListItem{}}
	for i, r := range recs {
		if i == limit {
			out.NextToken = strconv.Itoa(recs[i-1].Version)
			break
		}
		out.StateMachineVersions = append(out.StateMachineVersions, sfn.VersionListItem{StateMachineVersionARN: r.ARN, CreationDate: r.CreationDate})
	}
	return out, nil
}

// DeleteStateMachineVersion deletes a version; its executions run on.
// A version an alias routes to is ConflictException; a missing version is
// no error.
func (e *Engine) DeleteStateMachineVersion(ctx context.Context, versionARN string) error {
	if err := e.checkOpen(); err != nil {
		return err
	}
	if _, err := checkVersionARN(versionARN); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.vs.versions[versionARN] == nil {
		return nil
	}
	for _, a := range e.vs.aliases {
		for _, r := range a.Routing {
			if r.StateMachineVersionARN == versionARN {
				return errorf(sfn.CodeConflict, "version %s is routed to by alias %s: update or delete the alias first", versionARN, a.ARN)
			}
		}
	}
	if err := e.store.DeleteVersion(ctx, versionARN); err != nil {
		return e.storeError("DeleteStateMachineVersion", err)
	}
	delete(e.vs.versions, versionARN)
	return nil
}

// checkRouting checks an alias's routing configuration: one or two
// distinct versions of one active state machine, that exist, with weights
// from 0 to 100 adding up to 100. It returns the state machine's ARN. The
// caller holds e.mu.
func (e *Engine) checkRouting(routing []sfn.RoutingConfig) (string, error) {
	if len(routing) < 1 || len(routing) > 2 {
		return "", errorf(sfn.CodeValidation, "routingConfiguration has %d entries; it takes one or two versions", len(routing))
	}
	var machineARN string
	sum := 0
	for i, r := range routing {
		t, err := checkVersionARN(r.StateMachineVersionARN)
		if err != nil {
			return "", err
		}
		if r.Weight < 0 || r.Weight > 100 {
			return "", errorf(sfn.CodeValidation, "routingConfiguration[%d].weight is %d; a weight is 0 to 100", i, r.Weight)
		}
		sum += r.Weight
		if i == 1 {
			if t.machineARN != machineARN {
				return "", errorf(sfn.CodeValidation, "routingConfiguration names versions of two state machines, %s and %s; an alias routes to versions of one", machineARN, t.machineARN)
			}
			if r.StateMachineVersionARN == routing[0].StateMachineVersionARN {
				return "", errorf(sfn.CodeValidation, "routingConfiguration names version %s twice", r.StateMachineVersionARN)
			}
		}
		machineARN = t.machineARN
		if _, err := e.activeMachineLocked(machineARN); err != nil {
			return "", err
		}
		if e.vs.versions[r.StateMachineVersionARN] == nil {
			return "", errorf(sfn.CodeResourceNotFound, "state machine version %s does not exist", r.StateMachineVersionARN)
		}
	}
	if sum != 100 {
		return "", errorf(sfn.CodeValidation, "the weights of routingConfiguration add up to %d; they must add up to 100", sum)
	}
	return machineARN, nil
}

func sameRouting(a, b []sfn.RoutingConfig) bool { return slices.Equal(a, b) }

// CreateStateMachineAlias creates an alias of the state machine whose
// versions the routing configuration names. Creating it again with the
// same description and routing returns it; with others it is
// ConflictException. More than sfn.MaxAliases aliases is
// ServiceQuotaExceededException.
func (e *Engine) CreateStateMachineAlias(ctx context.Context, in sfn.CreateAliasInput) (sfn.CreateAliasOutput, error) {
	if err := e.checkOpen(); err != nil {
		return sfn.CreateAliasOutput{}, err
	}
	if !isAliasName(in.Name) || isDigits(in.Name) {
		return sfn.CreateAliasOutput{}, errorf(sfn.CodeInvalidName, "invalid alias name %q: 1 to 80 letters, digits, _, - or ., not only digits", in.Name)
	}
	if len(in.Description) > sfn.MaxAliasDescription {
		return sfn.CreateAliasOutput{}, errorf(sfn.CodeValidation, "the alias description has %d characters; the limit is %d", len(in.Description), sfn.MaxAliasDescription)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	machineARN, err := e.checkRouting(in.RoutingConfiguration)
	if err != nil {
		return sfn.CreateAliasOutput{}, err
	}
	arn := machineARN + ":" + in.Name
	if old, ok := e.vs.aliases[arn]; ok {
		if old.Description == in.Description && sameRouting(old.Routing, in.RoutingConfiguration) {
			return sfn.CreateAliasOutput{StateMachineAliasARN: arn, CreationDate: old.CreationDate}, nil
		}
		return sfn.CreateAliasOutput{}, errorf(sfn.CodeConflict, "alias %s exists already with another description or routing", arn)
	}
	n := 0
	for _, a := range e.vs.aliases {
		if a.StateMachineARN == machineARN {
			n++
		}
	}
	if n >= sfn.MaxAliases {
		return sfn.CreateAliasOutput{}, errorf(sfn.CodeServiceQuotaExceeded, "state machine %s has %d aliases, the most Step Functions allows", machineARN, n)
	}
	now := e.now()
	a := AliasRecord{ARN: arn, StateMachineARN: machineARN, Name: in.Name, Description: in.Description,
		Routing: slices.Clone(in.RoutingConfiguration), CreationDate: now, UpdateDate: now}
	if err := e.store.PutAlias(ctx, a); err != nil {
		return sfn.CreateAliasOutput{}, e.storeError("CreateStateMachineAlias", err)
	}
	e.vs.aliases[arn] = a
	return sfn.CreateAliasOutput{StateMachineAliasARN: arn, CreationDate: now}, nil
}

func (e *Engine) aliasLocked(arn string) (AliasRecord, error) {
	if _, err := checkAliasARN(arn); err != nil {
		return AliasRecord{}, err
	}
	a, ok := e.vs.aliases[arn]
	if !ok {
		return AliasRecord{}, errorf(sfn.CodeResourceNotFound, "state machine alias %s does not exist", arn)
	}
	return a, nil
}

// DescribeStateMachineAlias describes an alias; ResourceNotFound when
// there is none.
func (e *Engine) DescribeStateMachineAlias(ctx context.Context, aliasARN string) (sfn.Alias, error) {
	e.mu.Lock()
	a, err := e.aliasLocked(aliasARN)
	e.mu.Unlock()
	if err != nil {
		return sfn.Alias{}, err
	}
	return sfn.Alias{StateMachineAliasARN: a.ARN, Name: a.Name, Description: a.Description,
		RoutingConfiguration: slices.Clone(a.Routing), CreationDate: a.CreationDate, UpdateDate: a.UpdateDate}, nil
}

// UpdateStateMachineAlias changes an alias's description or routing; the
// executions it started keep their version.
func (e *Engine) UpdateStateMachineAlias(ctx context.Context, in sfn.UpdateAliasInput) (time.Time, error) {
	if err := e.checkOpen(); err != nil {
		return time.Time{}, err
	}
	if in.Description == nil && in.RoutingConfiguration == nil {
		return time.Time{}, errorf(sfn.CodeValidation, "give a description or a routingConfiguration to update")
	}
	if in.Description != nil && len(*in.Description) > sfn.MaxAliasDescription {
		return time.Time{}, errorf(sfn.CodeValidation, "the alias description has %d characters; the limit is %d", len(*in.Description), sfn.MaxAliasDescription)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	a, err := e.aliasLocked(in.StateMachineAliasARN)
	if err != nil {
		return time.Time{}, err
	}
	if in.RoutingConfiguration != nil {
		machineARN, err := e.checkRouting(in.RoutingConfiguration)
		if err != nil {
			return time.Time{}, err
		}
		if machineARN != a.StateMachineARN {
			return time.Time{}, errorf(sfn.CodeValidation, "alias %s routes to versions of %s, not of %s", a.ARN, a.StateMachineARN, machineARN)
		}
		a.Routing = slices.Clone(in.RoutingConfiguration)
	}
	if in.Description != nil {
		a.Description = *in.Description
	}
	a.UpdateDate = e.now()
	if err := e.store.PutAlias(ctx, a); err != nil {
		return time.Time{}, e.storeError("UpdateStateMachineAlias", err)
	}
	e.vs.aliases[a.ARN] = a
	return a.UpdateDate, nil
}

// ListStateMachineAliases lists a state machine's aliases, or those that
// route to a version, newest first.
func (e *Engine) ListStateMachineAliases(ctx context.Context, in sfn.ListAliasesInput) (sfn.ListAliasesOutput, error) {
	t, err := parseTarget(in.StateMachineARN)
	if err != nil {
		return sfn.ListAliasesOutput{}, err
	}
	if t.aliasARN != "" {
		return sfn.ListAliasesOutput{}, errorf(sfn.CodeInvalidArn, "ListStateMachineAliases takes a state machine's or a version's ARN, not an alias's: %s", in.StateMachineARN)
	}
	limit, err := pageSize(in.MaxResults)
	if err != nil {
		return sfn.ListAliasesOutput{}, err
	}
	e.mu.Lock()
	if _, err := e.activeMachineLocked(t.machineARN); err != nil {
		e.mu.Unlock()
		return sfn.ListAliasesOutput{}, err
	}
	if t.versionARN != "" && e.vs.versions[t.versionARN] == nil {
		e.mu.Unlock()
		return sfn.ListAliasesOutput{}, errorf(sfn.CodeResourceNotFound, "state machine version %s does not exist", t.versionARN)
	}
	var recs []AliasRecord
	for _, a := range e.vs.aliases {
		if a.StateMachineARN != t.machineARN {
			continue
		}
		if t.versionARN != "" && !slices.ContainsFunc(a.Routing, func(r sfn.RoutingConfig) bool { return r.StateMachineVersionARN == t.versionARN }) {
			continue
		}
		recs = append(recs, a)
	}
	e.mu.Unlock()
	slices.SortFunc(recs, func(a, b AliasRecord) int {
		if c := b.CreationDate.Compare(a.CreationDate); c != 0 {
			return c
		}
		return strings.Compare(a.ARN, b.ARN)
	})
	start := 0
	if in.NextToken != "" {
		start = slices.IndexFunc(recs, func(a AliasRecord) bool { return a.ARN == in.NextToken }) + 1
		if start == 0 {
			return sfn.ListAliasesOutput{}, errorf(sfn.CodeInvalidToken, "invalid nextToken %q", in.NextToken)
		}
	}
	out := sfn.ListAliasesOutput{StateMachineAliases: []sfn.AliasListItem{}}
	for i := start; i < len(recs); i++ {
		if len(out.StateMachineAliases) == limit {
			out.NextToken = recs[i-1].ARN
			break
		}
		out.StateMachineAliases = append(out.StateMachineAliases, sfn.AliasListItem{StateMachineAliasARN: recs[i].ARN, CreationDate: recs[i].CreationDate})
	}
	return out, nil
}

// DeleteStateMachineAlias deletes an alias, not its versions; the
// executions it started run on. ResourceNotFound when there is none.
func (e *Engine) DeleteStateMachineAlias(ctx context.Context, aliasARN string) error {
	if err := e.checkOpen(); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, err := e.aliasLocked(aliasARN); err != nil {
		return err
	}
	if err := e.store.DeleteAlias(ctx, aliasARN); err != nil {
		return e.storeError("DeleteStateMachineAlias", err)
	}
	delete(e.vs.aliases, aliasARN)
	return nil
}

// deleteVersionsLocked deletes a state machine's aliases and versions,
// as DeleteStateMachine does. The caller holds e.mu.
func (e *Engine) deleteVersionsLocked(ctx context.Context, machineARN string) error {
	for arn, a := range e.vs.aliases {
		if a.StateMachineARN != machineARN {
			continue
		}
		if err := e.store.DeleteAlias(ctx, arn); err != nil {
			return e.storeError("DeleteStateMachine", err)
		}
		delete(e.vs.aliases, arn)
	}
	for arn, v := range e.vs.versions {
		if v.rec.StateMachineARN != machineARN {
			continue
		}
		if err := e.store.DeleteVersion(ctx, arn); err != nil {
			return e.storeError("DeleteStateMachine", err)
		}
		delete(e.vs.versions, arn)
	}
	return nil
}

// startTarget resolves the state machine ARN of a start: the state
// machine as it is now for an unqualified ARN, a version's snapshot for
// a version's, and for an alias's one of its versions, drawn by weight.
// It returns the machine to run (with the version's definition and role)
// and the version and alias the execution records.
func (e *Engine) startTarget(arn string) (m *machine, versionARN, aliasARN string, err error) {
	t, err := parseTarget(arn)
	if err != nil {
		return nil, "", "", err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	base, err := e.activeMachineLocked(t.machineARN)
	if err != nil {
		return nil, "", "", err
	}
	if t.versionARN == "" && t.aliasARN == "" {
		return base, "", "", nil
	}
	versionARN = t.versionARN
	if t.aliasARN != "" {
		a, ok := e.vs.aliases[t.aliasARN]
		if !ok {
			return nil, "", "", errorf(sfn.CodeStateMachineDoesNotExist, "state machine alias %s does not exist", t.aliasARN)
		}
		versionARN = e.route(a.Routing)
	}
	v := e.vs.versions[versionARN]
	if v == nil {
		return nil, "", "", errorf(sfn.CodeStateMachineDoesNotExist, "state machine version %s does not exist", versionARN)
	}
	rec := base.rec
	rec.Definition, rec.RoleARN, rec.RevisionID = v.rec.Definition, v.rec.RoleARN, v.rec.RevisionID
	return &machine{rec: rec, sm: v.sm}, versionARN, t.aliasARN, nil
}

// route draws one version of a routing configuration by weight, as Step
// Functions does for each execution started on an alias.
func (e *Engine) route(routing []sfn.RoutingConfig) string {
	if len(routing) == 1 {
		return routing[0].StateMachineVersionARN
	}
	b := e.randomBytes(8)
	n := new(big.Int).SetBytes(b)
	draw := int(n.Mod(n, big.NewInt(100)).Int64())
	if draw < routing[0].Weight {
		return routing[0].StateMachineVersionARN
	}
	return routing[1].StateMachineVersionARN
}

// describeVersionLocked describes a version as DescribeStateMachine
// does for a version's ARN. The caller holds e.mu.
func (e *Engine) describeVersionLocked(versionARN string) (sfn.StateMachine, error) {
	t, err := checkVersionARN(versionARN)
	if err != nil {
		return sfn.StateMachine{}, err
	}
	m := e.machines[t.machineARN]
	v := e.vs.versions[versionARN]
	if m == nil || v == nil {
		return sfn.StateMachine{}, errorf(sfn.CodeStateMachineDoesNotExist, "state machine version %s does not exist", versionARN)
	}
	d := describeMachine(m.rec)
	d.StateMachineARN, d.Definition, d.RoleARN = v.rec.ARN, v.rec.Definition, v.rec.RoleARN
	d.CreationDate, d.UpdateDate, d.RevisionID, d.Description = v.rec.CreationDate, v.rec.CreationDate, v.rec.RevisionID, v.rec.Description
	return d, nil
}

// DescribeStateMachineForExecution describes the state machine an
// execution runs: the definition and role it started with (the
// version's, for one started on a version or an alias), even after the
// state machine changed or was deleted.
func (e *Engine) DescribeStateMachineForExecution(ctx context.Context, executionARN string) (sfn.MachineForExecution, error) {
	rec, err := e.record(ctx, executionARN)
	if err != nil {
		return sfn.MachineForExecution{}, err
	}
	batches, err := e.store.Batches(ctx, executionARN)
	if err != nil {
		return sfn.MachineForExecution{}, e.storeError("DescribeStateMachineForExecution", err)
	}
	name, _ := checkStateMachineARN(rec.StateMachineARN)
	out := sfn.MachineForExecution{StateMachineARN: rec.StateMachineARN, Name: name}
	if len(batches) > 0 {
		start, err := batchStartOf(batches[0])
		if err != nil {
			return sfn.MachineForExecution{}, e.storeError("DescribeStateMachineForExecution", fmt.Errorf("decoding the first batch of %s: %w", executionARN, err))
		}
		if out.Definition, out.RoleARN, err = e.startDefinition(ctx, rec.StateMachineARN, &start); err != nil {
			return sfn.MachineForExecution{}, e.storeError("DescribeStateMachineForExecution", err)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	switch v := e.vs.versions[rec.VersionARN]; {
	case rec.VersionARN != "" && v != nil:
		out.UpdateDate, out.RevisionID = v.rec.CreationDate, v.rec.RevisionID
	case rec.VersionARN == "" && e.machines[rec.StateMachineARN] != nil:
		m := e.machines[rec.StateMachineARN]
		if m.rec.Definition == out.Definition && m.rec.RoleARN == out.RoleARN {
			out.UpdateDate, out.RevisionID = m.rec.UpdateDate, m.rec.RevisionID
		}
	}
	if out.UpdateDate.IsZero() {
		out.UpdateDate = rec.StartDate
	}
	return out, nil
}

// listTarget resolves the state machine ARN of ListExecutions: a state
// machine's, a version's or an alias's, which must exist.
func (e *Engine) listTarget(arn string) (stateMachineTarget, error) {
	t, err := parseTarget(arn)
	if err != nil {
		return t, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.machines[t.machineARN] == nil {
		return t, errorf(sfn.CodeStateMachineDoesNotExist, "state machine %s does not exist", t.machineARN)
	}
	if t.versionARN != "" && e.vs.versions[t.versionARN] == nil {
		return t, errorf(sfn.CodeResourceNotFound, "state machine version %s does not exist", t.versionARN)
	}
	if _, ok := e.vs.aliases[t.aliasARN]; t.aliasARN != "" && !ok {
		return t, errorf(sfn.CodeResourceNotFound, "state machine alias %s does not exist", t.aliasARN)
	}
	return t, nil
}

// batchStartOf reads the definition and role an execution started with
// from its first batch.
func batchStartOf(raw []byte) (batchStart, error) {
	var b struct {
		Start *batchStart `json:"start"`
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		return batchStart{}, err
	}
	if b.Start == nil {
		return batchStart{}, errors.New("the batch has no start")
	}
	return *b.Start, nil
}

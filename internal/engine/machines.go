package engine

import (
	"context"
	"encoding/hex"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aiflow/aiflow/internal/asl"
	"github.com/aiflow/aiflow/internal/sfn"
)

// machine is a state machine with its parsed definition.
type machine struct {
	rec StateMachineRecord
	sm  *asl.StateMachine
}

func newMachine(r StateMachineRecord) (*machine, error) {
	sm, err := parseDefinition(r.Definition)
	if err != nil {
		return nil, err
	}
	return &machine{rec: r, sm: sm}, nil
}

// parseDefinition parses and validates an ASL definition; its error is an
// InvalidDefinition *Error listing every problem.
func parseDefinition(def string) (*asl.StateMachine, error) {
	if strings.TrimSpace(def) == "" {
		return nil, errorf(sfn.CodeInvalidDefinition, "the definition is empty")
	}
	sm, err := asl.Parse([]byte(def))
	if err != nil {
		return nil, errorf(sfn.CodeInvalidDefinition, "%v", err)
	}
	if problems := asl.Validate(sm); len(problems) > 0 {
		msgs := make([]string, len(problems))
		for i, p := range problems {
			msgs[i] = p.Error()
		}
		return nil, errorf(sfn.CodeInvalidDefinition, "%s", strings.Join(msgs, "; "))
	}
	return sm, nil
}

var (
	stateMachineARN = regexp.MustCompile(`^arn:aws[a-z-]*:states:([a-z0-9-]+):(\d{12}):stateMachine:([^:]+)$`)
	executionARN    = regexp.MustCompile(`^arn:aws[a-z-]*:states:([a-z0-9-]+):(\d{12}):(execution|express):([^:]+):([^:]+)$`)
)

func (e *Engine) stateMachineARN(name string) string {
	return "arn:aws:states:" + e.region + ":" + e.account + ":stateMachine:" + name
}

func (e *Engine) executionARN(smName, name string) string {
	return "arn:aws:states:" + e.region + ":" + e.account + ":execution:" + smName + ":" + name
}

// checkName applies Step Functions' rules for state machine and execution
// names.
func checkName(what, name string) error {
	if err := asl.ValidateStateName(name); err != nil {
		return errorf(sfn.CodeInvalidName, "invalid %s name %q: %v", what, name, err)
	}
	return nil
}

func checkStateMachineARN(arn string) (name string, err error) {
	m := stateMachineARN.FindStringSubmatch(arn)
	if m == nil {
		return "", errorf(sfn.CodeInvalidArn, "invalid state machine ARN %q: want arn:aws:states:REGION:ACCOUNT:stateMachine:NAME", arn)
	}
	return m[3], nil
}

func checkExecutionARN(arn string) error {
	if !isStatesARN(arn, 2, "execution", "express") {
		return errorf(sfn.CodeInvalidArn, "invalid execution ARN %q: want arn:aws:states:REGION:ACCOUNT:execution:STATE_MACHINE:NAME", arn)
	}
	return nil
}

func (e *Engine) newRevisionID() string { return hex.EncodeToString(e.randomBytes(16)) }

// CreateStateMachine creates a state machine. Creating one again with the
// same definition, role and type returns the existing one, as Step
// Functions does; with anything different it is StateMachineAlreadyExists.
// A definition Step Functions would refuse is InvalidDefinition, with
// every problem and where it is; so is an EXPRESS one with a
// .waitForTaskToken or .sync task. A role that is not an IAM role's ARN
// is InvalidArn. Publish publishes version 1 (see versions.go), and Tags
// tag the state machine (see tags.go).
func (e *Engine) CreateStateMachine(ctx context.Context, in sfn.CreateStateMachineInput) (sfn.CreateStateMachineOutput, error) {
	if err := e.checkOpen(); err != nil {
		return sfn.CreateStateMachineOutput{}, err
	}
	if err := checkName("state machine", in.Name); err != nil {
		return sfn.CreateStateMachineOutput{}, err
	}
	typ := in.Type
	if typ == "" {
		typ = sfn.TypeStandard
	}
	if typ != sfn.TypeStandard && typ != sfn.TypeExpress {
		return sfn.CreateStateMachineOutput{}, errorf(sfn.CodeValidation, "type %q is not STANDARD or EXPRESS", in.Type)
	}
	if err := checkCreateExtras(in); err != nil {
		return sfn.CreateStateMachineOutput{}, err
	}
	sm, err := parseDefinition(in.Definition)
	if err == nil {
		err = checkRunnable(sm)
	}
	if err != nil {
		return sfn.CreateStateMachineOutput{}, err
	}
	if err := checkCallbacks(typ, sm); err != nil {
		return sfn.CreateStateMachineOutput{}, err
	}
	arn := e.stateMachineARN(in.Name)
	tags, err := withTags(arn, nil, in.Tags)
	if err != nil {
		return sfn.CreateStateMachineOutput{}, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if old := e.machines[arn]; old != nil {
		if old.rec.Status == sfn.StateMachineDeleting {
			return sfn.CreateStateMachineOutput{}, errorf(sfn.CodeStateMachineDeleting, "state machine %s is being deleted", arn)
		}
		if old.rec.Definition == in.Definition && old.rec.RoleARN == in.RoleARN && old.rec.Type == typ {
			out := sfn.CreateStateMachineOutput{StateMachineARN: arn, CreationDate: old.rec.CreationDate}
			if in.Publish {
				v, err := e.publishLocked(ctx, old, in.VersionDescription)
				if err != nil {
					return sfn.CreateStateMachineOutput{}, err
				}
				out.StateMachineVersionARN = v.ARN
			}
			return out, nil
		}
		return sfn.CreateStateMachineOutput{}, errorf(sfn.CodeStateMachineAlreadyExists, "state machine %s exists already with a different definition, role or type", arn)
	}
	now := e.now()
	rec := StateMachineRecord{ARN: arn, Name: in.Name, Definition: in.Definition, RoleARN: in.RoleARN, Type: typ,
		CreationDate: now, UpdateDate: now, RevisionID: e.newRevisionID(), Tags: tags}
	if err := e.store.PutStateMachine(ctx, rec); err != nil {
		return sfn.CreateStateMachineOutput{}, e.storeError("CreateStateMachine", err)
	}
	m := &machine{rec: rec, sm: sm}
	e.machines[arn] = m
	out := sfn.CreateStateMachineOutput{StateMachineARN: arn, CreationDate: now}
	if in.Publish {
		v, err := e.publishLocked(ctx, m, in.VersionDescription)
		if err != nil {
			return sfn.CreateStateMachineOutput{}, err
		}
		out.StateMachineVersionARN = v.ARN
	}
	return out, nil
}

// UpdateStateMachine changes a state machine's definition or role, and
// with Publish publishes the result as a version. Running executions keep
// the definition they started with. A version's or alias's ARN is
// ValidationException; a state machine being deleted,
// StateMachineDeleting.
func (e *Engine) UpdateStateMachine(ctx context.Context, in sfn.UpdateStateMachineInput) (sfn.UpdateStateMachineOutput, error) {
	if err := e.checkOpen(); err != nil {
		return sfn.UpdateStateMachineOutput{}, err
	}
	if err := refuseQualified("UpdateStateMachine", in.StateMachineARN); err != nil {
		return sfn.UpdateStateMachineOutput{}, err
	}
	if err := checkUpdateExtras(in); err != nil {
		return sfn.UpdateStateMachineOutput{}, err
	}
	if in.Definition == nil && in.RoleARN == nil {
		return sfn.UpdateStateMachineOutput{}, errorf(sfn.CodeValidation, "give a definition or a role ARN to update")
	}
	var sm *asl.StateMachine
	if in.Definition != nil {
		var err error
		if sm, err = parseDefinition(*in.Definition); err == nil {
			err = checkRunnable(sm)
		}
		if err != nil {
			return sfn.UpdateStateMachineOutput{}, err
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	old, err := e.activeMachineLocked(in.StateMachineARN)
	if err != nil {
		return sfn.UpdateStateMachineOutput{}, err
	}
	if sm != nil {
		if err := checkCallbacks(old.rec.Type, sm); err != nil {
			return sfn.UpdateStateMachineOutput{}, err
		}
	}
	rec := old.rec
	if sm == nil {
		sm = old.sm
	} else {
		rec.Definition = *in.Definition
	}
	if in.RoleARN != nil {
		rec.RoleARN = *in.RoleARN
	}
	m := old
	if rec.Definition != old.rec.Definition || rec.RoleARN != old.rec.RoleARN {
		// An update that changes nothing makes no new revision, so that
		// publishing after it finds the version of the current one.
		rec.UpdateDate = e.now()
		if !rec.UpdateDate.After(rec.CreationDate) {
			// Dates have milliseconds, as on AWS; an update in the
			// millisecond of the creation still shows the machine as
			// updated (PublishStateMachineVersion's revisionId INITIAL
			// names only a machine never updated).
			rec.UpdateDate = rec.CreationDate.Add(time.Millisecond)
		}
		rec.RevisionID = e.newRevisionID()
		if err := e.store.PutStateMachine(ctx, rec); err != nil {
			return sfn.UpdateStateMachineOutput{}, e.storeError("UpdateStateMachine", err)
		}
		m = &machine{rec: rec, sm: sm}
		e.machines[rec.ARN] = m
	}
	out := sfn.UpdateStateMachineOutput{UpdateDate: rec.UpdateDate, RevisionID: rec.RevisionID}
	if in.Publish {
		v, err := e.publishLocked(ctx, m, in.VersionDescription)
		if err != nil {
			return sfn.UpdateStateMachineOutput{}, err
		}
		out.StateMachineVersionARN = v.ARN
	}
	return out, nil
}

func (e *Engine) machine(arn string) (*machine, error) {
	if _, err := checkStateMachineARN(arn); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	m := e.machines[arn]
	if m == nil {
		return nil, errorf(sfn.CodeStateMachineDoesNotExist, "state machine %s does not exist", arn)
	}
	return m, nil
}

func describeMachine(r StateMachineRecord) sfn.StateMachine {
	status := r.Status
	if status == "" {
		status = sfn.StateMachineActive
	}
	return sfn.StateMachine{StateMachineARN: r.ARN, Name: r.Name, Status: status, Definition: r.Definition,
		RoleARN: r.RoleARN, Type: r.Type, CreationDate: r.CreationDate, UpdateDate: r.UpdateDate, RevisionID: r.RevisionID}
}

// DescribeStateMachine returns a state machine, or the version a version
// ARN names; StateMachineDoesNotExist when there is none, InvalidArn for
// a malformed ARN or an alias's.
func (e *Engine) DescribeStateMachine(ctx context.Context, arn string) (sfn.StateMachine, error) {
	if t, err := parseTarget(arn); err == nil && t.versionARN != "" {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.describeVersionLocked(arn)
	} else if err == nil && t.aliasARN != "" {
		return sfn.StateMachine{}, errorf(sfn.CodeInvalidArn, "%s is an alias: describe it with DescribeStateMachineAlias", arn)
	}
	m, err := e.machine(arn)
	if err != nil {
		return sfn.StateMachine{}, err
	}
	return describeMachine(m.rec), nil
}

// ListStateMachines lists state machines in name order, a page at a time.
func (e *Engine) ListStateMachines(ctx context.Context, in sfn.ListStateMachinesInput) (sfn.ListStateMachinesOutput, error) {
	limit, err := pageSize(in.MaxResults)
	if err != nil {
		return sfn.ListStateMachinesOutput{}, err
	}
	e.mu.Lock()
	all := make([]StateMachineRecord, 0, len(e.machines))
	for _, m := range e.machines {
		all = append(all, m.rec)
	}
	e.mu.Unlock()
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	start := 0
	if in.NextToken != "" {
		start = sort.Search(len(all), func(i int) bool { return all[i].Name > in.NextToken })
	}
	var out sfn.ListStateMachinesOutput
	for i := start; i < len(all) && len(out.StateMachines) < limit; i++ {
		d := describeMachine(all[i])
		d.Definition = ""
		out.StateMachines = append(out.StateMachines, d)
	}
	if n := len(out.StateMachines); n == limit && start+n < len(all) {
		out.NextToken = out.StateMachines[n-1].Name
	}
	return out, nil
}

func pageSize(n int) (int, error) {
	switch {
	case n == 0:
		return 100, nil
	case n < 0 || n > 1000:
		return 0, errorf(sfn.CodeValidation, "maxResults %d is not between 1 and 1000", n)
	}
	return n, nil
}

// DeleteStateMachine deletes a state machine with its versions and
// aliases. Its running executions run on to their end, as in Step
// Functions, and until then it is DELETING (see deleting.go). A
// version's or alias's ARN is ValidationException.
func (e *Engine) DeleteStateMachine(ctx context.Context, arn string) error {
	if err := e.checkOpen(); err != nil {
		return err
	}
	if err := refuseQualified("DeleteStateMachine", arn); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if m := e.machines[arn]; m != nil {
		return e.deleteMachineLocked(ctx, m)
	}
	if err := e.store.DeleteStateMachine(ctx, arn); err != nil {
		return e.storeError("DeleteStateMachine", err)
	}
	return nil
}

// ValidateStateMachineDefinition checks a definition as CreateStateMachine
// would and reports every problem; it never fails for a bad definition.
func (e *Engine) ValidateStateMachineDefinition(ctx context.Context, definition string) (sfn.ValidateOutput, error) {
	if strings.TrimSpace(definition) == "" {
		return sfn.ValidateOutput{}, errorf(sfn.CodeValidation, "definition is required")
	}
	sm, err := asl.Parse([]byte(definition))
	if err != nil {
		return sfn.ValidateOutput{Result: "FAIL", Diagnostics: []sfn.Diagnostic{{Severity: "ERROR", Code: "INVALID_JSON_DESCRIPTION", Message: err.Error()}}}, nil
	}
	problems := asl.Validate(sm)
	if len(problems) == 0 {
		return sfn.ValidateOutput{Result: "OK"}, nil
	}
	out := sfn.ValidateOutput{Result: "FAIL"}
	for _, p := range problems {
		out.Diagnostics = append(out.Diagnostics, sfn.Diagnostic{Severity: "ERROR", Code: "SCHEMA_VALIDATION_FAILED", Message: p.Message, Location: pointer(p.Path)})
	}
	return out, nil
}

// pointer turns "States.A.Retry[0].ErrorEquals" into
// "/States/A/Retry/0/ErrorEquals".
func pointer(path string) string {
	if path == "" {
		return "/"
	}
	var b strings.Builder
	for _, part := range strings.Split(path, ".") {
		name, rest, _ := strings.Cut(part, "[")
		b.WriteString("/" + name)
		for rest != "" {
			idx, after, _ := strings.Cut(rest, "]")
			if _, err := strconv.Atoi(idx); err == nil {
				b.WriteString("/" + idx)
			}
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return b.String()
}

package asl

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ValidationError is one problem in a state machine definition.
type ValidationError struct {
	// Path locates the problem with dotted field names and [i] indexes,
	// such as "States.Classify.Retry[0].ErrorEquals"; empty for the
	// document as a whole.
	Path    string
	Message string
}

// Error returns "Path: Message", or Message alone when Path is empty.
func (e ValidationError) Error() string {
	if e.Path == "" {
		return e.Message
	}
	return e.Path + ": " + e.Message
}

// ValidationErrors is a list of problems; Parse returns one as its error.
type ValidationErrors []ValidationError

// Error returns one line per problem.
func (errs ValidationErrors) Error() string {
	lines := make([]string, len(errs))
	for i, e := range errs {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Limits Step Functions puts on values.
const (
	MaxStateNameLength    = 80
	MaxVariableNameLength = 80
	MaxLabelLength        = 40
	// MaxSeconds bounds TimeoutSeconds, HeartbeatSeconds, a Wait's
	// Seconds, and a Retrier's IntervalSeconds and MaxAttempts.
	MaxSeconds = 99999999
	// MaxDelaySeconds bounds a Retrier's MaxDelaySeconds (a year and a
	// day).
	MaxDelaySeconds = 31622400
	maxSeconds      = MaxSeconds
	maxDelaySeconds = MaxDelaySeconds
)

// stateNameForbidden lists the characters Step Functions does not allow in
// names, besides white space and control characters.
const stateNameForbidden = "<>{}[]?*\"#%\\^|~`$&,;:/"

// ValidateStateName reports whether name can name a state: 1 to 80
// characters, none of them white space, a control character, or one of
// < > { } [ ] ? * " # % \ ^ | ~ ` $ & , ; : /.
func ValidateStateName(name string) error {
	if n := utf8.RuneCountInString(name); n < 1 || n > MaxStateNameLength {
		return fmt.Errorf("must be 1 to %d characters long, not %d", MaxStateNameLength, n)
	}
	return checkNameRunes(name)
}

func checkNameRunes(name string) error {
	for _, r := range name {
		switch {
		case r == utf8.RuneError:
			return fmt.Errorf("must be valid UTF-8")
		case unicode.IsSpace(r):
			return fmt.Errorf("must not contain white space (%U)", r)
		case r <= 0x1f || r >= 0x7f && r <= 0x9f || r == 0xfffe || r == 0xffff:
			return fmt.Errorf("must not contain control character %U", r)
		case strings.ContainsRune(stateNameForbidden, r):
			return fmt.Errorf("must not contain %q", r)
		}
	}
	return nil
}

// validVariableName reports whether name can name a workflow variable: a
// letter or _, then letters, digits and _, at most 80 characters.
func validVariableName(name string) bool {
	if name == "" || utf8.RuneCountInString(name) > MaxVariableNameLength {
		return false
	}
	for i, r := range name {
		if !(r == '_' || unicode.IsLetter(r) || i > 0 && unicode.IsDigit(r)) {
			return false
		}
	}
	return true
}

// ValidateErrorName reports whether name can be matched in a Retrier's or
// a Catcher's ErrorEquals: it is not empty, and a name starting "States."
// is one of the predefined ones (PredefinedErrors). Where States.ALL may
// stand is a rule of the list, which Validate checks.
func ValidateErrorName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("error name is empty")
	case strings.HasPrefix(name, "States.") && !knownErrors[name]:
		return fmt.Errorf("unknown predefined error name %q", name)
	}
	return nil
}

// PredefinedErrors lists the predefined error names, sorted.
func PredefinedErrors() []string { return sortedKeys(knownErrors) }

// ValidateTimestamp reports whether ts is a timestamp as Step Functions
// reads it in a Wait state's Timestamp and a Choice Rule's timestamp
// comparisons: RFC 3339, such as 2016-03-14T01:59:00Z.
func ValidateTimestamp(ts string) error {
	if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
		return fmt.Errorf("%q is not an RFC 3339 timestamp such as 2016-03-14T01:59:00Z", ts)
	}
	return nil
}

// knownErrors are the predefined error names a Retrier or Catcher may use.
var knownErrors = map[string]bool{
	ErrorAll: true, ErrorDataLimitExceeded: true, ErrorExceedToleratedFailureThreshold: true,
	ErrorHeartbeatTimeout: true, ErrorHTTPSocket: true, ErrorIntrinsicFailure: true,
	ErrorItemReaderFailed: true, ErrorNoChoiceMatched: true, ErrorParameterPathFailure: true,
	ErrorPermissions: true, ErrorQueryEvaluationError: true, ErrorResultPathMatchFailure: true,
	ErrorResultWriterFailed: true, ErrorRuntime: true, ErrorTaskFailed: true, ErrorTimeout: true,
	ErrorBranchFailed: true,
}

// allowedFields lists the fields each state type may set, besides Type,
// Comment and QueryLanguage, which all may.
var allowedFields = map[StateType][]string{
	TypePass: {"InputPath", "Parameters", "Result", "ResultPath", "OutputPath", "Output", "Assign", "Next", "End"},
	TypeTask: {"Resource", "Credentials", "InputPath", "Parameters", "Arguments", "ResultSelector", "ResultPath", "OutputPath", "Output", "Assign",
		"TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath", "Retry", "Catch", "Next", "End"},
	TypeChoice:  {"Choices", "Default", "InputPath", "OutputPath", "Output", "Assign"},
	TypeWait:    {"Seconds", "SecondsPath", "Timestamp", "TimestampPath", "InputPath", "OutputPath", "Output", "Assign", "Next", "End"},
	TypeSucceed: {"InputPath", "OutputPath", "Output"},
	TypeFail:    {"Error", "ErrorPath", "Cause", "CausePath"},
	TypeParallel: {"Branches", "InputPath", "Parameters", "Arguments", "ResultSelector", "ResultPath", "OutputPath", "Output", "Assign",
		"Retry", "Catch", "Next", "End"},
	TypeMap: {"ItemProcessor", "Iterator", "ItemReader", "ItemsPath", "Items", "ItemSelector", "ItemBatcher",
		"MaxConcurrency", "MaxConcurrencyPath", "ToleratedFailureCount", "ToleratedFailureCountPath",
		"ToleratedFailurePercentage", "ToleratedFailurePercentagePath", "Label", "ResultWriter",
		"InputPath", "Parameters", "ResultSelector", "ResultPath", "OutputPath", "Output", "Assign", "Retry", "Catch", "Next", "End"},
}

// Validate checks m against the rules Step Functions applies when it
// creates a state machine, and returns every problem found, in a stable
// order; none means m is valid. It checks transitions and reachability
// per scope (the top level, each Parallel branch and each Map processor),
// state names, the fields each state type requires and allows, Retry and
// Catch, Choice Rules, every path, and the paths and intrinsic functions
// in payload templates.
func Validate(m *StateMachine) []ValidationError {
	v := &validator{names: map[string]string{}}
	if m == nil {
		return []ValidationError{{Message: "state machine is nil"}}
	}
	switch m.Version {
	case "", Version10:
	default:
		v.fail("Version", "must be %q, not %q", Version10, m.Version)
	}
	v.queryLanguage("QueryLanguage", m.QueryLanguage)
	v.topQL = m.QueryLanguage
	if m.TimeoutSeconds != nil {
		v.intRange("TimeoutSeconds", *m.TimeoutSeconds, 1, maxSeconds)
	}
	v.collectNames("States", m.States)
	v.scope("", m.StartAt, m.States)
	v.variableScopes("", m.States, nil)
	return v.errs
}

type validator struct {
	errs []ValidationError
	// names maps every state name to the path of the States object that
	// holds it, to tell "no such state" from "state in another scope".
	names map[string]string
	// topQL is the state machine's QueryLanguage.
	topQL string
}

func (v *validator) fail(path, format string, args ...any) {
	v.errs = append(v.errs, ValidationError{Path: path, Message: fmt.Sprintf(format, args...)})
}

// collectNames records every state name of every scope, checking that
// names are well formed and unique across the whole machine.
func (v *validator) collectNames(statesPath string, states map[string]*State) {
	for _, name := range sortedKeys(states) {
		path := joinPath(statesPath, name)
		if err := ValidateStateName(name); err != nil {
			v.fail(path, "state name %q %v", name, err)
		}
		if other, dup := v.names[name]; dup {
			v.fail(path, "state name %q is already used in %s; names must be unique across the whole state machine", name, other)
		} else {
			v.names[name] = statesPath
		}
		s := states[name]
		if s == nil {
			continue
		}
		for i, b := range s.Branches {
			v.collectNames(fmt.Sprintf("%s.Branches[%d].States", path, i), b.States)
		}
		if s.ItemProcessor != nil {
			v.collectNames(path+".ItemProcessor.States", s.ItemProcessor.States)
		}
		if s.Iterator != nil {
			v.collectNames(path+".Iterator.States", s.Iterator.States)
		}
	}
}

// scopeInfo is one set of states that transition among themselves.
type scopeInfo struct {
	statesPath string
	states     map[string]*State
}

// scope validates a top level, branch or processor: prefix is the path of
// the object holding StartAt and States.
func (v *validator) scope(prefix, startAt string, states map[string]*State) {
	sc := scopeInfo{statesPath: joinPath(prefix, "States"), states: states}
	startPath := joinPath(prefix, "StartAt")
	if len(states) == 0 {
		v.fail(sc.statesPath, "must contain at least one state")
	}
	switch {
	case startAt == "":
		v.fail(startPath, "is required")
	case len(states) > 0:
		v.target(startPath, startAt, sc)
	}
	terminal := false
	for _, name := range sortedKeys(states) {
		s := states[name]
		path := joinPath(sc.statesPath, name)
		if s == nil {
			v.fail(path, "state is null")
			continue
		}
		if s.Type == TypeSucceed || s.Type == TypeFail || s.End {
			terminal = true
		}
		v.state(path, s, sc)
	}
	if len(states) > 0 && !terminal {
		v.fail(sc.statesPath, "has no terminal state: a Succeed or Fail state, or one with \"End\": true")
	}
	v.reachability(startAt, sc)
}

// target checks that a transition to name stays within the scope.
func (v *validator) target(path, name string, sc scopeInfo) {
	if _, ok := sc.states[name]; ok {
		return
	}
	if other, ok := v.names[name]; ok {
		v.fail(path, "state %q is in %s, not in %s; transitions cannot cross into or out of a Parallel branch or Map processor", name, other, sc.statesPath)
		return
	}
	v.fail(path, "state %q does not exist", name)
}

// reachability reports the states of a scope that cannot be reached from
// StartAt.
func (v *validator) reachability(startAt string, sc scopeInfo) {
	if sc.states[startAt] == nil {
		return // reported already; every state would look unreachable
	}
	seen := map[string]bool{startAt: true}
	queue := []string{startAt}
	for len(queue) > 0 {
		s := sc.states[queue[0]]
		queue = queue[1:]
		if s == nil {
			continue
		}
		for _, next := range successors(s) {
			if _, ok := sc.states[next]; ok && !seen[next] {
				seen[next] = true
				queue = append(queue, next)
			}
		}
	}
	for _, name := range sortedKeys(sc.states) {
		if !seen[name] {
			v.fail(joinPath(sc.statesPath, name), "state is not reachable from StartAt %q", startAt)
		}
	}
}

func successors(s *State) []string {
	var next []string
	add := func(n string) {
		if n != "" {
			next = append(next, n)
		}
	}
	add(s.Next)
	add(s.Default)
	for _, r := range s.Choices {
		add(r.Next)
	}
	for _, c := range s.Catch {
		add(c.Next)
	}
	return next
}

func (v *validator) state(path string, s *State, sc scopeInfo) {
	allowed, known := allowedFields[s.Type]
	switch {
	case s.Type == "":
		v.fail(joinPath(path, "Type"), "is required")
	case !known:
		v.fail(joinPath(path, "Type"), "unknown state type %q; want Pass, Task, Choice, Wait, Succeed, Fail, Parallel or Map", s.Type)
	default:
		for _, f := range stateFields.setFields(s) {
			if f != "Type" && f != "Comment" && f != "QueryLanguage" && !slices.Contains(allowed, f) {
				v.fail(joinPath(path, f), "%s is not allowed in a %s state", f, s.Type)
			}
		}
	}
	v.queryLanguage(joinPath(path, "QueryLanguage"), s.QueryLanguage)
	jsonata := v.stateLanguage(path, s)

	// Transitions.
	switch s.Type {
	case TypePass, TypeTask, TypeWait, TypeParallel, TypeMap:
		switch {
		case s.Next != "" && s.End:
			v.fail(path, "a %s state must have either Next or \"End\": true, not both", s.Type)
		case s.Next == "" && !s.End:
			v.fail(path, "a %s state must have either Next or \"End\": true", s.Type)
		}
	}
	if s.Next != "" {
		v.target(joinPath(path, "Next"), s.Next, sc)
	}
	if s.Default != "" {
		v.target(joinPath(path, "Default"), s.Default, sc)
	}

	// Input and output processing.
	v.nullablePath(joinPath(path, "InputPath"), s.InputPath, anyPath)
	v.nullablePath(joinPath(path, "OutputPath"), s.OutputPath, anyPath)
	v.nullablePath(joinPath(path, "ResultPath"), s.ResultPath, resultPath)
	v.template(joinPath(path, "Parameters"), s.Parameters)
	v.template(joinPath(path, "ResultSelector"), s.ResultSelector)
	v.template(joinPath(path, "Credentials"), s.Credentials)
	if s.Result != nil && !json.Valid(s.Result) {
		v.fail(joinPath(path, "Result"), "is not valid JSON")
	}
	if jsonata {
		v.jsonataAssign(joinPath(path, "Assign"), s.Assign)
	} else {
		v.assign(joinPath(path, "Assign"), s.Assign)
	}

	// Error handling.
	for i := range s.Retry {
		v.retrier(fmt.Sprintf("%s.Retry[%d]", path, i), &s.Retry[i], i == len(s.Retry)-1)
	}
	for i := range s.Catch {
		v.catcher(fmt.Sprintf("%s.Catch[%d]", path, i), &s.Catch[i], i == len(s.Catch)-1, sc, jsonata)
	}

	switch s.Type {
	case TypeTask:
		v.task(path, s)
	case TypeChoice:
		v.choice(path, s, sc, jsonata)
	case TypeWait:
		v.wait(path, s)
	case TypeFail:
		v.failState(path, s)
	case TypeParallel:
		if len(s.Branches) == 0 {
			v.fail(joinPath(path, "Branches"), "a Parallel state needs at least one branch")
		}
	case TypeMap:
		v.mapState(path, s)
	}
	// Nested scopes are checked whatever the type, so that a misplaced
	// field's contents are still reported.
	for i, b := range s.Branches {
		v.scope(fmt.Sprintf("%s.Branches[%d]", path, i), b.StartAt, b.States)
	}
	if s.ItemProcessor != nil {
		v.scope(path+".ItemProcessor", s.ItemProcessor.StartAt, s.ItemProcessor.States)
	}
	if s.Iterator != nil {
		v.scope(path+".Iterator", s.Iterator.StartAt, s.Iterator.States)
	}
}

func (v *validator) queryLanguage(path, ql string) {
	switch ql {
	case "", QueryLanguageJSONPath:
	case QueryLanguageJSONata:
	default:
		v.fail(path, "must be %q or %q, not %q", QueryLanguageJSONPath, QueryLanguageJSONata, ql)
	}
}

func (v *validator) task(path string, s *State) {
	if s.Resource == "" {
		v.fail(joinPath(path, "Resource"), "is required in a Task state")
	}
	if s.TimeoutSeconds != nil && s.TimeoutSecondsPath != "" {
		v.fail(path, "TimeoutSeconds and TimeoutSecondsPath cannot both be set")
	}
	if s.HeartbeatSeconds != nil && s.HeartbeatSecondsPath != "" {
		v.fail(path, "HeartbeatSeconds and HeartbeatSecondsPath cannot both be set")
	}
	if s.TimeoutSeconds != nil {
		v.intRange(joinPath(path, "TimeoutSeconds"), *s.TimeoutSeconds, 1, maxSeconds)
	}
	if s.HeartbeatSeconds != nil {
		v.intRange(joinPath(path, "HeartbeatSeconds"), *s.HeartbeatSeconds, 1, maxSeconds)
		if s.TimeoutSeconds != nil && *s.HeartbeatSeconds >= *s.TimeoutSeconds {
			v.fail(joinPath(path, "HeartbeatSeconds"), "must be less than TimeoutSeconds (%d), not %d", *s.TimeoutSeconds, *s.HeartbeatSeconds)
		}
	}
	v.pathField(joinPath(path, "TimeoutSecondsPath"), s.TimeoutSecondsPath, referencePath)
	v.pathField(joinPath(path, "HeartbeatSecondsPath"), s.HeartbeatSecondsPath, referencePath)
}

func (v *validator) wait(path string, s *State) {
	n := 0
	for _, set := range []bool{s.Seconds != nil || s.SecondsExpr != "", s.SecondsPath != "", s.Timestamp != "", s.TimestampPath != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		v.fail(path, "a Wait state needs exactly one of Seconds, SecondsPath, Timestamp and TimestampPath, not %d", n)
	}
	if s.Seconds != nil {
		v.intRange(joinPath(path, "Seconds"), *s.Seconds, 0, maxSeconds)
	}
	if s.Timestamp != "" && !IsJSONataExpression(s.Timestamp) {
		v.timestamp(joinPath(path, "Timestamp"), s.Timestamp)
	}
	v.pathField(joinPath(path, "SecondsPath"), s.SecondsPath, referencePath)
	v.pathField(joinPath(path, "TimestampPath"), s.TimestampPath, referencePath)
}

func (v *validator) failState(path string, s *State) {
	if s.Error != "" && s.ErrorPath != "" {
		v.fail(path, "Error and ErrorPath cannot both be set")
	}
	if s.Cause != "" && s.CausePath != "" {
		v.fail(path, "Cause and CausePath cannot both be set")
	}
	v.pathOrIntrinsic(joinPath(path, "ErrorPath"), s.ErrorPath, referencePath)
	v.pathOrIntrinsic(joinPath(path, "CausePath"), s.CausePath, referencePath)
}

func (v *validator) mapState(path string, s *State) {
	switch {
	case s.ItemProcessor != nil && s.Iterator != nil:
		v.fail(path, "ItemProcessor and Iterator cannot both be set; Iterator is the deprecated name of ItemProcessor")
	case s.ItemProcessor == nil && s.Iterator == nil:
		v.fail(joinPath(path, "ItemProcessor"), "is required in a Map state")
	}
	distributed := false
	if p := s.ItemProcessor; p != nil && p.ProcessorConfig != nil {
		cfgPath := path + ".ItemProcessor.ProcessorConfig"
		cfg := p.ProcessorConfig
		switch cfg.Mode {
		case "", ModeInline:
			if cfg.ExecutionType != "" {
				v.fail(joinPath(cfgPath, "ExecutionType"), "is only allowed when Mode is %s", ModeDistributed)
			}
		case ModeDistributed:
			distributed = true
			switch cfg.ExecutionType {
			case ExecutionStandard, ExecutionExpress:
			case "":
				v.fail(joinPath(cfgPath, "ExecutionType"), "is required when Mode is %s", ModeDistributed)
			default:
				v.fail(joinPath(cfgPath, "ExecutionType"), "must be %s or %s, not %q", ExecutionStandard, ExecutionExpress, cfg.ExecutionType)
			}
		default:
			v.fail(joinPath(cfgPath, "Mode"), "must be %s or %s, not %q", ModeInline, ModeDistributed, cfg.Mode)
		}
	}
	if s.Iterator != nil && s.Iterator.ProcessorConfig != nil {
		v.fail(path+".Iterator.ProcessorConfig", "is not allowed in Iterator; use ItemProcessor")
	}
	if s.Parameters != nil && s.ItemSelector != nil {
		v.fail(path, "Parameters and ItemSelector cannot both be set; Parameters is the deprecated name of ItemSelector")
	}
	if !distributed {
		for _, f := range []struct {
			name string
			set  bool
		}{
			{"ItemReader", s.ItemReader != nil}, {"ItemBatcher", s.ItemBatcher != nil}, {"ResultWriter", s.ResultWriter != nil},
			{"ToleratedFailureCount", s.ToleratedFailureCount != nil}, {"ToleratedFailureCountPath", s.ToleratedFailureCountPath != ""},
			{"ToleratedFailurePercentage", s.ToleratedFailurePercentage != nil}, {"ToleratedFailurePercentagePath", s.ToleratedFailurePercentagePath != ""},
			{"Label", s.Label != ""},
		} {
			if f.set {
				v.fail(joinPath(path, f.name), "is only allowed in a Map state whose ItemProcessor.ProcessorConfig.Mode is %s", ModeDistributed)
			}
		}
	}
	if s.MaxConcurrency != nil && s.MaxConcurrencyPath != "" {
		v.fail(path, "MaxConcurrency and MaxConcurrencyPath cannot both be set")
	}
	if s.ToleratedFailureCount != nil && s.ToleratedFailureCountPath != "" {
		v.fail(path, "ToleratedFailureCount and ToleratedFailureCountPath cannot both be set")
	}
	if s.ToleratedFailurePercentage != nil && s.ToleratedFailurePercentagePath != "" {
		v.fail(path, "ToleratedFailurePercentage and ToleratedFailurePercentagePath cannot both be set")
	}
	if s.MaxConcurrency != nil {
		v.intRange(joinPath(path, "MaxConcurrency"), *s.MaxConcurrency, 0, math.MaxInt32)
	}
	if s.ToleratedFailureCount != nil {
		v.intRange(joinPath(path, "ToleratedFailureCount"), *s.ToleratedFailureCount, 0, math.MaxInt32)
	}
	if p := s.ToleratedFailurePercentage; p != nil && !(*p >= 0 && *p <= 100) {
		v.fail(joinPath(path, "ToleratedFailurePercentage"), "must be between 0 and 100, not %v", *p)
	}
	if s.Label != "" {
		if n := utf8.RuneCountInString(s.Label); n > MaxLabelLength {
			v.fail(joinPath(path, "Label"), "must be at most %d characters long, not %d", MaxLabelLength, n)
		} else if err := checkNameRunes(s.Label); err != nil {
			v.fail(joinPath(path, "Label"), "%v", err)
		}
	}
	v.pathField(joinPath(path, "ItemsPath"), s.ItemsPath, referencePath)
	v.pathField(joinPath(path, "MaxConcurrencyPath"), s.MaxConcurrencyPath, referencePath)
	v.pathField(joinPath(path, "ToleratedFailureCountPath"), s.ToleratedFailureCountPath, referencePath)
	v.pathField(joinPath(path, "ToleratedFailurePercentagePath"), s.ToleratedFailurePercentagePath, referencePath)
	v.template(joinPath(path, "ItemSelector"), s.ItemSelector)
	v.template(joinPath(path, "ItemReader"), s.ItemReader)
	v.template(joinPath(path, "ItemBatcher"), s.ItemBatcher)
	v.template(joinPath(path, "ResultWriter"), s.ResultWriter)
}

func (v *validator) choice(path string, s *State, sc scopeInfo, jsonata bool) {
	if len(s.Choices) == 0 {
		v.fail(joinPath(path, "Choices"), "a Choice state needs at least one Choice Rule")
	}
	for i := range s.Choices {
		if jsonata {
			v.jsonataChoiceRule(fmt.Sprintf("%s.Choices[%d]", path, i), &s.Choices[i], sc)
			continue
		}
		v.choiceRule(fmt.Sprintf("%s.Choices[%d]", path, i), &s.Choices[i], true, sc)
	}
}

func (v *validator) choiceRule(path string, r *ChoiceRule, top bool, sc scopeInfo) {
	for _, f := range []struct {
		name string
		set  bool
	}{{"Condition", r.Condition != nil}, {"Output", r.Output != nil}} {
		if f.set {
			v.fail(joinPath(path, f.name), "%s", wrongLanguage(QueryLanguageJSONPath, f.name))
		}
	}
	ops := r.Operators()
	var logical []string
	if r.And != nil {
		logical = append(logical, "And")
	}
	if r.Or != nil {
		logical = append(logical, "Or")
	}
	if r.Not != nil {
		logical = append(logical, "Not")
	}
	switch n := len(ops) + len(logical); {
	case n == 0:
		v.fail(path, "a Choice Rule needs a comparison operator, or And, Or or Not")
	case n > 1:
		names := logical
		for _, op := range ops {
			names = append(names, op.Name)
		}
		slices.Sort(names)
		v.fail(path, "a Choice Rule has exactly one operator, not %s", strings.Join(names, ", "))
	}
	if len(ops) > 0 {
		if r.Variable == "" {
			v.fail(joinPath(path, "Variable"), "is required with %s", ops[0].Name)
		}
		for _, op := range ops {
			v.operand(joinPath(path, op.Name), op)
		}
	} else if len(logical) > 0 && r.Variable != "" {
		v.fail(joinPath(path, "Variable"), "is not allowed with %s", logical[0])
	}
	v.pathField(joinPath(path, "Variable"), r.Variable, anyPath)
	for _, sub := range []struct {
		name  string
		rules []ChoiceRule
	}{{"And", r.And}, {"Or", r.Or}} {
		if sub.rules != nil && len(sub.rules) == 0 {
			v.fail(joinPath(path, sub.name), "needs at least one Choice Rule")
		}
		for i := range sub.rules {
			v.choiceRule(fmt.Sprintf("%s.%s[%d]", path, sub.name, i), &sub.rules[i], false, sc)
		}
	}
	if r.Not != nil {
		v.choiceRule(joinPath(path, "Not"), r.Not, false, sc)
	}
	switch {
	case top && r.Next == "":
		v.fail(joinPath(path, "Next"), "is required in a top-level Choice Rule")
	case top:
		v.target(joinPath(path, "Next"), r.Next, sc)
	case r.Next != "":
		v.fail(joinPath(path, "Next"), "is only allowed in a top-level Choice Rule, not inside And, Or or Not")
	}
	if !top && r.Assign != nil {
		v.fail(joinPath(path, "Assign"), "is only allowed in a top-level Choice Rule, not inside And, Or or Not")
	}
	v.assign(joinPath(path, "Assign"), r.Assign)
}

func (v *validator) operand(path string, op Operator) {
	switch op.Kind {
	case OperandPath:
		v.pathField(path, *op.String, anyPath)
	case OperandTimestamp:
		v.timestamp(path, *op.String)
	case OperandPattern:
		if p := *op.String; strings.HasSuffix(p, `\`) && !strings.HasSuffix(p, `\\`) {
			v.fail(path, `pattern ends with an unfinished escape; write \\ for a backslash and \* for an asterisk`)
		}
	case OperandNumber:
		if f := *op.Number; math.IsNaN(f) || math.IsInf(f, 0) {
			v.fail(path, "must be a finite number")
		}
	}
}

func (v *validator) retrier(path string, r *Retrier, last bool) {
	v.errorEquals(path, r.ErrorEquals, last, "Retrier")
	if r.IntervalSeconds != nil {
		v.intRange(joinPath(path, "IntervalSeconds"), *r.IntervalSeconds, 1, maxSeconds)
	}
	if r.MaxAttempts != nil {
		v.intRange(joinPath(path, "MaxAttempts"), *r.MaxAttempts, 0, maxSeconds)
	}
	if b := r.BackoffRate; b != nil && !(*b >= 1.0 && !math.IsInf(*b, 0)) {
		v.fail(joinPath(path, "BackoffRate"), "must be at least 1.0, not %v", *b)
	}
	if r.MaxDelaySeconds != nil {
		v.intRange(joinPath(path, "MaxDelaySeconds"), *r.MaxDelaySeconds, 1, maxDelaySeconds)
	}
	switch r.JitterStrategy {
	case "", JitterFull, JitterNone:
	default:
		v.fail(joinPath(path, "JitterStrategy"), "must be %s or %s, not %q", JitterFull, JitterNone, r.JitterStrategy)
	}
}

func (v *validator) catcher(path string, c *Catcher, last bool, sc scopeInfo, jsonata bool) {
	v.errorEquals(path, c.ErrorEquals, last, "Catcher")
	if c.Next == "" {
		v.fail(joinPath(path, "Next"), "is required in a Catcher")
	} else {
		v.target(joinPath(path, "Next"), c.Next, sc)
	}
	v.nullablePath(joinPath(path, "ResultPath"), c.ResultPath, resultPath)
	if jsonata {
		v.jsonataAssign(joinPath(path, "Assign"), c.Assign)
	} else {
		v.assign(joinPath(path, "Assign"), c.Assign)
	}
}

func (v *validator) errorEquals(path string, names []string, last bool, what string) {
	path = joinPath(path, "ErrorEquals")
	if len(names) == 0 {
		v.fail(path, "needs at least one error name")
		return
	}
	for i, name := range names {
		p := fmt.Sprintf("%s[%d]", path, i)
		switch {
		case name == ErrorAll && len(names) > 1:
			v.fail(p, "%s must be the only error name in its ErrorEquals", ErrorAll)
		case name == ErrorAll && !last:
			v.fail(p, "a %s with %s must be the last one", what, ErrorAll)
		default:
			if err := ValidateErrorName(name); err != nil {
				v.fail(p, "%v", err)
			}
		}
	}
}

func (v *validator) intRange(path string, n, lo, hi int) {
	if n < lo || n > hi {
		v.fail(path, "must be between %d and %d, not %d", lo, hi, n)
	}
}

func (v *validator) timestamp(path, ts string) {
	if err := ValidateTimestamp(ts); err != nil {
		v.fail(path, "%v", err)
	}
}

// pathRule says which paths a field accepts.
type pathRule int

const (
	// anyPath accepts any path, from the input, the Context Object or a
	// variable.
	anyPath pathRule = iota
	// referencePath accepts a Reference Path: one that names a single value.
	referencePath
	// resultPath accepts a Reference Path into the state's input; the
	// Context Object and variables cannot be written to.
	resultPath
)

// checkPath parses value and applies rule, returning a message or "".
func checkPath(value string, rule pathRule) string {
	p, err := ParsePath(value)
	if err != nil {
		return err.Error()
	}
	if rule != anyPath && !p.IsReference() {
		return fmt.Sprintf("%q must be a Reference Path: no wildcards, .., slices, unions, filters or scripts", value)
	}
	if rule == resultPath && p.Root != RootInput {
		return fmt.Sprintf("%q must start with $ followed by . or [: a result cannot be written to the Context Object or a variable", value)
	}
	return ""
}

// pathField checks an optional path field.
func (v *validator) pathField(path, value string, rule pathRule) {
	if value == "" {
		return
	}
	if msg := checkPath(value, rule); msg != "" {
		v.fail(path, "%s", msg)
	}
}

func (v *validator) nullablePath(path string, p *NullablePath, rule pathRule) {
	if p == nil || p.Null {
		return
	}
	if p.Path == "" {
		v.fail(path, "must be a path or null, not an empty string")
		return
	}
	v.pathField(path, p.Path, rule)
}

// pathOrIntrinsic checks a value that is a path or an intrinsic function
// call: ErrorPath, CausePath, and template values under keys ending ".$".
func (v *validator) pathOrIntrinsic(path, value string, rule pathRule) {
	switch {
	case value == "":
	case strings.HasPrefix(value, "States."):
		if _, err := ParseIntrinsic(value); err != nil {
			v.fail(path, "%v", err)
		}
	case strings.HasPrefix(value, "$"):
		v.pathField(path, value, rule)
	default:
		v.fail(path, "%q must be a path starting with $ or an intrinsic function starting with States.", value)
	}
}

// template checks a payload template: a JSON object in which the value of
// every key ending ".$", at any depth, is a path or an intrinsic function.
func (v *validator) template(path string, raw json.RawMessage) {
	if raw == nil {
		return
	}
	n, err := parseJSON(raw)
	if err != nil {
		v.fail(path, "is not valid JSON: %v", err)
		return
	}
	if n.kind != kindObject {
		v.fail(path, "must be a JSON object")
		return
	}
	v.templateNode(path, n)
}

func (v *validator) templateNode(path string, n *node) {
	switch n.kind {
	case kindArray:
		for i, el := range n.values {
			v.templateNode(fmt.Sprintf("%s[%d]", path, i), el)
		}
	case kindObject:
		for i, k := range n.keys {
			p := joinPath(path, k)
			val := n.values[i]
			base, dynamic := strings.CutSuffix(k, ".$")
			if !dynamic {
				v.templateNode(p, val)
				continue
			}
			if n.member(base) != nil {
				v.fail(p, "key %q is also given as %q", base, k)
			}
			if val.kind != kindString {
				v.fail(p, "the value of a key ending in .$ must be a path or intrinsic function string")
				continue
			}
			v.pathOrIntrinsic(p, val.text, anyPath)
		}
	}
}

// assign checks an Assign object: each key names a variable (with ".$"
// when its value is a path or intrinsic function), each value is a
// template.
func (v *validator) assign(path string, assign map[string]json.RawMessage) {
	for _, k := range sortedKeys(assign) {
		p := joinPath(path, k)
		name, dynamic := strings.CutSuffix(k, ".$")
		if !validVariableName(name) {
			v.fail(p, "%q is not a valid variable name: a letter or _, then letters, digits or _, at most %d characters", name, MaxVariableNameLength)
		} else if name == "states" {
			v.fail(p, "$states is reserved")
		}
		if dynamic {
			if _, dup := assign[name]; dup {
				v.fail(p, "variable %q is also assigned as %q", name, k)
			}
		}
		n, err := parseJSON(assign[k])
		if err != nil {
			v.fail(p, "is not valid JSON: %v", err)
			continue
		}
		if !dynamic {
			v.templateNode(p, n)
			continue
		}
		if n.kind != kindString {
			v.fail(p, "the value of a key ending in .$ must be a path or intrinsic function string")
			continue
		}
		v.pathOrIntrinsic(p, n.text, anyPath)
	}
}

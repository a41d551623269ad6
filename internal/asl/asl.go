package asl

import "encoding/json"

// StateType is the value of a state's Type field.
type StateType string

// The state types of the Amazon States Language.
const (
	TypePass     StateType = "Pass"
	TypeTask     StateType = "Task"
	TypeChoice   StateType = "Choice"
	TypeWait     StateType = "Wait"
	TypeSucceed  StateType = "Succeed"
	TypeFail     StateType = "Fail"
	TypeParallel StateType = "Parallel"
	TypeMap      StateType = "Map"
)

// Values of the enumerated string fields.
const (
	// QueryLanguageJSONPath is the default query language, when
	// QueryLanguage is absent.
	QueryLanguageJSONPath = "JSONPath"
	// QueryLanguageJSONata is the query language of JSONata states (see
	// jsonata.go).
	QueryLanguageJSONata = "JSONata"

	// Version10 is the only Version of the language.
	Version10 = "1.0"

	JitterFull = "FULL"
	JitterNone = "NONE"

	ModeInline      = "INLINE"
	ModeDistributed = "DISTRIBUTED"

	ExecutionStandard = "STANDARD"
	ExecutionExpress  = "EXPRESS"
)

// Predefined error names. A Retrier or Catcher naming an error that starts
// with "States." must use one of these.
const (
	ErrorAll                             = "States.ALL"
	ErrorDataLimitExceeded               = "States.DataLimitExceeded"
	ErrorExceedToleratedFailureThreshold = "States.ExceedToleratedFailureThreshold"
	ErrorHeartbeatTimeout                = "States.HeartbeatTimeout"
	ErrorHTTPSocket                      = "States.Http.Socket"
	ErrorIntrinsicFailure                = "States.IntrinsicFailure"
	ErrorItemReaderFailed                = "States.ItemReaderFailed"
	ErrorNoChoiceMatched                 = "States.NoChoiceMatched"
	ErrorParameterPathFailure            = "States.ParameterPathFailure"
	ErrorPermissions                     = "States.Permissions"
	ErrorQueryEvaluationError            = "States.QueryEvaluationError"
	ErrorResultPathMatchFailure          = "States.ResultPathMatchFailure"
	ErrorResultWriterFailed              = "States.ResultWriterFailed"
	ErrorRuntime                         = "States.Runtime"
	ErrorTaskFailed                      = "States.TaskFailed"
	ErrorTimeout                         = "States.Timeout"
	ErrorBranchFailed                    = "States.BranchFailed"
)

// StateMachine is an Amazon States Language document: the top level of a
// state machine definition.
type StateMachine struct {
	Comment string
	// Version is "1.0" or empty.
	Version string
	// QueryLanguage is "JSONPath", "JSONata" or empty (which means
	// JSONPath).
	QueryLanguage string
	// TimeoutSeconds bounds the whole execution; nil means no limit.
	TimeoutSeconds *int
	StartAt        string
	States         map[string]*State
}

// State is one state of any type. Which fields a state may set depends on
// its Type; Validate reports fields that the type does not allow. Pointer
// fields distinguish "absent" from a zero value; string fields are absent
// when empty; json.RawMessage fields are absent when nil.
type State struct {
	Type          StateType
	Comment       string
	QueryLanguage string

	// Task.
	Resource string
	// Credentials is a payload template with the role to assume.
	Credentials json.RawMessage

	// Choice.
	Choices []ChoiceRule
	Default string

	// Wait: exactly one of these four. SecondsExpr is a JSONata
	// expression string given as Seconds.
	Seconds       *int
	SecondsExpr   string
	SecondsPath   string
	Timestamp     string
	TimestampPath string

	// Fail: at most one of Error and ErrorPath, and of Cause and CausePath.
	Error     string
	ErrorPath string
	Cause     string
	CausePath string

	// Parallel.
	Branches []Branch

	// Map. Iterator is the legacy name of ItemProcessor (without
	// ProcessorConfig); a Map state has one or the other. Items is a
	// JSONata state's array of items, or an expression string.
	ItemProcessor                  *ItemProcessor
	Iterator                       *ItemProcessor
	ItemReader                     json.RawMessage
	ItemsPath                      string
	Items                          json.RawMessage
	ItemSelector                   json.RawMessage
	ItemBatcher                    json.RawMessage
	MaxConcurrency                 *int
	MaxConcurrencyExpr             string
	MaxConcurrencyPath             string
	ToleratedFailureCount          *int
	ToleratedFailureCountExpr      string
	ToleratedFailureCountPath      string
	ToleratedFailurePercentage     *float64
	ToleratedFailurePercentageExpr string
	ToleratedFailurePercentagePath string
	Label                          string
	ResultWriter                   json.RawMessage

	// Input and output processing, in the order they apply.
	InputPath      *NullablePath
	Parameters     json.RawMessage
	Result         json.RawMessage
	ResultSelector json.RawMessage
	ResultPath     *NullablePath
	OutputPath     *NullablePath
	// Assign sets workflow variables: name (with ".$" when the value is a
	// path or intrinsic function) to value.
	Assign map[string]json.RawMessage

	// JSONata input and output: Arguments in place of InputPath and
	// Parameters, Output in place of ResultSelector, ResultPath and
	// OutputPath. Any JSON, with "{% ... %}" strings evaluated.
	Arguments json.RawMessage
	Output    json.RawMessage

	// Task timeouts. The *Expr fields hold a JSONata expression string
	// given in place of the number.
	TimeoutSeconds       *int
	TimeoutSecondsExpr   string
	TimeoutSecondsPath   string
	HeartbeatSeconds     *int
	HeartbeatSecondsExpr string
	HeartbeatSecondsPath string

	// Error handling (Task, Parallel, Map).
	Retry []Retrier
	Catch []Catcher

	// Transition.
	Next string
	End  bool
}

// NullablePath is the value of InputPath, OutputPath and ResultPath: either
// a path, or JSON null, which discards the input (InputPath), the output
// (OutputPath) or the result (ResultPath). A nil *NullablePath means the
// field is absent, which is the same as "$".
type NullablePath struct {
	Path string
	Null bool
}

// Ref returns a NullablePath holding path.
func Ref(path string) *NullablePath { return &NullablePath{Path: path} }

// Discard returns a NullablePath holding JSON null.
func Discard() *NullablePath { return &NullablePath{Null: true} }

// Retrier is one element of a state's Retry field.
type Retrier struct {
	Comment         string
	ErrorEquals     []string
	IntervalSeconds *int
	MaxAttempts     *int
	BackoffRate     *float64
	MaxDelaySeconds *int
	// JitterStrategy is "FULL", "NONE" or empty (NONE).
	JitterStrategy string
}

// Catcher is one element of a state's Catch field.
type Catcher struct {
	Comment     string
	ErrorEquals []string
	ResultPath  *NullablePath
	Assign      map[string]json.RawMessage
	// Output is a JSONata catcher's output (by default the error output).
	Output json.RawMessage
	Next   string
}

// Branch is one element of a Parallel state's Branches: a state machine of
// its own, whose states can only transition to each other.
type Branch struct {
	Comment string
	StartAt string
	States  map[string]*State
}

// ItemProcessor is the state machine a Map state runs for each item.
type ItemProcessor struct {
	Comment         string
	ProcessorConfig *ProcessorConfig
	StartAt         string
	States          map[string]*State
}

// ProcessorConfig says how a Map state runs its items.
type ProcessorConfig struct {
	// Mode is "INLINE", "DISTRIBUTED" or empty (INLINE).
	Mode string
	// ExecutionType is "STANDARD" or "EXPRESS"; required in DISTRIBUTED
	// mode and not allowed in INLINE mode.
	ExecutionType string
}

// ChoiceRule is one element of a Choice state's Choices, or a rule nested
// in And, Or or Not. A well-formed rule has either exactly one comparison
// operator together with Variable, or exactly one of And, Or and Not. Next
// and Assign belong to top-level rules only.
type ChoiceRule struct {
	Comment string
	// Condition is a JSONata rule's test: true, false or an expression
	// string; a JSONata rule has it in place of Variable and operators.
	Condition json.RawMessage
	Variable  string

	StringEquals                *string
	StringEqualsPath            *string
	StringLessThan              *string
	StringLessThanPath          *string
	StringGreaterThan           *string
	StringGreaterThanPath       *string
	StringLessThanEquals        *string
	StringLessThanEqualsPath    *string
	StringGreaterThanEquals     *string
	StringGreaterThanEqualsPath *string
	StringMatches               *string

	NumericEquals                *float64
	NumericEqualsPath            *string
	NumericLessThan              *float64
	NumericLessThanPath          *string
	NumericGreaterThan           *float64
	NumericGreaterThanPath       *string
	NumericLessThanEquals        *float64
	NumericLessThanEqualsPath    *string
	NumericGreaterThanEquals     *float64
	NumericGreaterThanEqualsPath *string

	BooleanEquals     *bool
	BooleanEqualsPath *string

	TimestampEquals                *string
	TimestampEqualsPath            *string
	TimestampLessThan              *string
	TimestampLessThanPath          *string
	TimestampGreaterThan           *string
	TimestampGreaterThanPath       *string
	TimestampLessThanEquals        *string
	TimestampLessThanEqualsPath    *string
	TimestampGreaterThanEquals     *string
	TimestampGreaterThanEqualsPath *string

	IsNull      *bool
	IsPresent   *bool
	IsNumeric   *bool
	IsString    *bool
	IsBoolean   *bool
	IsTimestamp *bool

	And []ChoiceRule
	Or  []ChoiceRule
	Not *ChoiceRule

	Assign map[string]json.RawMessage
	// Output is a JSONata rule's output when it matches.
	Output json.RawMessage
	Next   string
}

// OperandKind says what the value of a comparison operator is.
type OperandKind int

// The kinds of comparison operands.
const (
	OperandString    OperandKind = iota + 1 // a string literal
	OperandNumber                           // a number literal
	OperandBoolean                          // a boolean literal
	OperandTimestamp                        // an RFC 3339 timestamp literal
	OperandPattern                          // a StringMatches pattern
	OperandPath                             // a path to the value to compare with
	OperandTypeTest                         // Is*: true or false
)

// Operator is the one comparison operator set on a leaf ChoiceRule.
type Operator struct {
	// Name is the field name, such as "NumericLessThanEqualsPath".
	Name string
	Kind OperandKind
	// Exactly one of String, Number and Boolean is set, following Kind:
	// String for string, timestamp, pattern and path operands.
	String  *string
	Number  *float64
	Boolean *bool
}

// Operators returns the comparison operators set on r, in the order of the
// ChoiceRule fields. A well-formed leaf rule has exactly one.
func (r *ChoiceRule) Operators() []Operator {
	var ops []Operator
	for _, op := range choiceOperators {
		if o, ok := op.get(r); ok {
			ops = append(ops, o)
		}
	}
	return ops
}

type choiceOperator struct {
	name string
	kind OperandKind
	str  func(*ChoiceRule) **string
	num  func(*ChoiceRule) **float64
	bool func(*ChoiceRule) **bool
}

func (op choiceOperator) get(r *ChoiceRule) (Operator, bool) {
	o := Operator{Name: op.name, Kind: op.kind}
	switch {
	case op.str != nil:
		o.String = *op.str(r)
		return o, o.String != nil
	case op.num != nil:
		o.Number = *op.num(r)
		return o, o.Number != nil
	default:
		o.Boolean = *op.bool(r)
		return o, o.Boolean != nil
	}
}

func strOp(name string, kind OperandKind, f func(*ChoiceRule) **string) choiceOperator {
	return choiceOperator{name: name, kind: kind, str: f}
}

func numOp(name string, f func(*ChoiceRule) **float64) choiceOperator {
	return choiceOperator{name: name, kind: OperandNumber, num: f}
}

func boolOp(name string, kind OperandKind, f func(*ChoiceRule) **bool) choiceOperator {
	return choiceOperator{name: name, kind: kind, bool: f}
}

// choiceOperators lists every comparison operator in the order they are
// written out.
var choiceOperators = []choiceOperator{
	strOp("StringEquals", OperandString, func(r *ChoiceRule) **string { return &r.StringEquals }),
	strOp("StringEqualsPath", OperandPath, func(r *ChoiceRule) **string { return &r.StringEqualsPath }),
	strOp("StringLessThan", OperandString, func(r *ChoiceRule) **string { return &r.StringLessThan }),
	strOp("StringLessThanPath", OperandPath, func(r *ChoiceRule) **string { return &r.StringLessThanPath }),
	strOp("StringGreaterThan", OperandString, func(r *ChoiceRule) **string { return &r.StringGreaterThan }),
	strOp("StringGreaterThanPath", OperandPath, func(r *ChoiceRule) **string { return &r.StringGreaterThanPath }),
	strOp("StringLessThanEquals", OperandString, func(r *ChoiceRule) **string { return &r.StringLessThanEquals }),
	strOp("StringLessThanEqualsPath", OperandPath, func(r *ChoiceRule) **string { return &r.StringLessThanEqualsPath }),
	strOp("StringGreaterThanEquals", OperandString, func(r *ChoiceRule) **string { return &r.StringGreaterThanEquals }),
	strOp("StringGreaterThanEqualsPath", OperandPath, func(r *ChoiceRule) **string { return &r.StringGreaterThanEqualsPath }),
	strOp("StringMatches", OperandPattern, func(r *ChoiceRule) **string { return &r.StringMatches }),

	numOp("NumericEquals", func(r *ChoiceRule) **float64 { return &r.NumericEquals }),
	strOp("NumericEqualsPath", OperandPath, func(r *ChoiceRule) **string { return &r.NumericEqualsPath }),
	numOp("NumericLessThan", func(r *ChoiceRule) **float64 { return &r.NumericLessThan }),
	strOp("NumericLessThanPath", OperandPath, func(r *ChoiceRule) **string { return &r.NumericLessThanPath }),
	numOp("NumericGreaterThan", func(r *ChoiceRule) **float64 { return &r.NumericGreaterThan }),
	strOp("NumericGreaterThanPath", OperandPath, func(r *ChoiceRule) **string { return &r.NumericGreaterThanPath }),
	numOp("NumericLessThanEquals", func(r *ChoiceRule) **float64 { return &r.NumericLessThanEquals }),
	strOp("NumericLessThanEqualsPath", OperandPath, func(r *ChoiceRule) **string { return &r.NumericLessThanEqualsPath }),
	numOp("NumericGreaterThanEquals", func(r *ChoiceRule) **float64 { return &r.NumericGreaterThanEquals }),
	strOp("NumericGreaterThanEqualsPath", OperandPath, func(r *ChoiceRule) **string { return &r.NumericGreaterThanEqualsPath }),

	boolOp("BooleanEquals", OperandBoolean, func(r *ChoiceRule) **bool { return &r.BooleanEquals }),
	strOp("BooleanEqualsPath", OperandPath, func(r *ChoiceRule) **string { return &r.BooleanEqualsPath }),

	strOp("TimestampEquals", OperandTimestamp, func(r *ChoiceRule) **string { return &r.TimestampEquals }),
	strOp("TimestampEqualsPath", OperandPath, func(r *ChoiceRule) **string { return &r.TimestampEqualsPath }),
	strOp("TimestampLessThan", OperandTimestamp, func(r *ChoiceRule) **string { return &r.TimestampLessThan }),
	strOp("TimestampLessThanPath", OperandPath, func(r *ChoiceRule) **string { return &r.TimestampLessThanPath }),
	strOp("TimestampGreaterThan", OperandTimestamp, func(r *ChoiceRule) **string { return &r.TimestampGreaterThan }),
	strOp("TimestampGreaterThanPath", OperandPath, func(r *ChoiceRule) **string { return &r.TimestampGreaterThanPath }),
	strOp("TimestampLessThanEquals", OperandTimestamp, func(r *ChoiceRule) **string { return &r.TimestampLessThanEquals }),
	strOp("TimestampLessThanEqualsPath", OperandPath, func(r *ChoiceRule) **string { return &r.TimestampLessThanEqualsPath }),
	strOp("TimestampGreaterThanEquals", OperandTimestamp, func(r *ChoiceRule) **string { return &r.TimestampGreaterThanEquals }),
	strOp("TimestampGreaterThanEqualsPath", OperandPath, func(r *ChoiceRule) **string { return &r.TimestampGreaterThanEqualsPath }),

	boolOp("IsNull", OperandTypeTest, func(r *ChoiceRule) **bool { return &r.IsNull }),
	boolOp("IsPresent", OperandTypeTest, func(r *ChoiceRule) **bool { return &r.IsPresent }),
	boolOp("IsNumeric", OperandTypeTest, func(r *ChoiceRule) **bool { return &r.IsNumeric }),
	boolOp("IsString", OperandTypeTest, func(r *ChoiceRule) **bool { return &r.IsString }),
	boolOp("IsBoolean", OperandTypeTest, func(r *ChoiceRule) **bool { return &r.IsBoolean }),
	boolOp("IsTimestamp", OperandTypeTest, func(r *ChoiceRule) **bool { return &r.IsTimestamp }),
}

package asl

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// requireProblem fails unless errs holds an error at path whose message
// contains msg.
func requireProblem(t *testing.T, errs []ValidationError, path, msg string) {
	t.Helper()
	for _, e := range errs {
		if e.Path == path && strings.Contains(e.Message, msg) {
			return
		}
	}
	var got strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&got, "\n  %s", e.Error())
	}
	require.Failf(t, "missing validation error", "want %s: ...%s...\ngot:%s", path, msg, got.String())
}

func TestValidateRules(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		mutate func(m *StateMachine)
		path   string
		msg    string
	}{
		// The machine.
		{"StartAtMissing", func(m *StateMachine) { m.StartAt = "" }, "StartAt", "is required"},
		{"StartAtUnknown", func(m *StateMachine) { m.StartAt = "Nope" }, "StartAt", `state "Nope" does not exist`},
		{"Version", func(m *StateMachine) { m.Version = "2.0" }, "Version", `must be "1.0"`},
		{"QueryLanguage", func(m *StateMachine) { m.QueryLanguage = "XPath" }, "QueryLanguage", `must be "JSONPath" or "JSONata", not "XPath"`},
		{"JSONataMachine", func(m *StateMachine) { m.QueryLanguage = "JSONata" }, "States.Prepare.Parameters",
			"The QueryLanguage is set to 'JSONata', but field 'Parameters' is only supported for the 'JSONPath' QueryLanguage"},
		{"StateJSONata", func(m *StateMachine) { m.States["Prepare"].QueryLanguage = "JSONata" }, "States.Prepare.InputPath",
			"The QueryLanguage is set to 'JSONata', but field 'InputPath' is only supported for the 'JSONPath' QueryLanguage"},
		{"MachineTimeout", func(m *StateMachine) { m.TimeoutSeconds = new(0) }, "TimeoutSeconds", "between 1 and 99999999"},
		{"NoStates", func(m *StateMachine) { m.States = nil }, "States", "at least one state"},

		// Transitions and scopes.
		{"NextUnknown", func(m *StateMachine) { m.States["Prepare"].Next = "Nope" }, "States.Prepare.Next", `state "Nope" does not exist`},
		{"DefaultUnknown", func(m *StateMachine) { m.States["Route"].Default = "Nope" }, "States.Route.Default", "does not exist"},
		{"ChoiceNextUnknown", func(m *StateMachine) { m.States["Route"].Choices[0].Next = "Nope" }, "States.Route.Choices[0].Next", "does not exist"},
		{"CatchNextUnknown", func(m *StateMachine) { m.States["Classify"].Catch[0].Next = "Nope" }, "States.Classify.Catch[0].Next", "does not exist"},
		{
			"NextOutOfBranch",
			func(m *StateMachine) {
				s := m.States["Refund"].Branches[0].States["Notify"]
				s.End, s.Next = false, "Done"
			},
			"States.Refund.Branches[0].States.Notify.Next",
			`state "Done" is in States, not in States.Refund.Branches[0].States`,
		},
		{"NextIntoMap", func(m *StateMachine) { m.States["Prepare"].Next = "Handle" }, "States.Prepare.Next", `state "Handle" is in States.FanOut.ItemProcessor.States`},
		{
			"Unreachable",
			func(m *StateMachine) { m.States["Orphan"] = &State{Type: TypeSucceed} },
			"States.Orphan", `not reachable from StartAt "Prepare"`,
		},
		{
			"UnreachableInBranch",
			func(m *StateMachine) { m.States["Refund"].Branches[1].States["Stray"] = &State{Type: TypeSucceed} },
			"States.Refund.Branches[1].States.Stray", `not reachable from StartAt "Ledger"`,
		},
		{
			"NoTerminalState",
			func(m *StateMachine) {
				m.States = map[string]*State{
					"A": {Type: TypePass, Next: "B"},
					"B": {Type: TypeWait, Seconds: new(1), Next: "A"},
				}
				m.StartAt = "A"
			},
			"States", "has no terminal state",
		},
		{"BranchStartAt", func(m *StateMachine) { m.States["Refund"].Branches[0].StartAt = "" }, "States.Refund.Branches[0].StartAt", "is required"},
		{"ProcessorStartAt", func(m *StateMachine) { m.States["FanOut"].ItemProcessor.StartAt = "Done" }, "States.FanOut.ItemProcessor.StartAt", `state "Done" is in States`},

		// Next and End.
		{"PassWithoutTransition", func(m *StateMachine) { m.States["Prepare"].Next = "" }, "States.Prepare", "must have either Next or \"End\": true"},
		{"PassWithBoth", func(m *StateMachine) { m.States["Prepare"].End = true }, "States.Prepare", "not both"},
		{"SucceedWithNext", func(m *StateMachine) { m.States["Done"].Next = "Prepare" }, "States.Done.Next", "Next is not allowed in a Succeed state"},
		{"FailWithEnd", func(m *StateMachine) { m.States["Failed"].End = true }, "States.Failed.End", "End is not allowed in a Fail state"},
		{"ChoiceWithNext", func(m *StateMachine) { m.States["Route"].Next = "Done" }, "States.Route.Next", "Next is not allowed in a Choice state"},
		{"ChoiceWithEnd", func(m *StateMachine) { m.States["Route"].End = true }, "States.Route.End", "End is not allowed in a Choice state"},

		// State names.
		{"NameTooLong", addState(strings.Repeat("x", 81)), "States." + strings.Repeat("x", 81), "must be 1 to 80 characters long, not 81"},
		{"NameEmpty", addState(""), `States[""]`, `state name "" must be 1 to 80 characters long, not 0`},
		{"NameWithSpace", addState("Two words"), `States["Two words"]`, "must not contain white space"},
		{"NameWithDollar", addState("a$b"), "States.a$b", `must not contain '$'`},
		{"NameWithBracket", addState("a[0]"), `States["a[0]"]`, `must not contain '['`},
		{"NameWithBacktick", addState("a`b"), "States[\"a`b\"]", "must not contain '`'"},
		{"NameWithControl", addState("a\x7fb"), `States["a\x7fb"]`, "must not contain control character U+007F"},
		{
			"NameNotUnique",
			func(m *StateMachine) {
				m.States["Refund"].Branches[1].States["Prepare"] = &State{Type: TypeSucceed}
			},
			"States.Refund.Branches[1].States.Prepare", `state name "Prepare" is already used in States`,
		},

		// Fields per type.
		{"UnknownType", func(m *StateMachine) { m.States["Prepare"].Type = "Noop" }, "States.Prepare.Type", `unknown state type "Noop"`},
		{"MissingType", func(m *StateMachine) { m.States["Prepare"].Type = "" }, "States.Prepare.Type", "is required"},
		{"RetryOnPass", func(m *StateMachine) { m.States["Prepare"].Retry = []Retrier{{ErrorEquals: []string{"X"}}} }, "States.Prepare.Retry", "Retry is not allowed in a Pass state"},
		{"ResultPathOnFail", func(m *StateMachine) { m.States["Failed"].ResultPath = Ref("$.x") }, "States.Failed.ResultPath", "ResultPath is not allowed in a Fail state"},
		{"ResourceOnPass", func(m *StateMachine) { m.States["Prepare"].Resource = "arn:x" }, "States.Prepare.Resource", "not allowed in a Pass state"},
		{"ParametersOnWait", func(m *StateMachine) { m.States["Pause"].Parameters = json.RawMessage(`{}`) }, "States.Pause.Parameters", "not allowed in a Wait state"},
		{"AssignOnSucceed", func(m *StateMachine) { m.States["Done"].Assign = map[string]json.RawMessage{"x": json.RawMessage(`1`)} }, "States.Done.Assign", "not allowed in a Succeed state"},
		{"ResultOnTask", func(m *StateMachine) { m.States["Classify"].Result = json.RawMessage(`1`) }, "States.Classify.Result", "not allowed in a Task state"},

		// Task.
		{"TaskResource", func(m *StateMachine) { m.States["Classify"].Resource = "" }, "States.Classify.Resource", "is required in a Task state"},
		{"TimeoutBoth", func(m *StateMachine) { m.States["Classify"].TimeoutSecondsPath = "$.timeout" }, "States.Classify", "TimeoutSeconds and TimeoutSecondsPath cannot both be set"},
		{
			"HeartbeatBoth",
			func(m *StateMachine) { m.States["Classify"].HeartbeatSecondsPath = "$.hb" },
			"States.Classify", "HeartbeatSeconds and HeartbeatSecondsPath cannot both be set",
		},
		{"TimeoutZero", func(m *StateMachine) { m.States["Classify"].TimeoutSeconds = new(0) }, "States.Classify.TimeoutSeconds", "between 1 and 99999999, not 0"},
		{"HeartbeatNegative", func(m *StateMachine) { m.States["Classify"].HeartbeatSeconds = new(-1) }, "States.Classify.HeartbeatSeconds", "between 1 and 99999999"},
		{"HeartbeatNotBelowTimeout", func(m *StateMachine) { m.States["Classify"].HeartbeatSeconds = new(300) }, "States.Classify.HeartbeatSeconds", "must be less than TimeoutSeconds (300), not 300"},
		{"TimeoutPathInvalid", func(m *StateMachine) {
			s := m.States["Classify"]
			s.TimeoutSeconds, s.HeartbeatSeconds, s.TimeoutSecondsPath = nil, nil, "$.a[*]"
		}, "States.Classify.TimeoutSecondsPath", "must be a Reference Path"},

		// Wait.
		{"WaitNone", func(m *StateMachine) { m.States["Pause"].SecondsPath = "" }, "States.Pause", "exactly one of Seconds, SecondsPath, Timestamp and TimestampPath, not 0"},
		{"WaitTwo", func(m *StateMachine) { m.States["Pause"].Seconds = new(5) }, "States.Pause", "exactly one of Seconds, SecondsPath, Timestamp and TimestampPath, not 2"},
		{"WaitNegative", func(m *StateMachine) { m.States["Pause"].SecondsPath, m.States["Pause"].Seconds = "", new(-5) }, "States.Pause.Seconds", "between 0 and 99999999"},
		{"WaitTimestamp", func(m *StateMachine) { m.States["Later"].Timestamp = "2030-01-01 00:00:00" }, "States.Later.Timestamp", "is not an RFC 3339 timestamp"},
		{"WaitTimestampLowercase", func(m *StateMachine) { m.States["Later"].Timestamp = "2030-01-01t00:00:00z" }, "States.Later.Timestamp", "is not an RFC 3339 timestamp"},
		{"WaitSecondsPath", func(m *StateMachine) { m.States["Pause"].SecondsPath = "delay" }, "States.Pause.SecondsPath", "a path starts with $"},

		// Fail.
		{"FailErrorBoth", func(m *StateMachine) { m.States["Failed"].Error = "E" }, "States.Failed", "Error and ErrorPath cannot both be set"},
		{"FailCauseBoth", func(m *StateMachine) { m.States["Failed"].CausePath = "$.cause" }, "States.Failed", "Cause and CausePath cannot both be set"},
		{"FailErrorPathBad", func(m *StateMachine) { m.States["Failed"].ErrorPath = "$..Error" }, "States.Failed.ErrorPath", "must be a Reference Path"},
		{"FailCausePathIntrinsic", func(m *StateMachine) {
			m.States["Failed"].Cause = ""
			m.States["Failed"].CausePath = "States.Nope($.x)"
		}, "States.Failed.CausePath", `unknown function "States.Nope"`},
		{"FailCausePathLiteral", func(m *StateMachine) {
			m.States["Failed"].Cause = ""
			m.States["Failed"].CausePath = "plain text"
		}, "States.Failed.CausePath", "must be a path starting with $ or an intrinsic function"},

		// Parallel and Map.
		{"ParallelNoBranches", func(m *StateMachine) { m.States["Refund"].Branches = nil }, "States.Refund.Branches", "at least one branch"},
		{"MapNoProcessor", func(m *StateMachine) { m.States["FanOut"].ItemProcessor = nil }, "States.FanOut.ItemProcessor", "is required in a Map state"},
		{
			"MapProcessorAndIterator",
			func(m *StateMachine) {
				m.States["FanOut"].Iterator = &ItemProcessor{StartAt: "I", States: map[string]*State{"I": {Type: TypeSucceed}}}
			},
			"States.FanOut", "ItemProcessor and Iterator cannot both be set",
		},
		{
			"MapParametersAndItemSelector",
			func(m *StateMachine) { m.States["FanOut"].Parameters = json.RawMessage(`{"a": 1}`) },
			"States.FanOut", "Parameters and ItemSelector cannot both be set",
		},
		{"MapMode", func(m *StateMachine) { m.States["FanOut"].ItemProcessor.ProcessorConfig.Mode = "BATCH" }, "States.FanOut.ItemProcessor.ProcessorConfig.Mode", `must be INLINE or DISTRIBUTED, not "BATCH"`},
		{
			"MapDistributedNeedsExecutionType",
			func(m *StateMachine) { m.States["FanOut"].ItemProcessor.ProcessorConfig.Mode = ModeDistributed },
			"States.FanOut.ItemProcessor.ProcessorConfig.ExecutionType", "is required when Mode is DISTRIBUTED",
		},
		{
			"MapInlineExecutionType",
			func(m *StateMachine) {
				m.States["FanOut"].ItemProcessor.ProcessorConfig.ExecutionType = ExecutionExpress
			},
			"States.FanOut.ItemProcessor.ProcessorConfig.ExecutionType", "is only allowed when Mode is DISTRIBUTED",
		},
		{
			"MapDistributedOnlyField",
			func(m *StateMachine) { m.States["FanOut"].ToleratedFailureCount = new(3) },
			"States.FanOut.ToleratedFailureCount", "only allowed in a Map state whose ItemProcessor.ProcessorConfig.Mode is DISTRIBUTED",
		},
		{
			"MapToleratedPercentage",
			func(m *StateMachine) {
				s := m.States["FanOut"]
				s.ItemProcessor.ProcessorConfig = &ProcessorConfig{Mode: ModeDistributed, ExecutionType: ExecutionStandard}
				s.ToleratedFailurePercentage = new(150.0)
			},
			"States.FanOut.ToleratedFailurePercentage", "between 0 and 100",
		},
		{"MapMaxConcurrency", func(m *StateMachine) { m.States["FanOut"].MaxConcurrency = new(-1) }, "States.FanOut.MaxConcurrency", "between 0 and"},
		{"MapMaxConcurrencyBoth", func(m *StateMachine) { m.States["FanOut"].MaxConcurrencyPath = "$.n" }, "States.FanOut", "MaxConcurrency and MaxConcurrencyPath cannot both be set"},
		{"MapItemsPathFilter", func(m *StateMachine) { m.States["FanOut"].ItemsPath = "$.items[?(@.ok)]" }, "States.FanOut.ItemsPath", "must be a Reference Path"},
		{
			"MapLabel",
			func(m *StateMachine) {
				s := m.States["FanOut"]
				s.ItemProcessor.ProcessorConfig = &ProcessorConfig{Mode: ModeDistributed, ExecutionType: ExecutionExpress}
				s.Label = strings.Repeat("l", 41)
			},
			"States.FanOut.Label", "at most 40 characters",
		},

		// Retry.
		{"RetryErrorEqualsEmpty", func(m *StateMachine) { m.States["Classify"].Retry[0].ErrorEquals = nil }, "States.Classify.Retry[0].ErrorEquals", "needs at least one error name"},
		{
			"RetryAllNotAlone",
			func(m *StateMachine) { m.States["Classify"].Retry[1].ErrorEquals = []string{"X", ErrorAll} },
			"States.Classify.Retry[1].ErrorEquals[1]", "States.ALL must be the only error name",
		},
		{
			"RetryAllNotLast",
			func(m *StateMachine) {
				r := m.States["Classify"].Retry
				r[0], r[1] = r[1], r[0]
			},
			"States.Classify.Retry[0].ErrorEquals[0]", "a Retrier with States.ALL must be the last one",
		},
		{"RetryUnknownStatesError", func(m *StateMachine) { m.States["Classify"].Retry[0].ErrorEquals = []string{"States.Timout"} }, "States.Classify.Retry[0].ErrorEquals[0]", `unknown predefined error name "States.Timout"`},
		{"RetryEmptyErrorName", func(m *StateMachine) { m.States["Classify"].Retry[0].ErrorEquals = []string{""} }, "States.Classify.Retry[0].ErrorEquals[0]", "error name is empty"},
		{"RetryMaxAttempts", func(m *StateMachine) { m.States["Classify"].Retry[0].MaxAttempts = new(-1) }, "States.Classify.Retry[0].MaxAttempts", "between 0 and 99999999, not -1"},
		{"RetryBackoffRate", func(m *StateMachine) { m.States["Classify"].Retry[0].BackoffRate = new(0.5) }, "States.Classify.Retry[0].BackoffRate", "must be at least 1.0, not 0.5"},
		{"RetryIntervalSeconds", func(m *StateMachine) { m.States["Classify"].Retry[0].IntervalSeconds = new(0) }, "States.Classify.Retry[0].IntervalSeconds", "between 1 and 99999999, not 0"},
		{"RetryMaxDelaySeconds", func(m *StateMachine) { m.States["Classify"].Retry[0].MaxDelaySeconds = new(0) }, "States.Classify.Retry[0].MaxDelaySeconds", "between 1 and 31622400"},
		{"RetryJitter", func(m *StateMachine) { m.States["Classify"].Retry[0].JitterStrategy = "HALF" }, "States.Classify.Retry[0].JitterStrategy", `must be FULL or NONE, not "HALF"`},

		// Catch.
		{"CatchErrorEqualsEmpty", func(m *StateMachine) { m.States["Classify"].Catch[0].ErrorEquals = []string{} }, "States.Classify.Catch[0].ErrorEquals", "needs at least one error name"},
		{
			"CatchAllNotLast",
			func(m *StateMachine) {
				c := m.States["Classify"].Catch
				c[0], c[1] = c[1], c[0]
			},
			"States.Classify.Catch[0].ErrorEquals[0]", "a Catcher with States.ALL must be the last one",
		},
		{"CatchAllNotAlone", func(m *StateMachine) { m.States["Classify"].Catch[1].ErrorEquals = []string{ErrorAll, "X"} }, "States.Classify.Catch[1].ErrorEquals[0]", "must be the only error name"},
		{"CatchNextMissing", func(m *StateMachine) { m.States["Classify"].Catch[0].Next = "" }, "States.Classify.Catch[0].Next", "is required in a Catcher"},
		{"CatchResultPath", func(m *StateMachine) { m.States["Classify"].Catch[0].ResultPath = Ref("$$.x") }, "States.Classify.Catch[0].ResultPath", "cannot be written to the Context Object"},

		// Choice Rules.
		{"ChoicesEmpty", func(m *StateMachine) { m.States["Route"].Choices = nil }, "States.Route.Choices", "at least one Choice Rule"},
		{
			"RuleTwoOperators",
			func(m *StateMachine) { m.States["Route"].Choices[0].StringMatches = new("re*") },
			"States.Route.Choices[0]", "exactly one operator, not StringEquals, StringMatches",
		},
		{
			"RuleNoOperator",
			func(m *StateMachine) { m.States["Route"].Choices[2].BooleanEquals = nil },
			"States.Route.Choices[2]", "needs a comparison operator, or And, Or or Not",
		},
		{
			"RuleOperatorAndLogical",
			func(m *StateMachine) { m.States["Route"].Choices[1].IsNull = new(true) },
			"States.Route.Choices[1]", "exactly one operator, not And, IsNull",
		},
		{"RuleVariableMissing", func(m *StateMachine) { m.States["Route"].Choices[0].Variable = "" }, "States.Route.Choices[0].Variable", "is required with StringEquals"},
		{"RuleVariableOnAnd", func(m *StateMachine) { m.States["Route"].Choices[1].Variable = "$.x" }, "States.Route.Choices[1].Variable", "is not allowed with And"},
		{"RuleVariableInvalid", func(m *StateMachine) { m.States["Route"].Choices[0].Variable = "label" }, "States.Route.Choices[0].Variable", "a path starts with $"},
		{"RuleAndEmpty", func(m *StateMachine) { m.States["Route"].Choices[1].And = []ChoiceRule{} }, "States.Route.Choices[1].And", "needs at least one Choice Rule"},
		{
			"RuleOrEmpty",
			func(m *StateMachine) { m.States["Route"].Choices[1].And[2].Or = []ChoiceRule{} },
			"States.Route.Choices[1].And[2].Or", "needs at least one Choice Rule",
		},
		{"RuleNextMissing", func(m *StateMachine) { m.States["Route"].Choices[0].Next = "" }, "States.Route.Choices[0].Next", "is required in a top-level Choice Rule"},
		{"RuleNestedNext", func(m *StateMachine) { m.States["Route"].Choices[1].And[0].Next = "Done" }, "States.Route.Choices[1].And[0].Next", "only allowed in a top-level Choice Rule"},
		{
			"RuleNestedAssign",
			func(m *StateMachine) {
				m.States["Route"].Choices[1].And[1].Not.Assign = map[string]json.RawMessage{"x": json.RawMessage(`1`)}
			},
			"States.Route.Choices[1].And[1].Not.Assign", "only allowed in a top-level Choice Rule",
		},
		{
			"RuleTimestamp",
			func(m *StateMachine) { m.States["Route"].Choices[1].And[2].Or[0].TimestampLessThan = new("yesterday") },
			"States.Route.Choices[1].And[2].Or[0].TimestampLessThan", `"yesterday" is not an RFC 3339 timestamp`,
		},
		{
			"RuleOperandPath",
			func(m *StateMachine) {
				r := &m.States["Route"].Choices[0]
				r.StringEquals, r.StringEqualsPath = nil, new("$.a[")
			},
			"States.Route.Choices[0].StringEqualsPath", "unclosed '['",
		},
		{
			"RulePattern",
			func(m *StateMachine) { m.States["Route"].Choices[1].And[1].Not.StringMatches = new(`spam\`) },
			"States.Route.Choices[1].And[1].Not.StringMatches", "unfinished escape",
		},

		// Paths.
		{"InputPathInvalid", func(m *StateMachine) { m.States["Prepare"].InputPath = Ref("$.a.") }, "States.Prepare.InputPath", "expected a member name at the end"},
		{"InputPathEmpty", func(m *StateMachine) { m.States["Prepare"].InputPath = Ref("") }, "States.Prepare.InputPath", "must be a path or null"},
		{"OutputPathInvalid", func(m *StateMachine) { m.States["Done"].OutputPath = Ref("steps") }, "States.Done.OutputPath", "a path starts with $"},
		{"ResultPathWildcard", func(m *StateMachine) { m.States["Prepare"].ResultPath = Ref("$.a[*]") }, "States.Prepare.ResultPath", "must be a Reference Path"},
		{"ResultPathContext", func(m *StateMachine) { m.States["Prepare"].ResultPath = Ref("$$.Execution.Input") }, "States.Prepare.ResultPath", "cannot be written to the Context Object"},
		{"ResultPathVariable", func(m *StateMachine) { m.States["Prepare"].ResultPath = Ref("$x.y") }, "States.Prepare.ResultPath", "cannot be written to the Context Object or a variable"},

		// Payload templates.
		{
			"TemplatePathInvalid",
			setParameters("Prepare", `{"ticket.$": "ticket"}`),
			"States.Prepare.Parameters.ticket.$", `"ticket" must be a path starting with $ or an intrinsic function`,
		},
		{
			"TemplateNestedPathInvalid",
			setParameters("Prepare", `{"a": [{"b": {"c.$": "$.x..", "d": 1}}]}`),
			"States.Prepare.Parameters.a[0].b.c.$", "invalid path",
		},
		{
			"TemplateIntrinsicUnknown",
			setParameters("Prepare", `{"x.$": "States.Concat($.a, $.b)"}`),
			"States.Prepare.Parameters.x.$", `unknown function "States.Concat"`,
		},
		{
			"TemplateIntrinsicArgs",
			setParameters("Classify", `{"h.$": "States.Hash($.body)"}`),
			"States.Classify.Parameters.h.$", "States.Hash takes 2 arguments, got 1",
		},
		{
			"TemplateDynamicNotString",
			setParameters("Prepare", `{"x.$": 42}`),
			"States.Prepare.Parameters.x.$", "must be a path or intrinsic function string",
		},
		{
			"TemplateKeyTwice",
			setParameters("Prepare", `{"x": 1, "x.$": "$.x"}`),
			"States.Prepare.Parameters.x.$", `key "x" is also given as "x.$"`,
		},
		{"TemplateNotObject", setParameters("Prepare", `[1, 2]`), "States.Prepare.Parameters", "must be a JSON object"},
		{"TemplateInvalidJSON", setParameters("Prepare", `{"a": `), "States.Prepare.Parameters", "is not valid JSON"},
		{
			"ResultSelectorPath",
			func(m *StateMachine) { m.States["Classify"].ResultSelector = json.RawMessage(`{"a.$": "$["}`) },
			"States.Classify.ResultSelector.a.$", "invalid path",
		},
		{
			"ItemSelectorPath",
			func(m *StateMachine) {
				m.States["FanOut"].ItemSelector = json.RawMessage(`{"a.$": "$$.Map.Item.Value[?("}`)
			},
			"States.FanOut.ItemSelector.a.$", "invalid path",
		},
		{"ResultInvalidJSON", func(m *StateMachine) { m.States["Prepare"].Result = json.RawMessage(`{`) }, "States.Prepare.Result", "is not valid JSON"},

		// Assign.
		{"AssignBadName", setAssign("Prepare", "1st", `1`), "States.Prepare.Assign.1st", `"1st" is not a valid variable name`},
		{"AssignBadDynamicName", setAssign("Prepare", "a-b.$", `"$.x"`), "States.Prepare.Assign.a-b.$", `"a-b" is not a valid variable name`},
		{"AssignReserved", setAssign("Prepare", "states", `1`), "States.Prepare.Assign.states", "$states is reserved"},
		{"AssignDynamicPath", setAssign("Prepare", "x.$", `"$.a["`), "States.Prepare.Assign.x.$", "invalid path"},
		{"AssignDynamicNotString", setAssign("Prepare", "x.$", `true`), "States.Prepare.Assign.x.$", "must be a path or intrinsic function string"},
		{"AssignNested", setAssign("Prepare", "obj", `{"y.$": "nope"}`), "States.Prepare.Assign.obj.y.$", "must be a path starting with $"},
		{"AssignBothForms", setAssign("Prepare", "limits.$", `"$.limits"`), "States.Prepare.Assign.limits.$", `variable "limits" is also assigned as "limits.$"`},
		{
			"CatchAssign",
			func(m *StateMachine) {
				m.States["Classify"].Catch[1].Assign["bad name"] = json.RawMessage(`1`)
			},
			`States.Classify.Catch[1].Assign["bad name"]`, "is not a valid variable name",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, _ := loadGolden(t)
			tt.mutate(m)
			requireProblem(t, Validate(m), tt.path, tt.msg)
		})
	}
}

func addState(name string) func(*StateMachine) {
	return func(m *StateMachine) { m.States[name] = &State{Type: TypeSucceed} }
}

func setParameters(state, params string) func(*StateMachine) {
	return func(m *StateMachine) { m.States[state].Parameters = json.RawMessage(params) }
}

func setAssign(state, key, value string) func(*StateMachine) {
	return func(m *StateMachine) { m.States[state].Assign[key] = json.RawMessage(value) }
}

func TestValidateReportsEveryProblem(t *testing.T) {
	t.Parallel()

	m, err := Parse([]byte(`{
  "StartAt": "Start",
  "States": {
    "Start": {"Type": "Pass", "Retry": [], "Next": "Missing"},
    "Work": {"Type": "Task", "TimeoutSeconds": 0, "End": true},
    "Branchy": {"Type": "Parallel", "Branches": [{"StartAt": "Inner", "States": {"Inner": {"Type": "Pass", "Next": "Start"}}}], "End": true}
  }
}`))
	require.NoError(t, err)
	require.Equal(t, []ValidationError{
		{Path: "States.Branchy.Branches[0].States.Inner.Next", Message: `state "Start" is in States, not in States.Branchy.Branches[0].States; transitions cannot cross into or out of a Parallel branch or Map processor`},
		{Path: "States.Branchy.Branches[0].States", Message: `has no terminal state: a Succeed or Fail state, or one with "End": true`},
		{Path: "States.Start.Retry", Message: "Retry is not allowed in a Pass state"},
		{Path: "States.Start.Next", Message: `state "Missing" does not exist`},
		{Path: "States.Work.Resource", Message: "is required in a Task state"},
		{Path: "States.Work.TimeoutSeconds", Message: "must be between 1 and 99999999, not 0"},
		{Path: "States.Branchy", Message: `state is not reachable from StartAt "Start"`},
		{Path: "States.Work", Message: `state is not reachable from StartAt "Start"`},
	}, Validate(m))
}

func TestValidateAcceptsVariants(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		json string
	}{
		{
			name: "LegacyIterator",
			json: `{"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items", "Parameters": {"v.$": "$$.Map.Item.Value"}, "Iterator": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}, "End": true}}}`,
		},
		{
			name: "DistributedMap",
			json: `{"StartAt": "M", "States": {"M": {"Type": "Map", "Label": "fanout", "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSON"}, "Parameters": {"Bucket.$": "$.bucket", "Key": "items.json"}}, "ItemBatcher": {"MaxItemsPerBatch": 10}, "ToleratedFailurePercentage": 5, "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "b", "Prefix": "out"}}, "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"}, "StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}, "End": true}}}`,
		},
		{
			name: "WaitForever",
			json: `{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 0, "Next": "C"}, "C": {"Type": "Choice", "Choices": [{"Variable": "$.done", "BooleanEquals": true, "Next": "S"}], "Default": "W"}, "S": {"Type": "Succeed"}}}`,
		},
		{
			name: "NullPathsAndVariables",
			json: `{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f", "InputPath": null, "ResultPath": null, "OutputPath": null, "Parameters": {"v.$": "$myVar.field", "c.$": "States.Array($myVar, $$.State.Name, null, true)"}, "TimeoutSecondsPath": "$$.Execution.Input.timeout", "Assign": {"myVar": {"field": 1}, "copy.$": "$.x", "_u.$": "States.UUID()"}, "End": true}}}`,
		},
		{
			name: "EveryComparison",
			json: `{"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": [{"Or": [
  {"Variable": "$.s", "StringEqualsPath": "$.t"}, {"Variable": "$.s", "StringLessThan": "a"}, {"Variable": "$.s", "StringLessThanPath": "$.t"},
  {"Variable": "$.s", "StringGreaterThan": "a"}, {"Variable": "$.s", "StringGreaterThanPath": "$.t"}, {"Variable": "$.s", "StringLessThanEquals": "a"},
  {"Variable": "$.s", "StringLessThanEqualsPath": "$.t"}, {"Variable": "$.s", "StringGreaterThanEquals": "a"}, {"Variable": "$.s", "StringGreaterThanEqualsPath": "$.t"},
  {"Variable": "$.s", "StringMatches": "log-*.txt\\*"}, {"Variable": "$.n", "NumericEquals": 1}, {"Variable": "$.n", "NumericEqualsPath": "$.m"},
  {"Variable": "$.n", "NumericLessThan": 1}, {"Variable": "$.n", "NumericLessThanPath": "$.m"}, {"Variable": "$.n", "NumericGreaterThan": -1.5},
  {"Variable": "$.n", "NumericGreaterThanPath": "$.m"}, {"Variable": "$.n", "NumericLessThanEquals": 1e3}, {"Variable": "$.n", "NumericLessThanEqualsPath": "$.m"},
  {"Variable": "$.n", "NumericGreaterThanEquals": 0}, {"Variable": "$.n", "NumericGreaterThanEqualsPath": "$.m"}, {"Variable": "$.b", "BooleanEquals": false},
  {"Variable": "$.b", "BooleanEqualsPath": "$.c"}, {"Variable": "$.t", "TimestampEquals": "2024-02-29T12:00:00.123+01:00"}, {"Variable": "$.t", "TimestampEqualsPath": "$.u"},
  {"Variable": "$.t", "TimestampLessThan": "2024-01-01T00:00:00Z"}, {"Variable": "$.t", "TimestampLessThanPath": "$.u"}, {"Variable": "$.t", "TimestampGreaterThan": "2024-01-01T00:00:00Z"},
  {"Variable": "$.t", "TimestampGreaterThanPath": "$.u"}, {"Variable": "$.t", "TimestampLessThanEquals": "2024-01-01T00:00:00Z"}, {"Variable": "$.t", "TimestampLessThanEqualsPath": "$.u"},
  {"Variable": "$.t", "TimestampGreaterThanEquals": "2024-01-01T00:00:00Z"}, {"Variable": "$.t", "TimestampGreaterThanEqualsPath": "$.u"}, {"Variable": "$.x", "IsNull": true},
  {"Variable": "$.x", "IsPresent": false}, {"Variable": "$.x", "IsNumeric": true}, {"Variable": "$.x", "IsString": true},
  {"Variable": "$.x", "IsBoolean": true}, {"Variable": "$$.Execution.Input.t", "IsTimestamp": true}, {"Variable": "$v", "IsPresent": true}
], "Next": "S"}]}, "S": {"Type": "Succeed"}}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := Parse([]byte(tt.json))
			require.NoError(t, err)
			require.Empty(t, Validate(m))
			out, err := m.MarshalIndent()
			require.NoError(t, err)
			again, err := Parse(out)
			require.NoError(t, err)
			// Parse keeps a template's members in the document's order and
			// MarshalIndent sorts them, so compare what MarshalIndent writes.
			out2, err := again.MarshalIndent()
			require.NoError(t, err)
			require.Equal(t, string(out), string(out2))
		})
	}
}

func TestOperators(t *testing.T) {
	t.Parallel()

	var r ChoiceRule
	require.Empty(t, r.Operators())
	r.NumericLessThanEquals = new(2.5)
	r.IsNull = new(false)
	require.Equal(t, []Operator{
		{Name: "NumericLessThanEquals", Kind: OperandNumber, Number: r.NumericLessThanEquals},
		{Name: "IsNull", Kind: OperandTypeTest, Boolean: r.IsNull},
	}, r.Operators())
	require.Len(t, choiceOperators, 39)
}

func TestValidateStateName(t *testing.T) {
	t.Parallel()

	for _, name := range []string{"A", "Classify-ticket_2", "Étape", "a.b", "x(1)", "日本語", strings.Repeat("é", 80)} {
		require.NoError(t, ValidateStateName(name), name)
	}
	for _, name := range []string{"", strings.Repeat("x", 81), "a b", "a\tb", "a\u00a0b", "a<b", "a>b", "a{b", "a}b", "a]b", "a?b", "a*b", `a"b`, "a#b", "a%b", `a\b`, "a^b", "a|b", "a~b", "a&b", "a,b", "a;b", "a:b", "a/b", "a\x00b", "a\u0085b", "a\uffffb", "a\xffb"} {
		require.Error(t, ValidateStateName(name), "%q", name)
	}
}

func TestValidateNil(t *testing.T) {
	t.Parallel()

	require.Equal(t, []ValidationError{{Message: "state machine is nil"}}, Validate(nil))
	m := &StateMachine{StartAt: "A", States: map[string]*State{"A": nil}}
	requireProblem(t, Validate(m), "States.A", "state is null")
}

func TestValidationErrorString(t *testing.T) {
	t.Parallel()

	e := ValidationError{Path: "States.A.Next", Message: `state "B" does not exist`}
	require.Equal(t, `States.A.Next: state "B" does not exist`, e.Error())
	require.Equal(t, "no path", ValidationError{Message: "no path"}.Error())
	require.Equal(t, "States.A.Next: state \"B\" does not exist\nno path", ValidationErrors{e, {Message: "no path"}}.Error())
}

// TestTheRulesWorkflowsCheckBeforeCompiling: the rules Validate applies
// to error names and timestamps, which internal/workflow's checker applies
// to a definition so that it never compiles an invalid machine.
func TestTheRulesWorkflowsCheckBeforeCompiling(t *testing.T) {
	t.Parallel()
	require.NoError(t, ValidateErrorName("AI.Throttled"))
	require.NoError(t, ValidateErrorName(ErrorTimeout))
	require.NoError(t, ValidateErrorName(ErrorAll))
	require.EqualError(t, ValidateErrorName(""), "error name is empty")
	require.EqualError(t, ValidateErrorName("States.Timout"), `unknown predefined error name "States.Timout"`)
	names := PredefinedErrors()
	require.Contains(t, names, ErrorAll)
	require.IsIncreasing(t, names)
	for _, n := range names {
		require.NoError(t, ValidateErrorName(n))
	}

	require.NoError(t, ValidateTimestamp("2026-12-01T09:00:00Z"))
	require.NoError(t, ValidateTimestamp("2026-12-01T09:00:00.5+01:00"))
	for _, bad := range []string{"", "tomorrow", "2026-12-01", "2026-12-01T09:00:00", "2026-13-01T00:00:00Z"} {
		require.EqualError(t, ValidateTimestamp(bad), fmt.Sprintf("%q is not an RFC 3339 timestamp such as 2016-03-14T01:59:00Z", bad))
	}
}

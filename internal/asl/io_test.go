package asl

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// resultPathInput is the state input of the examples on the page
// "Specifying state output using ResultPath in Step Functions".
const resultPathInput = `{"comment": "This is a test", "details": "Default example", "who": "Step Functions"}`

func TestSetResult(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name       string
		input      string
		resultPath *NullablePath
		result     string
		want       string
	}{
		// "Specifying state output using ResultPath in Step Functions":
		// replace input with the task result.
		{name: "absent replaces", input: resultPathInput, result: `"Hello, Step Functions!"`, want: `"Hello, Step Functions!"`},
		{name: "dollar replaces", input: resultPathInput, resultPath: Ref("$"), result: `"Hello, Step Functions!"`, want: `"Hello, Step Functions!"`},
		// Same page: discard the result and keep the original input.
		{name: "null keeps input", input: resultPathInput, resultPath: Discard(), result: `"Hello, Step Functions!"`, want: resultPathInput},
		// Same page: include the result with the input.
		{
			name: "include with input", input: resultPathInput, resultPath: Ref("$.taskresult"), result: `"Hello, Step Functions!"`,
			want: `{"comment": "This is a test", "details": "Default example", "who": "Step Functions", "taskresult": "Hello, Step Functions!"}`,
		},
		{name: "replace existing member", input: `{"a": {"b": 1, "c": 2}}`, resultPath: Ref("$.a.b"), result: `{"x": true}`, want: `{"a": {"b": {"x": true}, "c": 2}}`},
		// The Amazon States Language specification: intervening fields
		// are constructed as necessary.
		{name: "creates intervening objects", input: `{"a": 1}`, resultPath: Ref("$.x.y.z"), result: `7`, want: `{"a": 1, "x": {"y": {"z": 7}}}`},
		{name: "into an array element", input: `{"list": [1, 2, 3]}`, resultPath: Ref("$.list[1]"), result: `"two"`, want: `{"list": [1, "two", 3]}`},
		{name: "into the last array element", input: `{"list": [1, 2, 3]}`, resultPath: Ref("$.list[-1]"), result: `"three"`, want: `{"list": [1, 2, "three"]}`},
		{name: "under an array element", input: `{"list": [{"a": 1}]}`, resultPath: Ref("$.list[0].b"), result: `2`, want: `{"list": [{"a": 1, "b": 2}]}`},
		{name: "bracket name", input: `{}`, resultPath: Ref("$['my key']"), result: `null`, want: `{"my key": null}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			input := decodeJSONValue(t, tt.input)
			got, err := SetResult(input, tt.resultPath, decodeJSONValue(t, tt.result))
			require.NoError(t, err)
			require.Equal(t, decodeJSONValue(t, tt.want), plainJSON(got))
			require.Equal(t, decodeJSONValue(t, tt.input), plainJSON(input), "SetResult changed its input")
		})
	}
}

func TestSetResultErrors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name       string
		input      string
		resultPath string
		msg        string
	}{
		{name: "through a string", input: `{"a": "s"}`, resultPath: "$.a.b", msg: `setting $.a.b: $.a is a string, not an object`},
		{name: "through null", input: `{"a": null}`, resultPath: "$.a.b", msg: `setting $.a.b: $.a is null, not an object`},
		{name: "input not an object", input: `"text"`, resultPath: "$.a", msg: `setting $.a: $ is a string, not an object`},
		{name: "member of an array", input: `{"a": [1]}`, resultPath: "$.a.b", msg: `setting $.a.b: $.a is an array, not an object`},
		{name: "index of an object", input: `{"a": {}}`, resultPath: "$.a[0]", msg: `setting $.a[0]: $.a is an object, not an array`},
		{name: "index of a missing member", input: `{}`, resultPath: "$.a[0]", msg: `setting $.a[0]: $.a is an object, not an array`},
		{name: "index out of range", input: `{"a": [1, 2]}`, resultPath: "$.a[2]", msg: `setting $.a[2]: index 2 is out of range for $.a of length 2`},
		{name: "negative index out of range", input: `{"a": [1, 2]}`, resultPath: "$.a[-3]", msg: `setting $.a[-3]: index -3 is out of range for $.a of length 2`},
		{name: "through an array element", input: `{"a": [{"b": 1}]}`, resultPath: "$.a[0].b.c", msg: `setting $.a[0].b.c: $.a[0].b is a number, not an object`},
		{name: "not a reference path", input: `{"a": [1]}`, resultPath: "$.a[*]", msg: `$.a.* is not a Reference Path into the input`},
		{name: "context path", input: `{}`, resultPath: "$$.Execution", msg: `$$.Execution is not a Reference Path into the input`},
		{name: "invalid path", input: `{}`, resultPath: "a.b", msg: `invalid path "a.b": offset 0: a path starts with $`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := SetResult(decodeJSONValue(t, tt.input), Ref(tt.resultPath), "r")
			require.Nil(t, got)
			var pe *ProcessingError
			require.True(t, errors.As(err, &pe))
			require.Equal(t, ErrorResultPathMatchFailure, pe.Name)
			require.Equal(t, "ResultPath", pe.Field)
			require.Equal(t, "States.ResultPathMatchFailure: ResultPath: "+tt.msg, err.Error())
		})
	}
}

func TestSetResultUnknownSegment(t *testing.T) {
	t.Parallel()

	p := Path{Root: RootInput, Segments: []Segment{{Kind: SegmentWildcard}}}
	_, err := setResultAt(map[string]any{}, p, 0, 1)
	require.EqualError(t, err, "setting $.*: only member names and indexes can be set")
}

// productInput is the input of the Parameters example on the page
// "Manipulate parameters in Step Functions workflows".
const productInput = `{
	"comment": "Example for Parameters.",
	"product": {
		"details": {"color": "blue", "size": "small", "material": "cotton"},
		"availability": "in stock",
		"sku": "2317",
		"cost": "$23"
	}
}`

// fakeIntrinsic stands in for the engine's intrinsic function evaluator.
func fakeIntrinsic(expr string, input, context any) (any, error) {
	if strings.HasPrefix(expr, "States.Fail") {
		return nil, errors.New("boom")
	}
	return map[string]any{"expr": expr, "input": input, "context": context}, nil
}

func TestApplyTemplate(t *testing.T) {
	t.Parallel()

	ctx := decodeJSONValue(t, lookupContext)
	tests := []struct {
		name     string
		template string
		input    string
		want     string
	}{
		// "Manipulate parameters in Step Functions workflows", Parameters:
		// key-value pairs.
		{
			name: "parameters doc example",
			template: `{"comment": "Selecting what I care about.", "MyDetails": {
				"size.$": "$.product.details.size", "exists.$": "$.product.availability", "StaticValue": "foo"}}`,
			input: productInput,
			want:  `{"comment": "Selecting what I care about.", "MyDetails": {"size": "small", "exists": "in stock", "StaticValue": "foo"}}`,
		},
		// "Accessing execution data from the Context object in Step
		// Functions": accessing the Context object in JSONPath.
		{
			name: "context object doc example", template: `{"ExecutionID.$": "$$.Execution.Id"}`, input: `{}`,
			want: `{"ExecutionID": "arn:aws:states:us-east-1:123456789012:execution:stateMachineName:executionName"}`,
		},
		{name: "map item", template: `{"item.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index", "all.$": "$"}`, input: `{"x": 1}`, want: `{"item": {"color": "red"}, "index": 1, "all": {"x": 1}}`},
		{
			name:     "objects inside arrays",
			template: `{"list": [{"v.$": "$.a"}, "$.a", [{"w.$": "$.b[0]"}], 3]}`,
			input:    `{"a": "A", "b": [true]}`,
			want:     `{"list": [{"v": "A"}, "$.a", [{"w": true}], 3]}`,
		},
		{name: "indefinite path gives an array", template: `{"ids.$": "$.items[*].id"}`, input: `{"items": [{"id": 1}, {"id": 2}]}`, want: `{"ids": [1, 2]}`},
		{name: "path selects null", template: `{"n.$": "$.n"}`, input: `{"n": null}`, want: `{"n": null}`},
		{name: "literal values kept", template: `{"s": "States.Format", "n": 1.50, "b": false, "z": null}`, input: `{}`, want: `{"s": "States.Format", "n": 1.50, "b": false, "z": null}`},
		{name: "top-level array", template: `[{"a.$": "$.a"}]`, input: `{"a": 1}`, want: `[{"a": 1}]`},
		{name: "scalar template", template: `"text"`, input: `{}`, want: `"text"`},
		{
			name: "intrinsic", template: `{"greeting.$": "States.Format('Hi {}', $.name)"}`, input: `{"name": "Ann"}`,
			want: `{"greeting": {"expr": "States.Format('Hi {}', $.name)", "input": {"name": "Ann"}, "context": ` + lookupContext + `}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ApplyTemplate(json.RawMessage(tt.template), decodeJSONValue(t, tt.input), ctx, fakeIntrinsic)
			require.NoError(t, err)
			require.Equal(t, decodeJSONValue(t, tt.want), plainJSON(got))
		})
	}
}

func TestApplyTemplateErrors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name      string
		template  string
		intrinsic func(expr string, input, context any) (any, error)
		errName   string
		field     string
		msg       string
		notFound  bool
	}{
		{
			name: "missing field", template: `{"a": {"b.$": "$.missing"}}`,
			errName: ErrorParameterPathFailure, field: "a.b.$", msg: `path $.missing: no member "missing" at $.missing`, notFound: true,
		},
		{
			name: "missing context field", template: `{"x.$": "$$.Task.Token"}`,
			errName: ErrorParameterPathFailure, field: "x.$", msg: `path $$.Task.Token: no member "Task" at $$.Task`, notFound: true,
		},
		{
			name: "inside an array", template: `{"list": [1, {"v.$": "$.nope"}]}`,
			errName: ErrorParameterPathFailure, field: "list[1].v.$", msg: `path $.nope: no member "nope" at $.nope`, notFound: true,
		},
		{
			name: "after a deeper sibling", template: `{"a": {"b": {"c": [1, {"d": 2}]}}, "z": {"v.$": "$.nope"}}`,
			errName: ErrorParameterPathFailure, field: "z.v.$", msg: `path $.nope: no member "nope" at $.nope`, notFound: true,
		},
		{
			name: "in nested arrays", template: `{"m": [[0, 1], [{"v.$": "$.nope"}]]}`,
			errName: ErrorParameterPathFailure, field: "m[1][0].v.$", msg: `path $.nope: no member "nope" at $.nope`, notFound: true,
		},
		{
			name: "under a key to quote", template: `{"a b": {"v.$": "$.nope"}}`,
			errName: ErrorParameterPathFailure, field: `["a b"].v.$`, msg: `path $.nope: no member "nope" at $.nope`, notFound: true,
		},
		{
			name: "ten levels deep", template: `{"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": {"v.$": "$.nope"}}}}}}}}}}`,
			errName: ErrorParameterPathFailure, field: "a.b.c.d.e.f.g.h.i.v.$", msg: `path $.nope: no member "nope" at $.nope`, notFound: true,
		},
		{
			name: "invalid path", template: `{"v.$": "$.a["}`,
			errName: ErrorParameterPathFailure, field: "v.$", msg: `invalid path "$.a[": offset 4: unclosed '['`,
		},
		{
			name: "not a string", template: `{"v.$": 3}`,
			errName: ErrorParameterPathFailure, field: "v.$", msg: `value a number is neither a path nor an intrinsic function`,
		},
		{
			name: "plain string", template: `{"v.$": "hello"}`,
			errName: ErrorParameterPathFailure, field: "v.$", msg: `value a string is neither a path nor an intrinsic function`,
		},
		{
			name: "key clash", template: `{"v.$": "$.a", "v": 1}`,
			errName: ErrorParameterPathFailure, field: "v.$", msg: `the template also has the key "v"`,
		},
		{
			name: "no intrinsic evaluator", template: `{"id.$": "States.UUID()"}`,
			errName: ErrorIntrinsicFailure, field: "id.$", msg: `no evaluator for intrinsic function "States.UUID()"`,
		},
		{
			name: "intrinsic fails", template: `{"x": {"id.$": "States.Fail()"}}`, intrinsic: fakeIntrinsic,
			errName: ErrorIntrinsicFailure, field: "x.id.$", msg: `boom`,
		},
		{
			name: "invalid JSON", template: `{"a": `,
			errName: ErrorRuntime, msg: `decoding payload template: invalid JSON: unexpected end of JSON input`,
		},
		{
			name: "trailing data", template: `{} {}`,
			errName: ErrorRuntime, msg: `decoding payload template: invalid JSON: invalid character '{' after top-level value`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ApplyTemplate(json.RawMessage(tt.template), map[string]any{"a": "A"}, map[string]any{}, tt.intrinsic)
			require.Nil(t, got)
			var pe *ProcessingError
			require.True(t, errors.As(err, &pe))
			require.Equal(t, tt.errName, pe.Name)
			require.Equal(t, tt.field, pe.Field)
			require.EqualError(t, pe.Err, tt.msg)
			require.Equal(t, tt.notFound, errors.Is(err, ErrPathNotFound))
		})
	}
}

func TestProcessingErrorString(t *testing.T) {
	t.Parallel()

	err := &ProcessingError{Name: ErrorRuntime, Err: errors.New("x")}
	require.EqualError(t, err, "States.Runtime: x")
	err.Field = "InputPath"
	require.EqualError(t, err, "States.Runtime: InputPath: x")
}

func TestProcessInput(t *testing.T) {
	t.Parallel()

	ctx := decodeJSONValue(t, lookupContext)
	tests := []struct {
		name  string
		state State
		input string
		want  string
	}{
		// "Manipulate parameters in Step Functions workflows", InputPath.
		{
			name:  "InputPath doc example",
			state: State{Type: TypeTask, InputPath: Ref("$.dataset2")},
			input: lookupDoc,
			want:  `{"val1": "a", "val2": "b", "val3": "c"}`,
		},
		{name: "absent InputPath", state: State{Type: TypePass}, input: `{"a": 1}`, want: `{"a": 1}`},
		{name: "null InputPath", state: State{Type: TypeTask, InputPath: Discard()}, input: `{"a": 1}`, want: `{}`},
		{
			name:  "InputPath then Parameters",
			state: State{Type: TypeTask, InputPath: Ref("$.product"), Parameters: json.RawMessage(`{"size.$": "$.details.size", "id.$": "$$.Execution.Id"}`)},
			input: productInput,
			want:  `{"size": "small", "id": "arn:aws:states:us-east-1:123456789012:execution:stateMachineName:executionName"}`,
		},
		{
			name:  "null InputPath then Parameters",
			state: State{Type: TypePass, InputPath: Discard(), Parameters: json.RawMessage(`{"all.$": "$"}`)},
			input: `{"a": 1}`,
			want:  `{"all": {}}`,
		},
		{
			name:  "Map leaves Parameters to each item",
			state: State{Type: TypeMap, InputPath: Ref("$.items"), Parameters: json.RawMessage(`{"v.$": "$$.Map.Item.Value"}`)},
			input: `{"items": [1, 2]}`,
			want:  `[1, 2]`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ProcessInput(&tt.state, decodeJSONValue(t, tt.input), ctx, nil)
			require.NoError(t, err)
			require.Equal(t, decodeJSONValue(t, tt.want), plainJSON(got))
		})
	}
}

func TestProcessInputErrors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		state   State
		errName string
		field   string
	}{
		{name: "InputPath misses", state: State{Type: TypeTask, InputPath: Ref("$.missing")}, errName: ErrorRuntime, field: "InputPath"},
		{name: "InputPath invalid", state: State{Type: TypeTask, InputPath: Ref("$[")}, errName: ErrorRuntime, field: "InputPath"},
		{
			name:    "Parameters path misses",
			state:   State{Type: TypeTask, Parameters: json.RawMessage(`{"a": {"b.$": "$.missing"}}`)},
			errName: ErrorParameterPathFailure, field: "Parameters.a.b.$",
		},
		{
			name:    "Parameters invalid JSON",
			state:   State{Type: TypePass, Parameters: json.RawMessage(`{`)},
			errName: ErrorRuntime, field: "Parameters",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ProcessInput(&tt.state, map[string]any{"a": 1}, map[string]any{}, nil)
			require.Nil(t, got)
			var pe *ProcessingError
			require.True(t, errors.As(err, &pe))
			require.Equal(t, tt.errName, pe.Name)
			require.Equal(t, tt.field, pe.Field)
		})
	}
}

func TestProcessItem(t *testing.T) {
	t.Parallel()

	ctx := decodeJSONValue(t, lookupContext)
	input := decodeJSONValue(t, `{"shared": "s", "items": [{"color": "red"}]}`)
	item := decodeJSONValue(t, `{"color": "red"}`)
	tests := []struct {
		name  string
		state State
		want  string
	}{
		{name: "no selector", state: State{Type: TypeMap}, want: `{"color": "red"}`},
		{
			name:  "ItemSelector",
			state: State{Type: TypeMap, ItemSelector: json.RawMessage(`{"shared.$": "$.shared", "value.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index"}`)},
			want:  `{"shared": "s", "value": {"color": "red"}, "index": 1}`,
		},
		{
			name:  "legacy Parameters",
			state: State{Type: TypeMap, Parameters: json.RawMessage(`{"c.$": "$$.Map.Item.Value.color"}`)},
			want:  `{"c": "red"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ProcessItem(&tt.state, input, item, ctx, nil)
			require.NoError(t, err)
			require.Equal(t, decodeJSONValue(t, tt.want), plainJSON(got))
		})
	}

	t.Run("error names the field", func(t *testing.T) {
		t.Parallel()
		st := State{Type: TypeMap, ItemSelector: json.RawMessage(`{"v.$": "$.nope"}`)}
		_, err := ProcessItem(&st, input, item, ctx, nil)
		var pe *ProcessingError
		require.True(t, errors.As(err, &pe))
		require.Equal(t, ErrorParameterPathFailure, pe.Name)
		require.Equal(t, "ItemSelector.v.$", pe.Field)
	})
}

func TestProcessOutput(t *testing.T) {
	t.Parallel()

	ctx := decodeJSONValue(t, lookupContext)
	tests := []struct {
		name     string
		state    State
		rawInput string
		result   string
		want     string
	}{
		// "Specifying state output using ResultPath in Step Functions".
		{name: "ResultPath doc example", state: State{Type: TypeTask, ResultPath: Ref("$.taskresult")}, rawInput: resultPathInput, result: `"Hello, Step Functions!"`,
			want: `{"comment": "This is a test", "details": "Default example", "who": "Step Functions", "taskresult": "Hello, Step Functions!"}`},
		// Adapted from the ResultSelector example on "Manipulate
		// parameters in Step Functions workflows".
		{
			name: "ResultSelector then ResultPath",
			state: State{Type: TypeTask, ResultSelector: json.RawMessage(`{"ClusterId.$": "$.output.ClusterId", "ResourceType.$": "$.resourceType"}`),
				ResultPath: Ref("$.EMROutput")},
			rawInput: `{"OtherDataFromInput": {}}`,
			result:   `{"resourceType": "elasticmapreduce", "resource": "createCluster.sync", "output": {"ClusterId": "AKIAIOSFODNN7EXAMPLE"}}`,
			want:     `{"OtherDataFromInput": {}, "EMROutput": {"ClusterId": "AKIAIOSFODNN7EXAMPLE", "ResourceType": "elasticmapreduce"}}`,
		},
		{name: "defaults give the result", state: State{Type: TypeTask}, rawInput: `{"a": 1}`, result: `{"b": 2}`, want: `{"b": 2}`},
		{name: "null ResultPath keeps input", state: State{Type: TypeTask, ResultPath: Discard()}, rawInput: `{"a": 1}`, result: `{"b": 2}`, want: `{"a": 1}`},
		{name: "OutputPath", state: State{Type: TypeTask, ResultPath: Ref("$.r"), OutputPath: Ref("$.r.b")}, rawInput: `{"a": 1}`, result: `{"b": 2}`, want: `2`},
		{name: "null OutputPath", state: State{Type: TypeTask, OutputPath: Discard()}, rawInput: `{"a": 1}`, result: `{"b": 2}`, want: `{}`},
		{name: "OutputPath reads the context", state: State{Type: TypeTask, OutputPath: Ref("$$.State.Name")}, rawInput: `{}`, result: `{}`, want: `"Classify"`},
		{name: "Choice passes its effective input", state: State{Type: TypeChoice, OutputPath: Ref("$.keep")}, rawInput: `{"keep": [1], "drop": 2}`, result: `{"keep": [1], "drop": 2}`, want: `[1]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ProcessOutput(&tt.state, decodeJSONValue(t, tt.rawInput), decodeJSONValue(t, tt.result), ctx, nil)
			require.NoError(t, err)
			require.Equal(t, decodeJSONValue(t, tt.want), plainJSON(got))
		})
	}
}

func TestProcessOutputErrors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		state   State
		errName string
		field   string
	}{
		{name: "ResultSelector misses", state: State{Type: TypeTask, ResultSelector: json.RawMessage(`{"x.$": "$.nope"}`)}, errName: ErrorParameterPathFailure, field: "ResultSelector.x.$"},
		{name: "ResultPath through a scalar", state: State{Type: TypeTask, ResultPath: Ref("$.a.b")}, errName: ErrorResultPathMatchFailure, field: "ResultPath"},
		{name: "OutputPath misses", state: State{Type: TypeTask, OutputPath: Ref("$.nope")}, errName: ErrorRuntime, field: "OutputPath"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ProcessOutput(&tt.state, map[string]any{"a": 1}, map[string]any{"r": 1}, map[string]any{}, nil)
			require.Nil(t, got)
			var pe *ProcessingError
			require.True(t, errors.As(err, &pe))
			require.Equal(t, tt.errName, pe.Name)
			require.Equal(t, tt.field, pe.Field)
		})
	}
}

// BenchmarkApplyTemplate evaluates the Parameters of a compiled approval
// step, as a start of the API's benchmark workflow does: nested objects,
// an array, paths into the input and the Context Object.
func BenchmarkApplyTemplate(b *testing.B) {
	template := json.RawMessage(`{"MessageBody": {"data": {"message.$": "$.input.message"},
		"execution": {"id.$": "$$.Execution.Id", "name.$": "$$.Execution.Name", "startTime.$": "$$.Execution.StartTime"},
		"spec": {"approvers": ["support-leads"], "timeout_seconds": 3600},
		"step": {"attempt.$": "$$.State.RetryCount", "enteredTime.$": "$$.State.EnteredTime", "id": "approve", "kind": "approval"},
		"taskToken.$": "$$.Task.Token", "version": 1}, "QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/approvals"}`)
	// The engine's values: decoded into Objects, as it holds them.
	input, err := DecodeJSON([]byte(`{"input": {"message": "load"}}`))
	require.NoError(b, err)
	context, err := DecodeJSON([]byte(`{"Execution": {"Id": "arn:aws:states:us-east-1:123456789012:execution:reply:e1", "Name": "e1",
		"StartTime": "2026-12-07T01:00:00Z"}, "State": {"RetryCount": 0, "EnteredTime": "2026-12-07T01:00:00Z"}, "Task": {"Token": "token"}}`))
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ApplyTemplate(template, input, context, nil); err != nil {
			b.Fatal(err)
		}
	}
}

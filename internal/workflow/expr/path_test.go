package expr

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func parsePath(t *testing.T, src string) Path {
	t.Helper()
	n, err := Parse(src)
	require.NoError(t, err)
	p, ok := n.(Path)
	require.True(t, ok, "%s is not a path", src)
	return p
}

func TestPathJSONPath(t *testing.T) {
	t.Parallel()

	tests := []struct {
		src, str, jsonPath string
	}{
		{`input`, `input`, `$.input`},
		{`input.a.b`, `input.a.b`, `$.input.a.b`},
		{`steps.x.output.y`, `steps.x.output.y`, `$.steps.x.output.y`},
		{`input.items[0].name`, `input.items[0].name`, `$.input.items[0].name`},
		{`input["a b"]`, `input["a b"]`, `$.input['a b']`},
		{`input['plain']`, `input.plain`, `$.input.plain`},
		{`input["it's"]`, `input["it's"]`, `$.input['it\'s']`},
		{`input["back\\slash"]`, `input["back\\slash"]`, `$.input['back\\slash']`},
		{`input["a\"b"]`, `input["a\"b"]`, `$.input['a"b']`},
		{`input["1st"]`, `input["1st"]`, `$.input['1st']`},
		{`input["日本"]`, `input["日本"]`, `$.input['日本']`},
		{`steps.lookup-customer.output.first-name`, `steps.lookup-customer.output.first-name`, `$.steps['lookup-customer'].output['first-name']`},
		{`input._x9`, `input._x9`, `$.input._x9`},
		{`context.execution.id`, `context.execution.id`, `$$.Execution.Id`},
		{`context.execution.name`, `context.execution.name`, `$$.Execution.Name`},
		{`context.execution.start_time`, `context.execution.start_time`, `$$.Execution.StartTime`},
		{`context.execution.role_arn`, `context.execution.role_arn`, `$$.Execution.RoleArn`},
		{`context.execution.redrive_count`, `context.execution.redrive_count`, `$$.Execution.RedriveCount`},
		{`context.state.name`, `context.state.name`, `$$.State.Name`},
		{`context.state.entered_time`, `context.state.entered_time`, `$$.State.EnteredTime`},
		{`context.state.retry_count`, `context.state.retry_count`, `$$.State.RetryCount`},
		{`context.state_machine.id`, `context.state_machine.id`, `$$.StateMachine.Id`},
		{`context.state_machine.name`, `context.state_machine.name`, `$$.StateMachine.Name`},
		{`context.task.token`, `context.task.token`, `$$.Task.Token`},
		{`context.map.item.index`, `context.map.item.index`, `$$.Map.Item.Index`},
		{`context.map.item.value`, `context.map.item.value`, `$$.Map.Item.Value`},
		{`context.map.item.value.order["line items"][1]`, `context.map.item.value.order["line items"][1]`, `$$.Map.Item.Value.order['line items'][1]`},
		{`context["execution"]['id']`, `context.execution.id`, `$$.Execution.Id`},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			p := parsePath(t, tt.src)
			require.Equal(t, tt.str, p.String())
			require.Equal(t, tt.jsonPath, p.JSONPath())
			require.Equal(t, [2]int{0, len(tt.src)}, span(p))
		})
	}
}

func TestPathJSONPathOfBuiltPaths(t *testing.T) {
	t.Parallel()

	p := Path{Root: RootContext, Segments: []Segment{{Name: "nope"}, {Index: 2, IsIndex: true}}}
	require.Equal(t, "$$.nope[2]", p.JSONPath())
	p = Path{Root: "other", Segments: []Segment{{Name: "a"}}}
	require.Equal(t, "$.other.a", p.JSONPath())
	require.Equal(t, "input[\"\xff\"]", Path{Root: RootInput, Segments: []Segment{{Name: "\xff"}}}.String())
}

func TestPathEqual(t *testing.T) {
	t.Parallel()

	tests := []struct {
		a, b string
		want bool
	}{
		{`input.a`, `input["a"]`, true},
		{`input.a[0]`, `input.a[0]`, true},
		{`input.a`, `input.a.b`, false},
		{`input.a.b`, `input.a`, false},
		{`input.a[0]`, `input.a["0"]`, false},
		{`input.a`, `steps.a`, false},
	}
	for _, tt := range tests {
		t.Run(tt.a+" "+tt.b, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, parsePath(t, tt.a).Equal(parsePath(t, tt.b)))
		})
	}
}

func TestContextType(t *testing.T) {
	t.Parallel()

	tests := []struct {
		src  string
		want Type
	}{
		{`context.execution.id`, TypeOf(String)},
		{`context.execution.start_time`, TypeOf(String)},
		{`context.state.retry_count`, TypeOf(Integer)},
		{`context.map.item.index`, TypeOf(Integer)},
		{`context.map.item.value`, Type{}},
		{`context.map.item.value.x[3]`, Type{}},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			got, ok := ContextType(parsePath(t, tt.src))
			require.True(t, ok)
			require.Equal(t, tt.want, got)
		})
	}

	_, ok := ContextType(parsePath(t, `input.execution.id`))
	require.False(t, ok)
	_, ok = ContextType(Path{Root: RootContext, Segments: []Segment{{Name: "execution"}}})
	require.False(t, ok)
}

func TestTypeString(t *testing.T) {
	t.Parallel()

	tests := []struct {
		typ  Type
		want string
	}{
		{Type{}, "any"},
		{TypeOf(Any), "any"},
		{TypeOf(Any, String), "any"},
		{TypeOf(String), "string"},
		{TypeOf(String, Null), "string or null"},
		{TypeOf(Null, Integer, Number), "number or integer or null"},
		{Type{Kinds: KindsOf(Object), Optional: true}, "optional object"},
		{TypeOf(Array, Boolean), "boolean or array"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, tt.typ.String())
		})
	}
	require.Equal(t, "Kind(99)", Kind(99).String())
	require.False(t, KindsOf(String).Has(Kind(99)))
}

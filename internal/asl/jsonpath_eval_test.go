package asl

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// decodeJSONValue decodes s the way the engine does, with json.Number.
func decodeJSONValue(t testing.TB, s string) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.UseNumber()
	var v any
	require.NoError(t, dec.Decode(&v))
	return v
}

const lookupDoc = `{
	"comment": "Example for InputPath.",
	"dataset1": {"val1": 1, "val2": 2, "val3": 3},
	"dataset2": {"val1": "a", "val2": "b", "val3": "c"},
	"a": [1, 2, 3, 4],
	"empty": [],
	"nothing": null,
	"str": "text",
	"nested": [{"id": "x", "tags": ["p", "q"]}, {"id": "y", "tags": []}, {"name": "z"}],
	"odd key": {"it's": true}
}`

const lookupContext = `{
	"Execution": {"Id": "arn:aws:states:us-east-1:123456789012:execution:stateMachineName:executionName", "Input": {"k": "v"}},
	"State": {"Name": "Classify", "RetryCount": 0},
	"Map": {"Item": {"Index": 1, "Value": {"color": "red"}}}
}`

func TestLookup(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		path string
		want string
	}{
		{name: "root", path: "$", want: lookupDoc},
		// "Manipulate parameters in Step Functions workflows", InputPath.
		{name: "InputPath doc example", path: "$.dataset2", want: `{"val1": "a", "val2": "b", "val3": "c"}`},
		// "Manipulate parameters in Step Functions workflows": a path can
		// yield a selection of values.
		{name: "slice doc example", path: "$.a[0:2]", want: `[1, 2]`},
		{name: "field", path: "$.dataset1.val2", want: `2`},
		{name: "bracket field", path: `$['odd key']["it's"]`, want: `true`},
		{name: "null member", path: "$.nothing", want: `null`},
		{name: "index", path: "$.a[1]", want: `2`},
		{name: "negative index", path: "$.a[-1]", want: `4`},
		{name: "negative index first", path: "$.a[-4]", want: `1`},
		{name: "wildcard array", path: "$.a[*]", want: `[1, 2, 3, 4]`},
		{name: "wildcard object sorted", path: "$.dataset2.*", want: `["a", "b", "c"]`},
		{name: "wildcard empty", path: "$.empty[*]", want: `[]`},
		{name: "wildcard on scalar", path: "$.str.*", want: `[]`},
		{name: "wildcard then field skips misses", path: "$.nested[*].id", want: `["x", "y"]`},
		{name: "wildcard then wildcard", path: "$.nested[*].tags[*]", want: `["p", "q"]`},
		{name: "slice open end", path: "$.a[2:]", want: `[3, 4]`},
		{name: "slice open start", path: "$.a[:1]", want: `[1]`},
		{name: "slice negative start", path: "$.a[-2:]", want: `[3, 4]`},
		{name: "slice negative end", path: "$.a[:-3]", want: `[1]`},
		{name: "slice step", path: "$.a[::2]", want: `[1, 3]`},
		{name: "slice negative step", path: "$.a[::-1]", want: `[4, 3, 2, 1]`},
		{name: "slice beyond the end", path: "$.a[3:100]", want: `[4]`},
		{name: "slice empty", path: "$.a[3:1]", want: `[]`},
		{name: "index union", path: "$.a[0,-1,9]", want: `[1, 4]`},
		{name: "name union at the end merges", path: "$.dataset1['val1','val3','missing']", want: `{"val1": 1, "val3": 3}`},
		{name: "name union inside iterates", path: "$['dataset1','dataset2'].val1", want: `[1, "a"]`},
		{name: "descendant field", path: "$..id", want: `["x", "y"]`},
		{name: "descendant index", path: "$.nested..[0]", want: `[{"id": "x", "tags": ["p", "q"]}, "p"]`},
		{name: "descendant wildcard", path: "$.nested[0]..*", want: `["x", ["p", "q"], "p", "q"]`},
		{name: "out of range below wildcard", path: "$.nested[*].tags[1]", want: `["q"]`},
		{name: "context execution id", path: "$$.Execution.Id", want: `"arn:aws:states:us-east-1:123456789012:execution:stateMachineName:executionName"`},
		{name: "context map item value", path: "$$.Map.Item.Value", want: `{"color": "red"}`},
		{name: "context map item index", path: "$$.Map.Item.Index", want: `1`},
		{name: "context root", path: "$$", want: lookupContext},
	}
	doc := decodeJSONValue(t, lookupDoc)
	ctx := decodeJSONValue(t, lookupContext)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := ParsePath(tt.path)
			require.NoError(t, err)
			got, err := Lookup(p, doc, ctx)
			require.NoError(t, err)
			require.Equal(t, decodeJSONValue(t, tt.want), plainJSON(got))
		})
	}
}

func TestLookupErrors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		path   string
		target error
		reason string
	}{
		{name: "missing field", path: "$.missing", target: ErrPathNotFound, reason: `no member "missing" at $.missing`},
		{name: "missing nested field", path: "$.dataset1.nope.deeper", target: ErrPathNotFound, reason: `no member "nope" at $.dataset1.nope`},
		{name: "field of a string", path: "$.str.x", target: ErrPathNotFound, reason: `expected an object with member "x", found a string at $.str.x`},
		{name: "field of null", path: "$.nothing.x", target: ErrPathNotFound, reason: `expected an object with member "x", found null at $.nothing.x`},
		{name: "field of an array", path: "$.a.x", target: ErrPathNotFound, reason: `expected an object with member "x", found an array at $.a.x`},
		{name: "index out of range", path: "$.a[4]", target: ErrPathNotFound, reason: `no value at $.a[4]`},
		{name: "negative index out of range", path: "$.a[-5]", target: ErrPathNotFound, reason: `no value at $.a[-5]`},
		{name: "index of an object", path: "$.dataset1[0]", target: ErrPathNotFound, reason: `expected an array, found an object at $.dataset1[0]`},
		{name: "wildcard under a missing field", path: "$.missing[*]", target: ErrPathNotFound, reason: `no member "missing" at $.missing`},
		{name: "slice of a string", path: "$.str[0:1]", target: ErrPathNotFound, reason: `expected an array, found a string at $.str[0:1]`},
		{name: "index union of an object", path: "$.dataset1[0,1]", target: ErrPathNotFound, reason: `expected an array, found an object at $.dataset1[0,1]`},
		{name: "name union of an array", path: "$.a['x','y']", target: ErrPathNotFound, reason: `expected an object, found an array at $.a['x','y']`},
		{name: "missing context field", path: "$$.Map.Item.Nope", target: ErrPathNotFound, reason: `no member "Nope" at $$.Map.Item.Nope`},
		{name: "script", path: "$.a[(@.length-1)]", target: ErrPathUnsupported, reason: "script expressions are not supported"},
		{name: "undefined variable", path: "$myVar.x", target: ErrPathNotFound, reason: "no variable named myVar at $myVar"},
	}
	doc := decodeJSONValue(t, lookupDoc)
	ctx := decodeJSONValue(t, lookupContext)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := ParsePath(tt.path)
			require.NoError(t, err)
			got, err := Lookup(p, doc, ctx)
			require.Nil(t, got)
			require.ErrorIs(t, err, tt.target)
			var pe *PathError
			require.True(t, errors.As(err, &pe))
			require.Equal(t, p.String(), pe.Path)
			require.Equal(t, tt.reason, pe.Reason)
			require.Equal(t, "path "+pe.Path+": "+tt.reason, err.Error())
		})
	}
}

func TestLookupZeroPath(t *testing.T) {
	t.Parallel()

	_, err := Lookup(Path{}, map[string]any{}, nil)
	require.ErrorIs(t, err, ErrPathUnsupported)
	require.ErrorContains(t, err, "the path has no root")

	_, err = Lookup(Path{Root: RootInput, Segments: []Segment{{Kind: SegmentKind(99)}}}, map[string]any{}, nil)
	require.ErrorIs(t, err, ErrPathNotFound)
	require.ErrorContains(t, err, "unknown segment kind 99")

	got, err := Lookup(Path{Root: RootInput, Segments: []Segment{{Kind: SegmentUnion}}}, map[string]any{}, nil)
	require.NoError(t, err)
	require.Equal(t, []any{}, got)
}

func TestSliceIndexes(t *testing.T) {
	t.Parallel()

	ip := func(i int) *int { return &i }
	const maxInt = int(^uint(0) >> 1)
	const minInt = -maxInt - 1
	tests := []struct {
		name             string
		n                int
		start, end, step *int
		want             []int
	}{
		{name: "all", n: 3, want: []int{0, 1, 2}},
		{name: "huge step", n: 3, start: ip(1), step: ip(maxInt), want: []int{1}},
		{name: "huge negative step", n: 3, step: ip(minInt), want: []int{2}},
		{name: "huge bounds", n: 3, start: ip(minInt), end: ip(maxInt), want: []int{0, 1, 2}},
		{name: "reverse bounded", n: 5, start: ip(3), end: ip(0), step: ip(-2), want: []int{3, 1}},
		{name: "zero step means one", n: 2, step: ip(0), want: []int{0, 1}},
		{name: "empty array", n: 0, step: ip(-1), want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, sliceIndexes(tt.n, tt.start, tt.end, tt.step))
		})
	}
}

func TestJSONTypeName(t *testing.T) {
	t.Parallel()

	require.Equal(t, "a boolean", JSONTypeName(true))
	require.Equal(t, "a number", JSONTypeName(json.Number("1")))
}

// FuzzLookup checks that Lookup never panics, whatever parsed path it is
// given, and that its errors are *PathError values wrapping a sentinel.
func FuzzLookup(f *testing.F) {
	for _, seed := range []string{
		"$", "$$", "$.a", "$.a[-1]", "$.a[0:2]", "$.a[::-1]", "$.a[1:3:2]", "$..id", "$..*", "$.nested[*].tags[*]",
		"$['dataset1','dataset2']", "$.a[0,2]", "$.nested[?(@.id)]", "$.a[(@.length)]", "$v.x", "$$.Map.Item.Value",
		"$.a[9223372036854775807:-9223372036854775808:-9223372036854775808]", "$..[0]", "$.str.*",
	} {
		f.Add(seed)
	}
	doc := decodeJSONValue(f, lookupDoc)
	ctx := decodeJSONValue(f, lookupContext)
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePath(s)
		if err != nil {
			return
		}
		got, err := Lookup(p, doc, ctx)
		if err != nil {
			var pe *PathError
			require.True(t, errors.As(err, &pe), "error %v is not a *PathError", err)
			require.True(t, errors.Is(err, ErrPathNotFound) || errors.Is(err, ErrPathUnsupported))
			require.Nil(t, got)
		}
	})
}

func TestLookupVariables(t *testing.T) {
	t.Parallel()
	env := Env{Context: map[string]any{"State": map[string]any{"Name": "S"}}, Vars: map[string]any{"order": map[string]any{"id": "o-1", "items": []any{"a", "b"}}}}
	for path, want := range map[string]any{"$order.id": "o-1", "$order.items[1]": "b", "$$.State.Name": "S", "$order": env.Vars["order"]} {
		p, err := ParsePath(path)
		require.NoError(t, err)
		got, err := Lookup(p, nil, env)
		require.NoError(t, err, path)
		require.Equal(t, want, got, path)
	}
	out, err := ApplyTemplate([]byte(`{"id.$": "$order.id", "n.$": "States.ArrayLength($order.items)"}`), nil, env, func(expr string, input, context any) (any, error) {
		c, err := ParseIntrinsic(expr)
		if err != nil {
			return nil, err
		}
		return EvalIntrinsic(c, func(path string) (any, bool, error) {
			p, err := ParsePath(path)
			if err != nil {
				return nil, false, err
			}
			v, err := Lookup(p, input, context)
			return v, err == nil, nil
		}, IntrinsicEffects{})
	})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"id": "o-1", "n": json.Number("2")}, plainJSON(out))
}

// membersDoc is the input and Context Object lookupMembers is held to
// lookupNodes over: Objects as the engine decodes them, a map as a caller
// may pass, arrays, scalars and null on the way.
const membersDoc = `{"a": {"b": {"c": 1}, "arr": [1, {"x": 2}], "n": 3, "nul": null, "s": "t", "b c": true},
	"m": {"k": "v"}, "": {"": 0}}`

// FuzzLookupMembers: for a path of member names alone, the quick
// evaluation gives the general one's value, or its error, word for word;
// every other path is left to the general one.
func FuzzLookupMembers(f *testing.F) {
	for _, p := range []string{"$", "$.a", "$.a.b", "$.a.b.c", "$.a.b.c.d", "$.x", "$.a.x", "$.a.arr.x", "$.a.n.x",
		"$.a.nul.x", "$.a.s.x", "$['a']['b c']", "$.m.k", "$.m.k.z", "$[''].['']", "$$.Execution.Id", "$$.x",
		"$.a.arr[1].x", "$..c", "$.a.*", "$.a['b','n']", "$.a.arr[?(@.x == 2)]", "$v.a", "$.a.b.c.$", "$.map.k.j", "$.map.arr.x", "$.map.z"} {
		f.Add(p)
	}
	input, err := DecodeJSON([]byte(membersDoc))
	require.NoError(f, err)
	// A map[string]any inside the Objects, as callers build values too.
	input.(*Object).Set("map", map[string]any{"k": map[string]any{"j": 1}, "arr": []any{1}})
	context, err := DecodeJSON([]byte(`{"Execution": {"Id": "arn:aws:states:us-east-1:123456789012:execution:m:e"}}`))
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePath(s)
		if err != nil {
			return
		}
		root := input
		if p.Root == RootContext {
			root = context
		}
		got, handled, gotErr := lookupMembers(p, root)
		if !handled {
			return
		}
		want, wantErr := lookupNodes(p, root, input, context, nil)
		if wantErr != nil {
			require.Error(t, gotErr, "path %s", s)
			require.Equal(t, wantErr.Error(), gotErr.Error(), "path %s", s)
			require.Equal(t, errors.Is(wantErr, ErrPathNotFound), errors.Is(gotErr, ErrPathNotFound), "path %s", s)
			return
		}
		require.NoError(t, gotErr, "path %s", s)
		require.Equal(t, want, got, "path %s", s)
	})
}

// TestLookupMembersTakesMemberPathsOnly: the quick evaluation takes a
// path of member names and leaves every other kind of segment to the
// general one.
func TestLookupMembersTakesMemberPathsOnly(t *testing.T) {
	t.Parallel()
	input := decodeJSONValue(t, membersDoc)
	for s, handled := range map[string]bool{"$": true, "$.a.b.c": true, "$['a']['b c']": true, "$.a.x": true,
		"$.a.arr[1]": false, "$..c": false, "$.a.*": false, "$.a['b','n']": false, "$.a.arr[0:1]": false, "$.a.arr[?(@.x == 2)]": false} {
		p, err := ParsePath(s)
		require.NoError(t, err, s)
		_, got, _ := lookupMembers(p, input)
		require.Equal(t, handled, got, s)
	}
}

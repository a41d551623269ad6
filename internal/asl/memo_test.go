package asl

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseIntrinsicSharedIsParseIntrinsicRemembered(t *testing.T) {
	t.Parallel()

	const expr = "States.Format('{} of {}', States.ArrayGetItem($.items, 0), $$.Execution.Id)"
	want, err := ParseIntrinsic(expr)
	require.NoError(t, err)

	first, err := ParseIntrinsicShared(expr)
	require.NoError(t, err)
	require.Equal(t, want, first)
	again, err := ParseIntrinsicShared(expr)
	require.NoError(t, err)
	require.Same(t, &first.Args[0], &again.Args[0], "the second parse is the remembered one")

	// Evaluating the shared call leaves it as it was, so every execution
	// evaluates the same function.
	resolve := func(path string) (any, bool, error) {
		p, err := ParsePathShared(path)
		if err != nil {
			return nil, false, err
		}
		v, err := Lookup(p, map[string]any{"items": []any{"first", "second"}}, map[string]any{"Execution": map[string]any{"Id": "arn:x"}})
		return v, err == nil, err
	}
	for range 2 {
		got, err := EvalIntrinsic(again, resolve, IntrinsicEffects{})
		require.NoError(t, err)
		require.Equal(t, "first of arn:x", got)
	}
	require.Equal(t, want, again)
}

func TestParseIntrinsicSharedDoesNotRememberErrors(t *testing.T) {
	t.Parallel()

	const expr = "States.Format('{}', $.a"
	_, want := ParseIntrinsic(expr)
	require.Error(t, want)
	for range 2 {
		_, err := ParseIntrinsicShared(expr)
		require.EqualError(t, err, want.Error())
	}
	_, ok := intrinsicMemo.get(expr)
	require.False(t, ok)
}

func TestParsePathSharedIsParsePath(t *testing.T) {
	t.Parallel()

	for _, s := range []string{"$.a.b[0]", "$$.Task.Token", "$var.x"} {
		want, err := ParsePath(s)
		require.NoError(t, err)
		got, err := ParsePathShared(s)
		require.NoError(t, err)
		require.Equal(t, want.String(), got.String(), s)
		wantJSON, err := json.Marshal(want.Segments)
		require.NoError(t, err)
		gotJSON, err := json.Marshal(got.Segments)
		require.NoError(t, err)
		require.JSONEq(t, string(wantJSON), string(gotJSON), s)
	}
	_, err := ParsePathShared("a.b")
	require.Error(t, err)
}

package asl

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzJSONata checks that an expression never brings the process down
// (a panic of the library, a recursion that never ends): it is refused
// when the definition is checked, or it evaluates to a JSON value, or it
// fails with a *JSONataError.
func FuzzJSONata(f *testing.F) {
	for _, seed := range []string{
		"$states.input.a", "$sum($states.input.items.(price * quantity))", "$states.input.items[$.p > 1].n",
		"($f := function($n){$n = 0 ? 0 : 1 + $f($n - 1)}; $f(50))", "($f := function(){$f()}; $f())",
		"$partition([1,2,3], 2)", "$range(0, 10, 3)", "$hash('a', 'MD5')", "$parse('[1]')", "$string(1/3)",
		"$single([1])", "$assert(false)", "$eval('1')", "{'a': [1, 'b', null, true]}", "$x ~> $map(λ($v){$v})",
		"$replace('abc', /b+/, 'x')", "1 /* c */ + 2", "$states.context.Map.Item.Value", "'a' & 1 + 1", "[1..5]^(>$)",
		"$", "$$", "(", "{%", "$states.input.items#$i", "%.a",
	} {
		f.Add(seed)
	}
	env := JSONataEnv{
		States: map[string]any{"input": map[string]any{"a": json.Number("1"), "items": []any{map[string]any{"n": "x", "p": json.Number("2")}}}},
		Vars:   map[string]any{"x": []any{json.Number("1"), nil}},
	}
	f.Fuzz(func(t *testing.T, src string) {
		s := "{% " + src + " %}"
		if err := CheckJSONata(s); err != nil {
			return
		}
		v, err := EvalJSONataString("Output", s, env)
		if err != nil {
			var je *JSONataError
			require.True(t, errors.As(err, &je), "%T %v", err, err)
			return
		}
		_, err = json.Marshal(v)
		require.NoError(t, err)
	})
}

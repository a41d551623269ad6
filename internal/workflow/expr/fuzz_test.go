package expr

import (
	"testing"

	"github.com/stretchr/testify/require"
)

var parseSeeds = []string{
	``,
	`steps.classify.output.category == "refund" && input.amount > 100`,
	`!(exists(input.opt) && input.opt > 1) || matches(input.email, '*@example.com')`,
	`input["a b"][0].c-d != 'x\'y' && context.map.item.value.x[2] >= -1.5e3`,
	`is_null(input.a) || is_string(input.b) || is_number(input.c) || is_boolean(input.d) || is_timestamp(input.e)`,
	`"\ud83d\ude00\n\u0001" == "é"`,
	`(input.a == 1) == true`,
	`input.a < input.b < input.c`,
	`inputs.a`,
	`"unterminated`,
	`matches(input.a, "a\\*b\\\\")`,
	`context.execution.start_time > "2024-01-01T00:00:00Z"`,
	`!!input.flag`,
}

var templateSeeds = []string{
	``,
	`Classify this message: {{ input.message }} (customer {{ steps.lookup.output.name }})`,
	`{{ steps.obj.output }}`,
	`\{{ literal }} {{input["}}"]}}`,
	`a\\{{input.a}}`,
	`{{ input.a`,
	`{{ }}`,
	`{{ input.a == 1 }}`,
	"{{\n context.map.item.value[0] \n}}{{ input.b }}",
}

func FuzzParse(f *testing.F) {
	for _, s := range parseSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		n, err := Parse(src)
		if err != nil {
			require.Nil(t, n)
			var serr *SyntaxError
			require.ErrorAs(t, err, &serr)
			require.GreaterOrEqual(t, serr.Offset, 0)
			require.LessOrEqual(t, serr.Offset, len(src))
			require.NotEmpty(t, serr.Msg)
			return
		}
		checkSpans(t, n, 0, len(src))

		s := n.String()
		again, err := Parse(s)
		require.NoError(t, err, "reparsing %q", s)
		require.Equal(t, stripNode(n), stripNode(again), "reparsing %q", s)
		require.Equal(t, s, again.String())

		for _, p := range Paths(n) {
			checkSpans(t, p, 0, len(src))
			require.NotEmpty(t, p.JSONPath())
		}
		for _, env := range []Env{testEnv, mapEnv{}} {
			_, errs := Check(n, env)
			for _, e := range errs {
				require.LessOrEqual(t, 0, e.Start)
				require.LessOrEqual(t, e.Start, e.End)
				require.LessOrEqual(t, e.End, len(src))
				require.NotEmpty(t, e.Msg)
			}
		}
	})
}

func FuzzParseTemplate(f *testing.F) {
	for _, s := range templateSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		tpl, err := ParseTemplate(src)
		if err != nil {
			var serr *SyntaxError
			require.ErrorAs(t, err, &serr)
			require.GreaterOrEqual(t, serr.Offset, 0)
			require.LessOrEqual(t, serr.Offset, len(src))
			require.NotEmpty(t, serr.Msg)
			return
		}
		// The parts tile the source.
		at := 0
		for i, part := range tpl.Parts {
			require.Equal(t, at, part.Start)
			require.Less(t, part.Start, part.End)
			if part.IsPath {
				checkSpans(t, part.Path, part.Start, part.End)
			} else if i > 0 {
				require.True(t, tpl.Parts[i-1].IsPath, "two text parts in a row")
			}
			at = part.End
		}
		require.Equal(t, len(src), at)

		s := tpl.String()
		again, err := ParseTemplate(s)
		require.NoError(t, err, "reparsing %q", s)
		require.Equal(t, stripTemplate(tpl), stripTemplate(again), "reparsing %q", s)
		require.Equal(t, s, again.String())

		for _, e := range CheckTemplate(tpl, testEnv) {
			require.LessOrEqual(t, 0, e.Start)
			require.LessOrEqual(t, e.Start, e.End)
			require.LessOrEqual(t, e.End, len(src))
		}
	})
}

// checkSpans checks that n and its children have spans inside [lo, hi],
// each child inside its parent.
func checkSpans(t *testing.T, n Node, lo, hi int) {
	t.Helper()
	start, end := n.Span()
	require.LessOrEqual(t, lo, start, "%s", n)
	require.LessOrEqual(t, start, end, "%s", n)
	require.LessOrEqual(t, end, hi, "%s", n)
	switch n := n.(type) {
	case *Binary:
		checkSpans(t, n.X, start, n.OpStart)
		checkSpans(t, n.Y, n.OpStart+len(n.Op.String()), end)
	case *Not:
		checkSpans(t, n.X, start+1, end)
	case *Paren:
		checkSpans(t, n.X, start+1, end-1)
	case *Call:
		checkSpans(t, n.Path, start, end)
		if n.Pattern != nil {
			checkSpans(t, n.Pattern, n.Path.End, end)
		}
	}
}

func TestSeedsParse(t *testing.T) {
	t.Parallel()

	// The seeds hold both valid and invalid sources; make sure some of
	// each, so that the fuzzers start from both sides.
	var ok, bad int
	for _, s := range parseSeeds {
		if _, err := Parse(s); err != nil {
			bad++
		} else {
			ok++
		}
	}
	require.Positive(t, ok)
	require.Positive(t, bad)
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	src := `steps.classify.output.category == "refund" && input.amount > 100 || !exists(steps.lookup.output.name)`
	for b.Loop() {
		if _, err := Parse(src); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseTemplate(b *testing.B) {
	b.ReportAllocs()
	src := `Classify this message: {{ input.message }} (customer {{ steps.lookup.output.name }})`
	for b.Loop() {
		if _, err := ParseTemplate(src); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheck(b *testing.B) {
	b.ReportAllocs()
	n, err := Parse(`steps.classify.output.category == "refund" && input.amount > 100 || exists(input.opt) && input.opt < 3`)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, errs := Check(n, testEnv); len(errs) != 0 {
			b.Fatal(errs)
		}
	}
}

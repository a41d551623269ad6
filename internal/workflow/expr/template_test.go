package expr

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func text(s string, start, end int) Part { return Part{Text: s, Start: start, End: end} }

func pathPart(t *testing.T, src string, start, end, pathStart int) Part {
	t.Helper()
	p := parsePath(t, src)
	p.Start, p.End = pathStart, pathStart+len(src)
	return Part{Path: p, IsPath: true, Start: start, End: end}
}

func TestParseTemplate(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		src    string
		want   func(t *testing.T) []Part
		single bool
		canon  string
	}{
		{
			name: "empty",
			src:  "",
			want: func(*testing.T) []Part { return nil },
		},
		{
			name:  "text only",
			src:   "hello } { }} world",
			want:  func(*testing.T) []Part { return []Part{text("hello } { }} world", 0, 18)} },
			canon: "hello } { }} world",
		},
		{
			name:   "single path",
			src:    "{{ input.a }}",
			want:   func(t *testing.T) []Part { return []Part{pathPart(t, "input.a", 0, 13, 3)} },
			single: true,
			canon:  "{{ input.a }}",
		},
		{
			name:   "single path without spaces",
			src:    "{{steps.x.output}}",
			want:   func(t *testing.T) []Part { return []Part{pathPart(t, "steps.x.output", 0, 18, 2)} },
			single: true,
			canon:  "{{ steps.x.output }}",
		},
		{
			name:   "single path with newlines inside the braces",
			src:    "{{\n  input.a\n}}",
			want:   func(t *testing.T) []Part { return []Part{pathPart(t, "input.a", 0, 15, 5)} },
			single: true,
			canon:  "{{ input.a }}",
		},
		{
			name:  "space outside makes it text",
			src:   " {{ input.a }}",
			want:  func(t *testing.T) []Part { return []Part{text(" ", 0, 1), pathPart(t, "input.a", 1, 14, 4)} },
			canon: " {{ input.a }}",
		},
		{
			name:  "trailing newline makes it text",
			src:   "{{ input.a }}\n",
			want:  func(t *testing.T) []Part { return []Part{pathPart(t, "input.a", 0, 13, 3), text("\n", 13, 14)} },
			canon: "{{ input.a }}\n",
		},
		{
			name: "mixed",
			src:  "Classify this message: {{ input.message }} (customer {{ steps.lookup.output.name }})",
			want: func(t *testing.T) []Part {
				return []Part{
					text("Classify this message: ", 0, 23),
					pathPart(t, "input.message", 23, 42, 26),
					text(" (customer ", 42, 53),
					pathPart(t, "steps.lookup.output.name", 53, 83, 56),
					text(")", 83, 84),
				}
			},
			canon: "Classify this message: {{ input.message }} (customer {{ steps.lookup.output.name }})",
		},
		{
			name: "adjacent paths",
			src:  "{{input.a}}{{input.b}}",
			want: func(t *testing.T) []Part {
				return []Part{pathPart(t, "input.a", 0, 11, 2), pathPart(t, "input.b", 11, 22, 13)}
			},
			canon: "{{ input.a }}{{ input.b }}",
		},
		{
			name:  "escaped braces",
			src:   `\{{ input.a }} is literal`,
			want:  func(*testing.T) []Part { return []Part{text("{{ input.a }} is literal", 0, 25)} },
			canon: `\{{ input.a }} is literal`,
		},
		{
			name: "escape next to a path",
			src:  `\{{{{ input.a }}`,
			want: func(t *testing.T) []Part {
				return []Part{text("{{", 0, 3), pathPart(t, "input.a", 3, 16, 6)}
			},
			canon: `\{{{{ input.a }}`,
		},
		{
			name:  "backslash before an escape",
			src:   `a\\{{input.a}}`,
			want:  func(*testing.T) []Part { return []Part{text(`a\{{input.a}}`, 0, 14)} },
			canon: `a\\{{input.a}}`,
		},
		{
			name:  "other backslashes are literal",
			src:   `C:\path\{x}`,
			want:  func(*testing.T) []Part { return []Part{text(`C:\path\{x}`, 0, 11)} },
			canon: `C:\path\{x}`,
		},
		{
			name:   "quoted key holding braces",
			src:    `{{ input["}}"] }}`,
			want:   func(t *testing.T) []Part { return []Part{pathPart(t, `input["}}"]`, 0, 17, 3)} },
			single: true,
			canon:  `{{ input["}}"] }}`,
		},
		{
			name:   "context path",
			src:    `{{ context.map.item.value }}`,
			want:   func(t *testing.T) []Part { return []Part{pathPart(t, "context.map.item.value", 0, 28, 3)} },
			single: true,
			canon:  `{{ context.map.item.value }}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tpl, err := ParseTemplate(tt.src)
			require.NoError(t, err)
			require.Equal(t, tt.want(t), tpl.Parts)

			p, single := tpl.Single()
			require.Equal(t, tt.single, single)
			if single {
				require.Equal(t, tpl.Parts[0].Path, p)
			}
			require.Equal(t, tt.canon, tpl.String())

			again, err := ParseTemplate(tpl.String())
			require.NoError(t, err)
			require.Equal(t, stripTemplate(tpl), stripTemplate(again))
		})
	}
}

func TestTemplateLiteralAndPaths(t *testing.T) {
	t.Parallel()

	tpl, err := ParseTemplate(`plain \{{ text`)
	require.NoError(t, err)
	s, ok := tpl.Literal()
	require.True(t, ok)
	require.Equal(t, "plain {{ text", s)
	require.Empty(t, tpl.Paths())

	tpl, err = ParseTemplate("")
	require.NoError(t, err)
	s, ok = tpl.Literal()
	require.True(t, ok)
	require.Empty(t, s)

	tpl, err = ParseTemplate(`{{ input.a }} and {{ steps.b.output }} and {{ input.a }}`)
	require.NoError(t, err)
	_, ok = tpl.Literal()
	require.False(t, ok)
	var got []string
	for _, p := range tpl.Paths() {
		got = append(got, p.String())
	}
	require.Equal(t, []string{"input.a", "steps.b.output", "input.a"}, got)
}

func TestParseTemplateErrors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		src    string
		offset int
		msg    string
		hint   string
	}{
		{`Hello {{ input.name`, 6, `unclosed "{{"`, `close it with "}}", or write \{{ for literal braces`},
		{`{{ input.a }} {{`, 14, `unclosed "{{"`, `close it with "}}", or write \{{ for literal braces`},
		{`a {{ }} b`, 2, `empty "{{ }}"`, "put a path inside, like {{ input.name }}"},
		{`{{}}`, 0, `empty "{{ }}"`, "put a path inside, like {{ input.name }}"},
		{`{{ input.a == 1 }}`, 11, `expected "}}" after input.a, got "=="`, templateHint},
		{`{{ input.a input.b }}`, 11, `expected "}}" after input.a, got "input"`, templateHint},
		{`{{ input.a }`, 0, `unclosed "{{"`, `close it with "}}", or write \{{ for literal braces`},
		{`{{ exists(input.a) }}`, 3, `expected a path, got "exists"`, templateHint},
		{`{{ true }}`, 3, `expected a path, got "true"`, templateHint},
		{`{{ "x" }}`, 3, `expected a path, got a string`, templateHint},
		{`{{ 1 }}`, 3, `expected a path, got "1"`, templateHint},
		{`x {{ inputs.a }}`, 5, `unknown root "inputs"; a path starts with input, steps or context`, `did you mean "input"?`},
		{`{{ input. }}`, 9, `expected a field name after "."`, `write a name with other characters as ["..."]`},
		{`{{ steps }}`, 8, `expected a step name after "steps"`, "write the id of a step, like steps.classify.output"},
		{`{{ context.nope }}`, 3, `unknown context path "context.nope"`, "known context paths are " + strings.Join(allContextPaths(), ", ")},
		{`{{ input["a }}`, 9, "unterminated string", `close it with "`},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			_, err := ParseTemplate(tt.src)
			var serr *SyntaxError
			require.ErrorAs(t, err, &serr)
			require.Equal(t, SyntaxError{Offset: tt.offset, Msg: tt.msg, Hint: tt.hint}, *serr)
		})
	}
}

func stripTemplate(t Template) Template {
	var out Template
	for _, p := range t.Parts {
		out.Parts = append(out.Parts, Part{Text: p.Text, Path: stripPath(p.Path), IsPath: p.IsPath})
	}
	return out
}

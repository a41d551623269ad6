package asl

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParsePath(t *testing.T) {
	t.Parallel()

	field := func(name string) Segment { return Segment{Kind: SegmentField, Name: name} }
	tests := []struct {
		in        string
		want      Path
		canonical string // String(); empty means in
		reference bool
	}{
		{in: "$", want: Path{Root: RootInput}, reference: true},
		{in: "$.a.b", want: Path{Root: RootInput, Segments: []Segment{field("a"), field("b")}}, reference: true},
		{in: "$['a b']", want: Path{Root: RootInput, Segments: []Segment{field("a b")}}, reference: true},
		{in: `$["store"]`, want: Path{Root: RootInput, Segments: []Segment{field("store")}}, canonical: "$.store", reference: true},
		{in: `$['it\'s']`, want: Path{Root: RootInput, Segments: []Segment{field("it's")}}, reference: true},
		{in: "$.a[0]", want: Path{Root: RootInput, Segments: []Segment{field("a"), {Kind: SegmentIndex, Index: 0}}}, reference: true},
		{in: "$.a[-1]", want: Path{Root: RootInput, Segments: []Segment{field("a"), {Kind: SegmentIndex, Index: -1}}}, reference: true},
		{in: "$.a[0][12]", want: Path{Root: RootInput, Segments: []Segment{field("a"), {Kind: SegmentIndex}, {Kind: SegmentIndex, Index: 12}}}, reference: true},
		{in: "$.my-field.über_2", want: Path{Root: RootInput, Segments: []Segment{field("my-field"), field("über_2")}}, reference: true},
		{in: "$$", want: Path{Root: RootContext}, reference: true},
		{in: "$$.Execution.Id", want: Path{Root: RootContext, Segments: []Segment{field("Execution"), field("Id")}}, reference: true},
		{in: "$$.Map.Item.Value", want: Path{Root: RootContext, Segments: []Segment{field("Map"), field("Item"), field("Value")}}, reference: true},
		{in: "$productName", want: Path{Root: RootVariable, Variable: "productName"}, reference: true},
		{in: "$order.items[2]", want: Path{Root: RootVariable, Variable: "order", Segments: []Segment{field("items"), {Kind: SegmentIndex, Index: 2}}}, reference: true},
		{in: "$_x1", want: Path{Root: RootVariable, Variable: "_x1"}, reference: true},
		{in: "$.a.*", want: Path{Root: RootInput, Segments: []Segment{field("a"), {Kind: SegmentWildcard}}}},
		{in: "$.a[*]", want: Path{Root: RootInput, Segments: []Segment{field("a"), {Kind: SegmentWildcard}}}, canonical: "$.a.*"},
		{in: "$..author", want: Path{Root: RootInput, Segments: []Segment{{Kind: SegmentField, Name: "author", Descendant: true}}}},
		{in: "$..[0]", want: Path{Root: RootInput, Segments: []Segment{{Kind: SegmentIndex, Descendant: true}}}},
		{in: "$..*", want: Path{Root: RootInput, Segments: []Segment{{Kind: SegmentWildcard, Descendant: true}}}},
		{in: "$.a[1:3]", want: Path{Root: RootInput, Segments: []Segment{field("a"), {Kind: SegmentSlice, Start: new(1), End: new(3)}}}},
		{in: "$.a[-2:]", want: Path{Root: RootInput, Segments: []Segment{field("a"), {Kind: SegmentSlice, Start: new(-2)}}}},
		{in: "$.a[::2]", want: Path{Root: RootInput, Segments: []Segment{field("a"), {Kind: SegmentSlice, Step: new(2)}}}},
		{in: "$.a[:2:]", want: Path{Root: RootInput, Segments: []Segment{field("a"), {Kind: SegmentSlice, End: new(2)}}}, canonical: "$.a[:2]"},
		{in: "$.a[0,2]", want: Path{Root: RootInput, Segments: []Segment{field("a"), {Kind: SegmentUnion, Union: []Segment{{Kind: SegmentIndex}, {Kind: SegmentIndex, Index: 2}}}}}},
		{in: "$['a','b c']", want: Path{Root: RootInput, Segments: []Segment{{Kind: SegmentUnion, Union: []Segment{field("a"), field("b c")}}}}},
		{in: "$.books[?(@.price < 10)]", want: Path{Root: RootInput, Segments: []Segment{field("books"), {Kind: SegmentFilter, Expr: "@.price < 10"}}}},
		{in: "$.books[?(@.title == 'a)]' && (@.n > 1))]", want: Path{Root: RootInput, Segments: []Segment{field("books"), {Kind: SegmentFilter, Expr: "@.title == 'a)]' && (@.n > 1)"}}}},
		{in: "$.books[(@.length-1)]", want: Path{Root: RootInput, Segments: []Segment{field("books"), {Kind: SegmentScript, Expr: "@.length-1"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParsePath(tt.in)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.reference, got.IsReference())
			canonical := tt.canonical
			if canonical == "" {
				canonical = tt.in
			}
			require.Equal(t, canonical, got.String())
			again, err := ParsePath(got.String())
			require.NoError(t, err)
			require.Equal(t, got, again)
		})
	}
}

func TestParsePathRejects(t *testing.T) {
	t.Parallel()

	tests := []struct{ in, want string }{
		{"", "a path starts with $"},
		{"a.b", "a path starts with $"},
		{"$.", "expected a member name at the end"},
		{"$.a.", "expected a member name at the end"},
		{"$..", "expected a member name at the end"},
		{"$...a", `expected a member name, found '.'`},
		{"$.a b", `expected '.' or '[', found ' '`},
		{"$a b", `expected '.' or '[', found ' '`},
		{"$1", "expected a variable name"},
		{"$ ", "expected a variable name"},
		{"$$$", `expected '.' or '[', found '$'`},
		{"$[", "unclosed '['"},
		{"$[0", "unclosed '['"},
		{"$[]", "empty brackets"},
		{"$[-]", "expected digits after '-'"},
		{"$[x]", `unexpected 'x' in brackets`},
		{"$[ 0]", `unexpected ' ' in brackets`},
		{"$['a", "unclosed quoted name"},
		{"$['a'", `expected ']' at the end`},
		{`$['a\n']`, `unknown escape \n`},
		{"$['a',]", "expected a quoted name after ','"},
		{"$[0,]", "expected an index after ','"},
		{"$[1:2:0]", "slice step must not be 0"},
		{"$[?(@.a]", "unclosed '(' in expression"},
		{"$[?@.a]", "expected '(' after '?'"},
		{"$[?()]", "empty expression"},
		{"$[99999999999999999999]", "out of range"},
		{"$.a)", `expected '.' or '[', found ')'`},
		{"$.a,b", `expected '.' or '[', found ','`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			_, err := ParsePath(tt.in)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

package pathtemplate

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, err string }{
		{"/v1/ip/{ip}/reputation", ""},
		{"/v1/items/", ""},
		{"/", ""},
		{"v1/ip", "does not start with /"},
		{"/v1?x=1", "has a query or fragment at offset 3"},
		{"/v1//ip", "has an empty segment 2"},
		{"/v1/{1ip}", "is not a parameter name"},
		{"/v1/{ip}/{ip}", "names the parameter \"ip\" twice"},
		{"/v1/ip-{ip}", "mixes a parameter with text"},
	} {
		_, err := Parse(tc.in)
		if tc.err == "" {
			require.NoError(t, err, tc.in)
			continue
		}
		require.ErrorContains(t, err, tc.err, tc.in)
	}
}

func TestMatch(t *testing.T) {
	t.Parallel()
	tp, err := Parse("/v1/ip/{ip}/reputation")
	require.NoError(t, err)
	require.Equal(t, []string{"ip"}, tp.Params())
	require.Equal(t, 3, tp.Literals())

	p, ok := tp.Match("/v1/ip/203.0.113.7/reputation?fresh=1")
	require.True(t, ok)
	require.Equal(t, map[string]string{"ip": "203.0.113.7"}, p)
	for _, miss := range []string{"/v1/ip//reputation", "/v1/ip/a/b/reputation", "/v1/ip/a", "v1/ip/a/reputation", "/v2/ip/a/reputation"} {
		_, ok := tp.Match(miss)
		require.False(t, ok, miss)
	}
}

func TestMatchSegments(t *testing.T) {
	t.Parallel()
	tp, err := Parse("/v1/ip/{ip}/reputation")
	require.NoError(t, err)
	segs := Segments([]string{"/v1/ip/", "", "/reputation"}, []bool{false, true, false})
	require.Equal(t, []Segment{{Literal: "v1"}, {Literal: "ip"}, {Unknown: true}, {Literal: "reputation"}}, segs)
	require.True(t, tp.MatchSegments(segs))
	require.True(t, tp.MatchSegments(Segments([]string{"/v1/ip/1.2.3.4/reputation?x=1"}, []bool{false})))
	require.False(t, tp.MatchSegments(Segments([]string{"/v1/", "", "/1.2.3.4/reputation"}, []bool{false, true, false})),
		"a value known at run time does not stand for a literal segment")
	require.False(t, tp.MatchSegments(Segments([]string{"/v1/ip/reputation"}, []bool{false})))
	// A segment partly filled at run time is unknown as a whole.
	require.Equal(t, []Segment{{Literal: "v1"}, {Literal: "ip-", Unknown: true}}, Segments([]string{"/v1/ip-", ""}, []bool{false, true}))
}

package semver_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/semver"
)

func TestParseAndCompare(t *testing.T) {
	t.Parallel()
	v, err := semver.Normalize("v1.4.2")
	require.NoError(t, err)
	require.Equal(t, "1.4.2", v)
	for _, bad := range []string{"1.4", "1", "latest", "1.2.3.4", "01.2.3", ""} {
		_, err := semver.Normalize(bad)
		require.ErrorContains(t, err, "is not a semantic version", bad)
	}
	require.Equal(t, -1, semver.Compare("1.9.0", "1.10.0"))
	require.Equal(t, 1, semver.Compare("1.0.0", "1.0.0-rc.1"))
	require.Equal(t, 0, semver.Compare("v1.0.0", "1.0.0"))
	require.Equal(t, -1, semver.Compare("junk", "0.0.1"))
	require.Equal(t, 1, semver.Compare("1.0.0-beta.10", "1.0.0-beta.2"))
}

// TestConstraints is the grammar and meaning a service step's version
// constraint has, for the checker and the router alike.
func TestConstraints(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		constraint string
		yes, no    []string
	}{
		{"^1.2", []string{"1.2.0", "1.9.3", "v1.2.0"}, []string{"1.1.9", "2.0.0", "1.3.0-beta.1"}},
		{"^1", []string{"1.0.0", "1.99.0"}, []string{"0.9.0", "2.0.0"}},
		{"^0.2.3", []string{"0.2.3", "0.2.9"}, []string{"0.3.0", "0.2.2"}},
		{"^0.0.3", []string{"0.0.3"}, []string{"0.0.4"}},
		{"~1.4", []string{"1.4.0", "1.4.7"}, []string{"1.5.0", "1.3.9"}},
		{"~> 1.2.3", []string{"1.2.3", "1.2.9"}, []string{"1.3.0", "1.2.2"}},
		{">=1.2 <2", []string{"1.2.0", "1.9.9"}, []string{"2.0.0", "1.1.0"}},
		{">=1.2, <2", []string{"1.5.0"}, []string{"2.1.0"}},
		{"1.x", []string{"1.0.0", "1.7.2"}, []string{"2.0.0"}},
		{"*", []string{"0.1.0", "9.9.9"}, []string{"1.0.0-rc.1"}},
		{"!=1.2.3", []string{"1.2.4"}, []string{"1.2.3"}},
		{"1.2 - 1.4.5", []string{"1.2.0", "1.4.5"}, []string{"1.4.6", "1.1.0"}},
		{"^1.2 || ^3", []string{"1.5.0", "3.1.0"}, []string{"2.0.0"}},
		{">=1.0.0-beta.2", []string{"1.0.0-beta.10", "1.0.0"}, []string{"1.0.0-beta.1", "1.0.0-alpha"}},
	} {
		c, err := semver.ParseConstraint(tc.constraint)
		require.NoError(t, err, tc.constraint)
		for _, v := range tc.yes {
			require.True(t, semver.Satisfies(c, v), "%s satisfies %s", v, tc.constraint)
		}
		for _, v := range tc.no {
			require.False(t, semver.Satisfies(c, v), "%s does not satisfy %s", v, tc.constraint)
		}
		require.False(t, semver.Satisfies(c, "not a version"))
	}
	for _, tc := range []struct{ in, err string }{
		{"", "the version constraint is empty"},
		{" ", "the version constraint is empty"},
		{"latest", `"latest" is not a version constraint (such as ^1.2`},
		{">>1", `">>1" is not a version constraint`},
		{"^1.2.3.4", `"^1.2.3.4" is not a version constraint`},
	} {
		_, err := semver.ParseConstraint(tc.in)
		require.ErrorContains(t, err, tc.err, tc.in)
	}
}

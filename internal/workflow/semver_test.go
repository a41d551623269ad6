package workflow

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestVersionConstraintsReadAsTheRegistryReadsThem: the grammar and the
// meaning of Masterminds/semver v3's constraints, which the registry's
// router uses.
func TestVersionConstraintsReadAsTheRegistryReadsThem(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		constraint string
		yes, no    []string
	}{
		{"^1.2", []string{"1.2.0", "1.9.3", "v1.2.0"}, []string{"1.1.9", "2.0.0", "1.3.0-beta.1"}},
		{"^1", []string{"1.0.0", "1.99.0"}, []string{"0.9.0", "2.0.0"}},
		{"^0.2.3", []string{"0.2.3", "0.2.9"}, []string{"0.3.0", "0.2.2"}},
		{"^0.0.3", []string{"0.0.3"}, []string{"0.0.4"}},
		{"^0.0", []string{"0.0.0", "0.0.9"}, []string{"0.1.0"}},
		{"~1.4", []string{"1.4.0", "1.4.7"}, []string{"1.5.0", "1.3.9"}},
		{"~1", []string{"1.0.0", "1.8.0"}, []string{"2.0.0"}},
		{"~> 1.2.3", []string{"1.2.3", "1.2.9"}, []string{"1.3.0", "1.2.2"}},
		{">=1.2 <2", []string{"1.2.0", "1.9.9"}, []string{"2.0.0", "1.1.0"}},
		{">=1.2, <2", []string{"1.5.0"}, []string{"2.1.0"}},
		{">1.2", []string{"1.3.0"}, []string{"1.2.5"}},
		{">1", []string{"2.0.0"}, []string{"1.5.0"}},
		{"<=1.2", []string{"1.2.9", "1.1.0"}, []string{"1.3.0"}},
		{"1.x", []string{"1.0.0", "1.7.2"}, []string{"2.0.0"}},
		{"1.2.*", []string{"1.2.5"}, []string{"1.3.0"}},
		{"*", []string{"0.1.0", "9.9.9"}, []string{"1.0.0-rc.1"}},
		{"1.2.3", []string{"1.2.3"}, []string{"1.2.4"}},
		{"=1.2.3", []string{"1.2.3"}, []string{"1.2.4"}},
		{"!=1.2.3", []string{"1.2.4"}, []string{"1.2.3"}},
		{"!=1.2.x", []string{"1.3.0"}, []string{"1.2.7"}},
		{"1.2 - 1.4.5", []string{"1.2.0", "1.4.5"}, []string{"1.4.6", "1.1.0"}},
		{"^1.2 || ^3", []string{"1.5.0", "3.1.0"}, []string{"2.0.0"}},
		{">=1.0.0-beta.2", []string{"1.0.0-beta.10", "1.0.0"}, []string{"1.0.0-beta.1", "1.0.0-alpha"}},
	} {
		vc, err := parseVersionConstraint(tc.constraint)
		require.NoError(t, err, tc.constraint)
		for _, v := range tc.yes {
			require.True(t, vc.check(v), "%s satisfies %s", v, tc.constraint)
		}
		for _, v := range tc.no {
			require.False(t, vc.check(v), "%s does not satisfy %s", v, tc.constraint)
		}
	}
	for _, tc := range []struct{ in, err string }{
		{"", "the version constraint is empty"},
		{"latest", `"latest" is not a version comparison`},
		{"^1.2.3.4", `"^1.2.3.4" is not a version comparison`},
		{">=1.2 <2 ||", `"" is not a version comparison`},
		{"~>1.x2", `"~>1.x2" is not a version comparison`},
		{"^99999999999999999999", `has a number too large for a version`},
		{"1.2.3-01", `has a prerelease part "01" that starts with 0`},
	} {
		_, err := parseVersionConstraint(tc.in)
		require.ErrorContains(t, err, tc.err, tc.in)
	}
}

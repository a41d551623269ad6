// Package semver is aiflow's one reading of semantic versions and version
// constraints: the registry normalises and orders services' versions with
// it, the router picks the version a service step's constraint allows,
// and the type checker types the step by the same versions. It wraps
// github.com/Masterminds/semver/v3, so the constraint grammar is that
// library's: "^1.2", "~1.4", ">=1.2 <2" (or with a comma), "1.x",
// "1.2 - 1.4.5", alternatives separated by "||"; a pre-release satisfies
// only a comparison that names a pre-release.
package semver

import (
	"fmt"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// Version is a parsed semantic version.
type Version = semver.Version

// Constraint is a parsed version constraint.
type Constraint = semver.Constraints

// Parse reads a semantic version strictly: MAJOR.MINOR.PATCH, with an
// optional leading v, pre-release and build; 1.4 is not a version. The
// error says what is wrong.
func Parse(s string) (*Version, error) {
	v, err := semver.StrictNewVersion(strings.TrimPrefix(s, "v"))
	if err != nil {
		return nil, fmt.Errorf("%q is not a semantic version (MAJOR.MINOR.PATCH, such as 1.4.2): %w", s, err)
	}
	return v, nil
}

// Normalize returns a version in its one spelling (v1.4.2 is 1.4.2), or
// Parse's error.
func Normalize(s string) (string, error) {
	v, err := Parse(s)
	if err != nil {
		return "", err
	}
	return v.String(), nil
}

// Compare orders two versions by precedence: -1 when a comes before b, 0
// when they are equal, +1 when a comes after. A version that does not
// parse comes before every one that does, and two that do not parse
// compare as strings, so sorting by it is total.
func Compare(a, b string) int {
	va, errA := Parse(a)
	vb, errB := Parse(b)
	switch {
	case errA != nil && errB != nil:
		return strings.Compare(a, b)
	case errA != nil:
		return -1
	case errB != nil:
		return 1
	}
	return va.Compare(vb)
}

// ParseConstraint reads a version constraint. An empty one is an error
// (callers that take "none" as "any" do not call it). The error says
// what is wrong and shows the forms a constraint takes.
func ParseConstraint(s string) (*Constraint, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("the version constraint is empty")
	}
	c, err := semver.NewConstraint(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a version constraint (such as ^1.2, ~1.4, >=1.2 <2 or 1.x): %w", s, err)
	}
	return c, nil
}

// Satisfies reports whether version satisfies c; a version that does not
// parse satisfies none.
func Satisfies(c *Constraint, version string) bool {
	v, err := Parse(version)
	return err == nil && c.Check(v)
}

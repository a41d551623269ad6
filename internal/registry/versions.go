package registry

import (
	"fmt"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// NormalizeVersion reads a semantic version (1.4.2, or v1.4.2 read as
// 1.4.2; pre-release and build parts allowed; 1.4 is not a version) and
// returns it in its one spelling. It returns an error saying what is
// wrong.
func NormalizeVersion(s string) (string, error) {
	v, err := parseVersion(s)
	if err != nil {
		return "", err
	}
	return v.String(), nil
}

func parseVersion(s string) (*semver.Version, error) {
	v, err := semver.StrictNewVersion(strings.TrimPrefix(s, "v"))
	if err != nil {
		return nil, fmt.Errorf("%q is not a semantic version (MAJOR.MINOR.PATCH, such as 1.4.2): %w", s, err)
	}
	return v, nil
}

// CompareVersions compares two semantic versions by precedence: -1 when a
// comes before b, 0 when they are equal, +1 when a comes after. A version
// that does not parse comes before every one that does, and two that do
// not parse compare as strings, so sorting by it is total.
func CompareVersions(a, b string) int {
	va, errA := parseVersion(a)
	vb, errB := parseVersion(b)
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

// Constraint is a version constraint: "^1.2", "~1.4", ">=1.2 <2", "1.x",
// "1.2.3", or several separated by "||".
type Constraint struct {
	raw string
	c   *semver.Constraints
}

// ParseConstraint reads a version constraint; "" and "*" accept every
// version that is not a pre-release. It returns an error saying what is
// wrong with s.
func ParseConstraint(s string) (*Constraint, error) {
	raw := strings.TrimSpace(s)
	if raw == "" {
		raw = "*"
	}
	c, err := semver.NewConstraint(raw)
	if err != nil {
		return nil, fmt.Errorf("%q is not a version constraint (such as ^1.2, ~1.4, >=1.2 <2 or 1.x): %w", s, err)
	}
	return &Constraint{raw: s, c: c}, nil
}

// Check reports whether version satisfies the constraint; a version that
// does not parse satisfies none.
func (c *Constraint) Check(version string) bool {
	v, err := parseVersion(version)
	if err != nil {
		return false
	}
	return c.c.Check(v)
}

// String returns the constraint as written.
func (c *Constraint) String() string { return c.raw }

package workflow

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// A service step's version constraint is read here as the registry reads
// it (Masterminds/semver v3, which this pure package does not import):
// the same grammar, so that what the checker accepts the router accepts,
// and the same meaning, so that the versions the checker types a step by
// are the ones the router may pick.
//
// The grammar: alternatives separated by "||"; each a list of comparisons
// separated by spaces or commas, all of which must hold; a comparison is an
// operator (none, =, !=, >, <, >=, =>, <=, =<, ~, ~>, ^) and a version of
// one to three numbers, any of them x, X or * (a wildcard), with an
// optional v before, and an optional -prerelease and +build after. A range
// "1.2 - 1.4.5" stands for ">= 1.2, <= 1.4.5".

// semverPart is a version as a constraint writes it; the wildcard parts
// are the regexp's [0-9xX*] classes.
const semverPart = `v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?` +
	`(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?` +
	`(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?`

const semverOps = `=||!=|>|<|>=|=>|<=|=<|~|~>|\^`

var (
	semverOne   = regexp.MustCompile(fmt.Sprintf(`^\s*(%s)\s*(%s)\s*$`, semverOps, semverPart))
	semverRange = regexp.MustCompile(fmt.Sprintf(`\s*(%s)\s+-\s+(%s)\s*`, semverPart, semverPart))
	semverFind  = regexp.MustCompile(fmt.Sprintf(`(%s)\s*(%s)`, semverOps, semverPart))
	semverAnd   = regexp.MustCompile(fmt.Sprintf(`^(\s*(%s)\s*(%s)\s*)((?:\s+|,\s*)(%s)\s*(%s)\s*)*$`, semverOps, semverPart, semverOps, semverPart))
	// semverLoose reads a version: numbers, an optional -prerelease and
	// +build.
	semverLoose = regexp.MustCompile(`^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?` +
		`(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?` +
		`(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?$`)
)

// semver is a parsed version.
type semver struct {
	major, minor, patch uint64
	pre                 string
}

// parseSemver reads a version as the registry does: 1, 1.2 and 1.2.3 (and
// a leading v), an optional prerelease and build.
func parseSemver(s string) (semver, error) {
	m := semverLoose.FindStringSubmatch(s)
	if m == nil {
		return semver{}, fmt.Errorf("%q is not a semantic version", s)
	}
	var v semver
	var err error
	num := func(part string) uint64 {
		if part == "" || err != nil {
			return 0
		}
		var n uint64
		n, err = strconv.ParseUint(strings.TrimPrefix(part, "."), 10, 64)
		return n
	}
	v.major, v.minor, v.patch = num(m[1]), num(m[2]), num(m[3])
	if err != nil {
		return semver{}, fmt.Errorf("%q has a number too large for a version", s)
	}
	v.pre = m[5]
	if v.pre != "" {
		for _, p := range strings.Split(v.pre, ".") {
			if isDigits(p) && len(p) > 1 && p[0] == '0' {
				return semver{}, fmt.Errorf("%q has a prerelease part %q that starts with 0", s, p)
			}
		}
	}
	return v, nil
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compare orders versions by semantic version precedence.
func (v semver) compare(o semver) int {
	if d := cmpUint(v.major, o.major); d != 0 {
		return d
	}
	if d := cmpUint(v.minor, o.minor); d != 0 {
		return d
	}
	if d := cmpUint(v.patch, o.patch); d != 0 {
		return d
	}
	switch {
	case v.pre == o.pre:
		return 0
	case v.pre == "":
		return 1
	case o.pre == "":
		return -1
	}
	a, b := strings.Split(v.pre, "."), strings.Split(o.pre, ".")
	for i := range max(len(a), len(b)) {
		var x, y string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if d := comparePrePart(x, y); d != 0 {
			return d
		}
	}
	return 0
}

func comparePrePart(x, y string) int {
	switch {
	case x == y:
		return 0
	case x == "":
		return -1
	case y == "":
		return 1
	}
	xi, xerr := strconv.ParseUint(x, 10, 64)
	yi, yerr := strconv.ParseUint(y, 10, 64)
	switch {
	case xerr != nil && yerr != nil:
		if x > y {
			return 1
		}
		return -1
	case yerr != nil: // a number precedes text
		return -1
	case xerr != nil:
		return 1
	}
	return cmpUint(xi, yi)
}

// comparison is one operator and the version it compares with; a wildcard
// part (1.x, 1.2.*) or a missing one (1, 1.2) makes it dirty.
type comparison struct {
	op                            string
	v                             semver
	dirty, minorDirty, patchDirty bool
}

// versionConstraint is a parsed constraint: any of the alternatives, each
// all of its comparisons.
type versionConstraint struct {
	alts [][]comparison
	pre  []bool // whether an alternative names a prerelease
}

func isWildcard(s string) bool { return s == "x" || s == "X" || s == "*" }

// parseVersionConstraint reads a constraint, accepting what the registry
// accepts; the error says which part is wrong.
func parseVersionConstraint(s string) (*versionConstraint, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("the version constraint is empty")
	}
	s = semverRange.ReplaceAllStringFunc(s, func(r string) string {
		m := semverRange.FindStringSubmatch(r)
		return fmt.Sprintf(">= %s, <= %s ", m[1], m[11])
	})
	vc := &versionConstraint{}
	for _, alt := range strings.Split(s, "||") {
		if !semverAnd.MatchString(alt) {
			return nil, fmt.Errorf("%q is not a version comparison", strings.TrimSpace(alt))
		}
		var and []comparison
		hasPre := false
		for _, one := range semverFind.FindAllString(alt, -1) {
			m := semverOne.FindStringSubmatch(one)
			if m == nil {
				return nil, fmt.Errorf("%q is not a version comparison", strings.TrimSpace(one))
			}
			c := comparison{op: m[1]}
			ver := m[2]
			minor, patch := strings.TrimPrefix(m[4], "."), strings.TrimPrefix(m[5], ".")
			switch {
			case isWildcard(m[3]) || m[3] == "":
				ver, c.dirty = "0.0.0"+m[6], true
			case isWildcard(minor) || minor == "":
				ver, c.dirty, c.minorDirty = m[3]+".0.0"+m[6], true, true
			case isWildcard(patch) || patch == "":
				ver, c.dirty, c.patchDirty = m[3]+m[4]+".0"+m[6], true, true
			}
			if !semverLoose.MatchString(ver) {
				return nil, fmt.Errorf("%q is not a version comparison", strings.TrimSpace(one))
			}
			v, err := parseSemver(ver)
			if err != nil {
				return nil, fmt.Errorf("%q: %v", strings.TrimSpace(one), err)
			}
			c.v = v
			hasPre = hasPre || v.pre != ""
			and = append(and, c)
		}
		vc.alts = append(vc.alts, and)
		vc.pre = append(vc.pre, hasPre)
	}
	return vc, nil
}

// check reports whether version satisfies the constraint; a version that
// does not parse satisfies none. A prerelease satisfies only an
// alternative that names a prerelease.
func (vc *versionConstraint) check(version string) bool {
	v, err := parseSemver(version)
	if err != nil {
		return false
	}
	for i, and := range vc.alts {
		if v.pre != "" && !vc.pre[i] {
			continue
		}
		ok := true
		for _, c := range and {
			ok = ok && c.holds(v)
		}
		if ok {
			return true
		}
	}
	return false
}

func (c comparison) holds(v semver) bool {
	switch c.op {
	case "", "=":
		if c.dirty {
			return c.tilde(v)
		}
		return v.compare(c.v) == 0
	case "!=":
		return c.notEqual(v)
	case ">":
		switch {
		case !c.dirty:
			return v.compare(c.v) > 0
		case v.major != c.v.major:
			return v.major > c.v.major
		case c.minorDirty:
			return false
		case c.patchDirty:
			return v.minor > c.v.minor
		}
		return v.compare(c.v) > 0
	case "<":
		return v.compare(c.v) < 0
	case ">=", "=>":
		return v.compare(c.v) >= 0
	case "<=", "=<":
		switch {
		case !c.dirty:
			return v.compare(c.v) <= 0
		case v.major > c.v.major:
			return false
		case v.major == c.v.major && v.minor > c.v.minor && !c.minorDirty:
			return false
		}
		return true
	case "~", "~>":
		return c.tilde(v)
	case "^":
		return c.caret(v)
	}
	return false
}

func (c comparison) notEqual(v semver) bool {
	if c.dirty {
		switch {
		case c.v.major != v.major:
			return true
		case c.minorDirty:
			return false
		case c.v.minor != v.minor:
			return true
		case c.patchDirty:
			if v.pre != "" || c.v.pre != "" {
				return v.compare(semver{v.major, v.minor, v.patch, c.v.pre}) != 0
			}
			return false
		}
	}
	return v.compare(c.v) != 0
}

// tilde: ~1.2.3 is >=1.2.3 <1.3.0; ~1 and ~1.x are >=1.0.0 <2.0.0.
func (c comparison) tilde(v semver) bool {
	if v.compare(c.v) < 0 {
		return false
	}
	if c.v.major == 0 && c.v.minor == 0 && c.v.patch == 0 && !c.minorDirty && !c.patchDirty {
		return true
	}
	if v.major != c.v.major {
		return false
	}
	return v.minor == c.v.minor || c.minorDirty
}

// caret: ^1.2.3 is >=1.2.3 <2.0.0; ^0.2.3 is >=0.2.3 <0.3.0; ^0.0.3 is
// =0.0.3.
func (c comparison) caret(v semver) bool {
	if v.compare(c.v) < 0 {
		return false
	}
	if c.v.major > 0 || c.minorDirty {
		return v.major == c.v.major
	}
	if v.major > 0 {
		return false
	}
	if c.v.minor > 0 || c.patchDirty {
		return v.minor == c.v.minor
	}
	if v.minor > 0 {
		return false
	}
	return v.patch == c.v.patch
}

// Package pathtemplate reads the path templates of service operations
// (/v1/ip/{ip}/reputation: literal segments and {param} segments) and
// matches them: a request's path at run time (the service step, the
// registry's router), and a workflow's path template at compile time,
// whose segments the checker may not know (the type checker). It is pure,
// so the checker and the workers share one reading of a template.
package pathtemplate

import (
	"fmt"
	"strings"
)

// Template is a parsed path template.
type Template struct {
	raw  string
	segs []segment
}

type segment struct {
	lit   string
	param string // set for a {param} segment
}

// Parse reads s: it starts with "/", has no query or fragment, no empty
// segment but a trailing one ("/v1/items/" is allowed), and each {param}
// is a whole segment named by a letter or underscore and then letters,
// digits or underscores, each name once. The error says what and where.
func Parse(s string) (*Template, error) {
	if !strings.HasPrefix(s, "/") {
		return nil, fmt.Errorf("path template %q does not start with /", s)
	}
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		return nil, fmt.Errorf("path template %q has a query or fragment at offset %d; give only the path", s, i)
	}
	t := &Template{raw: s}
	seen := map[string]bool{}
	parts := strings.Split(s[1:], "/")
	for i, p := range parts {
		if p == "" {
			if i == len(parts)-1 {
				t.segs = append(t.segs, segment{lit: ""})
				continue
			}
			return nil, fmt.Errorf("path template %q has an empty segment %d", s, i+1)
		}
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
			name := p[1 : len(p)-1]
			if !isName(name) {
				return nil, fmt.Errorf("path template %q: segment %d, %q, is not a parameter name (letters, digits and underscores, not starting with a digit)", s, i+1, p)
			}
			if seen[name] {
				return nil, fmt.Errorf("path template %q names the parameter %q twice", s, name)
			}
			seen[name] = true
			t.segs = append(t.segs, segment{param: name})
			continue
		}
		if strings.ContainsAny(p, "{}") {
			return nil, fmt.Errorf("path template %q: segment %d, %q, mixes a parameter with text; a parameter is a whole segment", s, i+1, p)
		}
		t.segs = append(t.segs, segment{lit: p})
	}
	return t, nil
}

func isName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// String returns the template as written.
func (t *Template) String() string { return t.raw }

// Params returns the parameters' names in order.
func (t *Template) Params() []string {
	var out []string
	for _, s := range t.segs {
		if s.param != "" {
			out = append(out, s.param)
		}
	}
	return out
}

// Literals counts the literal segments: of two templates that match a
// path, the one with more literals is the more specific.
func (t *Template) Literals() int {
	n := 0
	for _, s := range t.segs {
		if s.param == "" {
			n++
		}
	}
	return n
}

// Match matches a request path (a query string, if any, is ignored) and
// returns the parameters' values, still escaped as they are in the path.
// A parameter matches one non-empty segment.
func (t *Template) Match(path string) (map[string]string, bool) {
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	if !strings.HasPrefix(path, "/") {
		return nil, false
	}
	parts := strings.Split(path[1:], "/")
	if len(parts) != len(t.segs) {
		return nil, false
	}
	var params map[string]string
	for i, s := range t.segs {
		switch {
		case s.param != "":
			if parts[i] == "" {
				return nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[s.param] = parts[i]
		case parts[i] != s.lit:
			return nil, false
		}
	}
	return params, true
}

// Segment is one segment of a path known only in part: the literal text,
// or Unknown when a value filled at run time makes up some of it.
type Segment struct {
	Literal string
	Unknown bool
}

// Segments splits a path whose parts are known or not: known is called
// with the text between unknown parts. It is what the checker builds from
// a workflow's path template, where each {{ expression }} is unknown.
// parts alternates known text and unknown markers: a part is unknown when
// unknown[i] is set. A segment holding any unknown part is Unknown.
func Segments(parts []string, unknown []bool) []Segment {
	var out []Segment
	cur, curUnknown := "", false
	for i, p := range parts {
		if unknown[i] {
			curUnknown = true
			continue
		}
		pieces := strings.Split(p, "/")
		for j, piece := range pieces {
			if j > 0 {
				out = append(out, Segment{Literal: cur, Unknown: curUnknown})
				cur, curUnknown = "", false
			}
			cur += piece
		}
	}
	out = append(out, Segment{Literal: cur, Unknown: curUnknown})
	// The path starts with "/": the first segment is the empty text
	// before it.
	if len(out) > 0 && out[0].Literal == "" && !out[0].Unknown {
		out = out[1:]
	}
	return out
}

// MatchSegments reports whether a path of these segments (see Segments)
// surely fits the template: each known segment equals a literal or fills
// a parameter, and each unknown segment fills a parameter (a value known
// only at run time may not stand for a literal segment). A query string
// in the last known segment is ignored.
func (t *Template) MatchSegments(segs []Segment) bool {
	if n := len(segs); n > 0 && !segs[n-1].Unknown {
		if i := strings.IndexAny(segs[n-1].Literal, "?#"); i >= 0 {
			segs = append(segs[:n-1:n-1], Segment{Literal: segs[n-1].Literal[:i]})
		}
	}
	if len(segs) != len(t.segs) {
		return false
	}
	for i, s := range t.segs {
		switch {
		case s.param != "":
			if !segs[i].Unknown && segs[i].Literal == "" {
				return false
			}
		case segs[i].Unknown || segs[i].Literal != s.lit:
			return false
		}
	}
	return true
}

package apigateway

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/aiflow/aiflow/internal/stackmodel"
)

// segmentKind orders a route's path segments by how specific they are.
type segmentKind int

const (
	literal segmentKind = iota // /pets
	param                      // /{id}
	greedy                     // /{proxy+}, last only
)

type segment struct {
	kind segmentKind
	// text is a literal's text, a variable's name.
	text string
}

// route is one route of the API, its path parsed.
type route struct {
	stackmodel.HTTPRoute
	// key is its routeKey: "GET /pets/{id}", or "$default".
	key      string
	anyVerb  bool
	fallback bool // $default
	segments []segment
}

func parseRoute(r stackmodel.HTTPRoute) (*route, error) {
	rt := &route{HTTPRoute: r}
	if r.Path == "$default" {
		rt.key, rt.fallback = "$default", true
		return rt, nil
	}
	if r.Method == "" {
		return nil, fmt.Errorf("route %s of function %s has no method", r.Path, r.Function)
	}
	rt.key = r.Method + " " + r.Path
	rt.anyVerb = r.Method == "ANY"
	if !strings.HasPrefix(r.Path, "/") {
		return nil, fmt.Errorf("route %s: the path does not start with /", rt.key)
	}
	parts := strings.Split(r.Path[1:], "/")
	for i, p := range parts {
		switch {
		case strings.HasPrefix(p, "{") && strings.HasSuffix(p, "+}"):
			if i != len(parts)-1 {
				return nil, fmt.Errorf("route %s: the greedy variable %s is not the last segment", rt.key, p)
			}
			rt.segments = append(rt.segments, segment{kind: greedy, text: p[1 : len(p)-2]})
		case strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}"):
			if len(p) == 2 {
				return nil, fmt.Errorf("route %s: a path variable has no name", rt.key)
			}
			rt.segments = append(rt.segments, segment{kind: param, text: p[1 : len(p)-1]})
		case strings.ContainsAny(p, "{}"):
			return nil, fmt.Errorf("route %s: the segment %s mixes text and a variable, which HTTP APIs do not allow", rt.key, p)
		default:
			rt.segments = append(rt.segments, segment{kind: literal, text: p})
		}
	}
	return rt, nil
}

// match reports whether the route takes a request for method and the
// path's segments (unescaped), and the path parameters it binds.
func (rt *route) match(method string, segs []string) (map[string]string, bool) {
	if rt.fallback {
		return nil, true
	}
	if !rt.anyVerb && rt.Method != method {
		return nil, false
	}
	var params map[string]string
	for i, s := range rt.segments {
		if s.kind == greedy {
			rest := strings.Join(segs[min(i, len(segs)):], "/")
			if rest == "" {
				return nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[s.text] = rest
			return params, true
		}
		if i >= len(segs) {
			return nil, false
		}
		switch s.kind {
		case literal:
			if segs[i] != s.text {
				return nil, false
			}
		case param:
			if segs[i] == "" {
				return nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[s.text] = segs[i]
		}
	}
	if len(segs) != len(rt.segments) {
		return nil, false
	}
	return params, true
}

// moreSpecific reports whether a beats b for a request both match, in
// API Gateway's order: a full match (text and {variables}) beats a match
// with a greedy variable, which beats $default. Among routes of one kind,
// the first segment where they differ decides (text beats a variable,
// which beats a greedy variable), then a method beats ANY.
func moreSpecific(a, b *route) bool {
	if a.fallback != b.fallback {
		return b.fallback
	}
	if ga, gb := a.greedy(), b.greedy(); ga != gb {
		return gb
	}
	for i := range min(len(a.segments), len(b.segments)) {
		if a.segments[i].kind != b.segments[i].kind {
			return a.segments[i].kind < b.segments[i].kind
		}
	}
	if len(a.segments) != len(b.segments) {
		// Only a greedy variable makes routes of a request differ in
		// length: the longer one has more before its greedy part.
		return len(a.segments) > len(b.segments)
	}
	return !a.anyVerb && b.anyVerb
}

func (rt *route) greedy() bool {
	return len(rt.segments) > 0 && rt.segments[len(rt.segments)-1].kind == greedy
}

// pathSegments splits an escaped path into unescaped segments, or false
// when it does not unescape.
func pathSegments(escaped string) ([]string, bool) {
	parts := strings.Split(strings.TrimPrefix(escaped, "/"), "/")
	for i, p := range parts {
		u, err := url.PathUnescape(p)
		if err != nil {
			return nil, false
		}
		parts[i] = u
	}
	return parts, true
}

// selectRoute returns the most specific route for the request, with its
// path parameters, or nil.
func selectRoute(routes []*route, method, escapedPath string) (*route, map[string]string) {
	segs, ok := pathSegments(escapedPath)
	if !ok {
		return nil, nil
	}
	var best *route
	var bestParams map[string]string
	for _, rt := range routes {
		params, ok := rt.match(method, segs)
		if ok && (best == nil || moreSpecific(rt, best)) {
			best, bestParams = rt, params
		}
	}
	return best, bestParams
}

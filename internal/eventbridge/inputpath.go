package eventbridge

import (
	"fmt"
	"strconv"
	"strings"
)

// pathStep is one step of an InputPath: a field name, or an array index.
type pathStep struct {
	key     string
	index   int
	isIndex bool
}

// parseInputPath parses the simple JSONPath a target's InputPath may be
// here: $, then .name, ['name'] or [n] steps. Wildcards, recursive
// descent, slices, unions and filters are refused.
func parseInputPath(p string) ([]pathStep, error) {
	if !strings.HasPrefix(p, "$") {
		return nil, fmt.Errorf("%q does not start with $", p)
	}
	steps := []pathStep{}
	rest := p[1:]
	for rest != "" {
		switch {
		case strings.HasPrefix(rest, ".."):
			return nil, fmt.Errorf("%q uses recursive descent (..); this bus takes simple paths only ($.a.b, $.a[0], $['a'])", p)
		case rest[0] == '.':
			end := strings.IndexAny(rest[1:], ".[")
			if end < 0 {
				end = len(rest) - 1
			}
			name := rest[1 : 1+end]
			if name == "" || name == "*" {
				return nil, fmt.Errorf("%q has an empty or wildcard field name; this bus takes simple paths only ($.a.b, $.a[0], $['a'])", p)
			}
			steps = append(steps, pathStep{key: name})
			rest = rest[1+end:]
		case rest[0] == '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, fmt.Errorf("%q has an unclosed [", p)
			}
			inner := rest[1:end]
			if len(inner) >= 2 && (inner[0] == '\'' || inner[0] == '"') && inner[len(inner)-1] == inner[0] {
				name := inner[1 : len(inner)-1]
				if strings.ContainsAny(name, "'\"") {
					return nil, fmt.Errorf("%q has a quoted name this bus does not read; use simple names", p)
				}
				steps = append(steps, pathStep{key: name})
			} else {
				n, err := strconv.Atoi(inner)
				if err != nil || n < 0 {
					return nil, fmt.Errorf("%q has [%s], which is not a field name or an index; this bus takes simple paths only ($.a.b, $.a[0], $['a'])", p, inner)
				}
				steps = append(steps, pathStep{index: n, isIndex: true})
			}
			rest = rest[end+1:]
		default:
			return nil, fmt.Errorf("%q is not a JSONPath ($ followed by .name, ['name'] or [n] steps)", p)
		}
	}
	return steps, nil
}

// selectPath returns the value the steps lead to in v.
func selectPath(v any, steps []pathStep) (any, bool) {
	for _, s := range steps {
		if s.isIndex {
			arr, ok := v.([]any)
			if !ok || s.index >= len(arr) {
				return nil, false
			}
			v = arr[s.index]
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[s.key]; !ok {
			return nil, false
		}
	}
	return v, true
}

package stackmodel

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// parameters computes every parameter's value: the caller's override, or
// its Default, checked against its Type, AllowedValues, AllowedPattern,
// MinLength/MaxLength and MinValue/MaxValue. List types resolve to lists.
func parameters(defs map[string]any, overrides map[string]string) (map[string]any, error) {
	for _, name := range slices.Sorted(maps.Keys(overrides)) {
		if _, ok := defs[name]; !ok {
			return nil, &Error{Path: "Parameters." + name, Err: fmt.Errorf("%s is not a parameter of the template", name)}
		}
	}
	out := map[string]any{}
	for _, name := range slices.Sorted(maps.Keys(defs)) {
		v, err := parameter(name, defs[name], overrides)
		if err != nil {
			return nil, &Error{Path: "Parameters." + name, Err: err}
		}
		out[name] = v
	}
	return out, nil
}

func parameter(name string, raw any, overrides map[string]string) (any, error) {
	def, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("a parameter is a mapping, not %s", describe(raw))
	}
	typ, _ := def["Type"].(string)
	value, given := overrides[name]
	if !given {
		d, ok := def["Default"]
		if !ok {
			return nil, fmt.Errorf("no value: the parameter has no Default, so give one")
		}
		if value, ok = scalarString(d); !ok {
			if l, isList := d.([]any); isList {
				parts := make([]string, len(l))
				for i, e := range l {
					parts[i], _ = scalarString(e)
				}
				value = strings.Join(parts, ",")
			} else {
				return nil, fmt.Errorf("the Default is %s, not a string", describe(d))
			}
		}
	}
	list := typ == "CommaDelimitedList" || strings.HasPrefix(typ, "List<")
	elemNumber := typ == "Number" || typ == "List<Number>"
	switch {
	case typ == "":
		return nil, fmt.Errorf("the parameter has no Type")
	case strings.HasPrefix(typ, "AWS::SSM::Parameter"):
		return nil, fmt.Errorf("type %s reads Systems Manager, which the local stack does not have", typ)
	case typ == "String", typ == "Number", list, strings.HasPrefix(typ, "AWS::"):
	default:
		return nil, fmt.Errorf("%s is not a parameter type", typ)
	}
	values := []string{value}
	if list {
		values = strings.Split(value, ",")
		for i := range values {
			values[i] = strings.TrimSpace(values[i])
		}
	}
	var allowed []string
	if a, ok := def["AllowedValues"].([]any); ok {
		for _, x := range a {
			s, _ := scalarString(x)
			allowed = append(allowed, s)
		}
	}
	var pattern *regexp.Regexp
	if p, ok := def["AllowedPattern"].(string); ok {
		var err error
		if pattern, err = regexp.Compile("^(?:" + p + ")$"); err != nil {
			return nil, fmt.Errorf("AllowedPattern %q: %w", p, err)
		}
	}
	for _, v := range values {
		if allowed != nil && !slices.Contains(allowed, v) {
			return nil, fmt.Errorf("%q is not one of its AllowedValues %s", v, strings.Join(allowed, ", "))
		}
		if pattern != nil && !pattern.MatchString(v) {
			return nil, fmt.Errorf("%q does not match its AllowedPattern %s", v, def["AllowedPattern"])
		}
		if elemNumber {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return nil, fmt.Errorf("%q is not a number", v)
			}
			if lim, ok := number(def["MinValue"]); ok && f < lim {
				return nil, fmt.Errorf("%s is less than its MinValue %v", v, lim)
			}
			if lim, ok := number(def["MaxValue"]); ok && f > lim {
				return nil, fmt.Errorf("%s is more than its MaxValue %v", v, lim)
			}
		} else if typ == "String" {
			if lim, ok := number(def["MinLength"]); ok && float64(len(v)) < lim {
				return nil, fmt.Errorf("%q is shorter than its MinLength %v", v, lim)
			}
			if lim, ok := number(def["MaxLength"]); ok && float64(len(v)) > lim {
				return nil, fmt.Errorf("%q is longer than its MaxLength %v", v, lim)
			}
		}
	}
	if !list {
		return value, nil
	}
	out := make([]any, len(values))
	for i, v := range values {
		out[i] = v
	}
	return out, nil
}

func number(v any) (float64, bool) {
	s, ok := scalarString(v)
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

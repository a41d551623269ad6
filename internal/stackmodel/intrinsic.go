package stackmodel

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/aiflow/aiflow/internal/samtemplate"
)

// Error is an error of the template: Path says where (a property path such
// as Resources.AiStepFunction.Properties.Environment.Variables.X, or
// Parameters.Stage, or Conditions.IsProd).
type Error struct {
	Path string
	Err  error
}

// Error returns the path and the cause.
func (e *Error) Error() string { return e.Path + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

func errAt(path string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Path: path, Err: err}
}

// noValue is what Ref AWS::NoValue resolves to: the key or list element
// holding it is removed.
type noValueType struct{}

var noValue = noValueType{}

// visiting states of a lazily computed value with cycle detection.
const (
	unvisited = iota
	visiting
	done
)

// resolver resolves intrinsic functions in one stack.
type resolver struct {
	tmpl      *samtemplate.Template
	params    map[string]any // string, or []any of strings for list types
	pseudo    map[string]any
	names     Names
	conds     map[string]bool
	condState map[string]int
	nameOf    map[string]string
	nameState map[string]int
}

func newResolver(t *samtemplate.Template, params, pseudo map[string]any, names Names) *resolver {
	return &resolver{
		tmpl: t, params: params, pseudo: pseudo, names: names,
		conds: map[string]bool{}, condState: map[string]int{},
		nameOf: map[string]string{}, nameState: map[string]int{},
	}
}

// isIntrinsic reports whether m is an intrinsic function: a mapping with
// the one key Ref or Fn::*.
func isIntrinsic(m map[string]any) (string, any, bool) {
	if len(m) != 1 {
		return "", nil, false
	}
	for k, v := range m {
		if k == "Ref" || strings.HasPrefix(k, "Fn::") {
			return k, v, true
		}
	}
	return "", nil, false
}

// resolve resolves every intrinsic function in v. Keys and list elements
// that resolve to AWS::NoValue are removed; a value that is AWS::NoValue
// itself is returned as noValue.
func (r *resolver) resolve(v any, path string) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		if fn, arg, ok := isIntrinsic(v); ok {
			out, err := r.intrinsic(fn, arg, path)
			if err != nil {
				return nil, errAt(path, err)
			}
			return out, nil
		}
		out := make(map[string]any, len(v))
		for _, k := range slices.Sorted(maps.Keys(v)) {
			x, err := r.resolve(v[k], path+"."+k)
			if err != nil {
				return nil, err
			}
			if x != noValue {
				out[k] = x
			}
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(v))
		for i, e := range v {
			x, err := r.resolve(e, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			if x != noValue {
				out = append(out, x)
			}
		}
		return out, nil
	}
	return v, nil
}

func (r *resolver) intrinsic(fn string, arg any, path string) (any, error) {
	switch fn {
	case "Ref":
		name, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("Ref takes a name, not %s", describe(arg))
		}
		return r.ref(name)
	case "Fn::GetAtt":
		return r.getAtt(arg, path)
	case "Fn::Sub":
		return r.sub(arg, path)
	case "Fn::Join":
		return r.join(arg, path)
	case "Fn::Select":
		return r.selectFn(arg, path)
	case "Fn::Split":
		return r.split(arg, path)
	case "Fn::If":
		return r.ifFn(arg, path)
	case "Fn::Base64":
		x, err := r.resolve(arg, path)
		if err != nil {
			return nil, err
		}
		s, ok := scalarString(x)
		if !ok {
			return nil, fmt.Errorf("Fn::Base64 takes a string, not %s", describe(x))
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	case "Fn::GetAZs":
		return nil, errors.New("Fn::GetAZs cannot be resolved here: a local stack has no availability zones")
	case "Fn::ImportValue":
		return nil, errors.New("Fn::ImportValue cannot be resolved here: it reads another stack's exports, and a local stack has no other stacks")
	case "Fn::FindInMap", "Fn::Cidr", "Fn::Transform", "Fn::Length", "Fn::ToJsonString":
		return nil, fmt.Errorf("%s is not supported by the local stack", fn)
	case "Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not":
		return nil, fmt.Errorf("%s belongs in a condition (Conditions or the first argument of Fn::If), not in a property", fn)
	}
	return nil, fmt.Errorf("%s is not an intrinsic function", fn)
}

// ref resolves Ref name.
func (r *resolver) ref(name string) (any, error) {
	if name == "AWS::NoValue" {
		return noValue, nil
	}
	if v, ok := r.pseudo[name]; ok {
		return v, nil
	}
	if strings.HasPrefix(name, "AWS::") {
		return nil, fmt.Errorf("Ref names %s, which is not a pseudo parameter", name)
	}
	if v, ok := r.params[name]; ok {
		return v, nil
	}
	ref, err := r.resourceRef(name, "Ref")
	if err != nil {
		return nil, err
	}
	v, err := r.names.Ref(ref)
	if err != nil {
		return nil, fmt.Errorf("Ref %s: %w", name, err)
	}
	return v, nil
}

// resourceRef returns the ResourceRef of a resource the stack holds, its
// physical name resolved.
func (r *resolver) resourceRef(id, fn string) (ResourceRef, error) {
	res, ok := r.tmpl.Resources[id]
	if !ok {
		if fn == "Fn::GetAtt" {
			return ResourceRef{}, fmt.Errorf("Fn::GetAtt names %s, which is not a resource", id)
		}
		return ResourceRef{}, fmt.Errorf("%s names %s, which is neither a parameter, a pseudo parameter nor a resource", fn, id)
	}
	if res.Condition != "" {
		ok, err := r.condition(res.Condition)
		if err != nil {
			return ResourceRef{}, err
		}
		if !ok {
			return ResourceRef{}, fmt.Errorf("%s names %s, which is left out: its Condition %s is false", fn, id, res.Condition)
		}
	}
	name, err := r.physicalName(id)
	if err != nil {
		return ResourceRef{}, err
	}
	return ResourceRef{LogicalID: id, Type: res.Type, Name: name}, nil
}

// physicalName resolves the property that names resource id, "" when it
// has none.
func (r *resolver) physicalName(id string) (string, error) {
	switch r.nameState[id] {
	case done:
		return r.nameOf[id], nil
	case visiting:
		return "", fmt.Errorf("the name of %s refers to itself", id)
	}
	res := r.tmpl.Resources[id]
	prop := nameProperties[res.Type]
	raw, ok := res.Properties[prop]
	if prop == "" || !ok {
		r.nameState[id] = done
		return "", nil
	}
	r.nameState[id] = visiting
	path := "Resources." + id + ".Properties." + prop
	v, err := r.resolve(raw, path)
	if err != nil {
		r.nameState[id] = unvisited
		return "", err
	}
	name := ""
	if v != noValue {
		s, ok := scalarString(v)
		if !ok {
			r.nameState[id] = unvisited
			return "", &Error{Path: path, Err: fmt.Errorf("a name is a string, not %s", describe(v))}
		}
		name = s
	}
	r.nameOf[id], r.nameState[id] = name, done
	return name, nil
}

func (r *resolver) getAtt(arg any, path string) (any, error) {
	var id, attr string
	switch a := arg.(type) {
	case string:
		var ok bool
		if id, attr, ok = strings.Cut(a, "."); !ok {
			return nil, fmt.Errorf("Fn::GetAtt takes Resource.Attribute, not %q", a)
		}
	case []any:
		if len(a) != 2 {
			return nil, fmt.Errorf("Fn::GetAtt takes [resource, attribute], not %d values", len(a))
		}
		var ok bool
		if id, ok = a[0].(string); !ok {
			return nil, fmt.Errorf("Fn::GetAtt's resource is a name, not %s", describe(a[0]))
		}
		x, err := r.resolve(a[1], path)
		if err != nil {
			return nil, err
		}
		if attr, ok = x.(string); !ok {
			return nil, fmt.Errorf("Fn::GetAtt's attribute is a string, not %s", describe(x))
		}
	default:
		return nil, fmt.Errorf("Fn::GetAtt takes [resource, attribute], not %s", describe(arg))
	}
	return r.attribute(id, attr)
}

func (r *resolver) attribute(id, attr string) (string, error) {
	if _, ok := r.params[id]; ok {
		return "", fmt.Errorf("Fn::GetAtt names %s.%s, but %s is a parameter", id, attr, id)
	}
	ref, err := r.resourceRef(id, "Fn::GetAtt")
	if err != nil {
		return "", err
	}
	v, err := r.names.GetAtt(ref, attr)
	if errors.Is(err, ErrNoAttribute) {
		return "", fmt.Errorf("Fn::GetAtt names %s.%s, which is not an attribute of %s", id, attr, ref.Type)
	}
	if err != nil {
		return "", fmt.Errorf("Fn::GetAtt %s.%s: %w", id, attr, err)
	}
	return v, nil
}

func (r *resolver) sub(arg any, path string) (any, error) {
	var text string
	vars := map[string]string{}
	switch a := arg.(type) {
	case string:
		text = a
	case []any:
		if len(a) != 2 {
			return nil, fmt.Errorf("Fn::Sub takes a string or [string, {variables}], not %d values", len(a))
		}
		s, ok := a[0].(string)
		if !ok {
			return nil, fmt.Errorf("Fn::Sub's first value is a string, not %s", describe(a[0]))
		}
		text = s
		m, ok := a[1].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("Fn::Sub's second value is a mapping of variables, not %s", describe(a[1]))
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			x, err := r.resolve(m[k], path)
			if err != nil {
				return nil, err
			}
			s, ok := scalarString(x)
			if !ok {
				return nil, fmt.Errorf("Fn::Sub variable %s is a string, not %s", k, describe(x))
			}
			vars[k] = s
		}
	default:
		return nil, fmt.Errorf("Fn::Sub takes a string or [string, {variables}], not %s", describe(arg))
	}
	var b strings.Builder
	rest := text
	for {
		i := strings.Index(rest, "${")
		if i < 0 {
			b.WriteString(rest)
			return b.String(), nil
		}
		b.WriteString(rest[:i])
		rest = rest[i+2:]
		end := strings.IndexByte(rest, '}')
		if end < 0 {
			return nil, fmt.Errorf("Fn::Sub %q: ${ without a closing }", text)
		}
		name := rest[:end]
		rest = rest[end+1:]
		if lit, ok := strings.CutPrefix(name, "!"); ok {
			b.WriteString("${" + lit + "}")
			continue
		}
		if v, ok := vars[name]; ok {
			b.WriteString(v)
			continue
		}
		if id, attr, ok := strings.Cut(name, "."); ok && !strings.HasPrefix(name, "AWS::") {
			v, err := r.attribute(id, attr)
			if err != nil {
				return nil, fmt.Errorf("Fn::Sub ${%s}: %w", name, err)
			}
			b.WriteString(v)
			continue
		}
		if name == "AWS::NoValue" {
			return nil, fmt.Errorf("Fn::Sub ${%s}: AWS::NoValue is no string", name)
		}
		v, err := r.ref(name)
		if err != nil {
			return nil, fmt.Errorf("Fn::Sub ${%s}: %w", name, err)
		}
		s, ok := scalarString(v)
		if !ok {
			return nil, fmt.Errorf("Fn::Sub ${%s}: %s is %s, not a string", name, name, describe(v))
		}
		b.WriteString(s)
	}
}

// args resolves the list argument of fn, which must have n values.
func (r *resolver) args(fn string, arg any, n int, path string) ([]any, error) {
	a, ok := arg.([]any)
	if !ok || len(a) != n {
		return nil, fmt.Errorf("%s takes a list of %d values, not %s", fn, n, describe(arg))
	}
	out := make([]any, n)
	for i, x := range a {
		v, err := r.resolve(x, path)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (r *resolver) join(arg any, path string) (any, error) {
	a, err := r.args("Fn::Join", arg, 2, path)
	if err != nil {
		return nil, err
	}
	delim, ok := a[0].(string)
	if !ok {
		return nil, fmt.Errorf("Fn::Join's delimiter is a string, not %s", describe(a[0]))
	}
	list, ok := a[1].([]any)
	if !ok {
		return nil, fmt.Errorf("Fn::Join joins a list, not %s", describe(a[1]))
	}
	parts := make([]string, len(list))
	for i, e := range list {
		s, ok := scalarString(e)
		if !ok {
			return nil, fmt.Errorf("Fn::Join joins strings, and value %d is %s", i, describe(e))
		}
		parts[i] = s
	}
	return strings.Join(parts, delim), nil
}

func (r *resolver) selectFn(arg any, path string) (any, error) {
	a, err := r.args("Fn::Select", arg, 2, path)
	if err != nil {
		return nil, err
	}
	s, ok := scalarString(a[0])
	i, err := strconv.Atoi(s)
	if !ok || err != nil {
		return nil, fmt.Errorf("Fn::Select's index is an integer, not %s", describe(a[0]))
	}
	list, ok := a[1].([]any)
	if !ok {
		return nil, fmt.Errorf("Fn::Select selects from a list, not %s", describe(a[1]))
	}
	if i < 0 || i >= len(list) {
		return nil, fmt.Errorf("Fn::Select index %d is out of the list's range (%d values)", i, len(list))
	}
	if list[i] == nil {
		return nil, fmt.Errorf("Fn::Select value %d is null", i)
	}
	return list[i], nil
}

func (r *resolver) split(arg any, path string) (any, error) {
	a, err := r.args("Fn::Split", arg, 2, path)
	if err != nil {
		return nil, err
	}
	delim, ok := a[0].(string)
	if !ok || delim == "" {
		return nil, fmt.Errorf("Fn::Split's delimiter is a non-empty string, not %s", describe(a[0]))
	}
	s, ok := scalarString(a[1])
	if !ok {
		return nil, fmt.Errorf("Fn::Split splits a string, not %s", describe(a[1]))
	}
	var out []any
	for _, p := range strings.Split(s, delim) {
		out = append(out, p)
	}
	return out, nil
}

func (r *resolver) ifFn(arg any, path string) (any, error) {
	a, ok := arg.([]any)
	if !ok || len(a) != 3 {
		return nil, fmt.Errorf("Fn::If takes [condition, value if true, value if false], not %s", describe(arg))
	}
	name, ok := a[0].(string)
	if !ok {
		return nil, fmt.Errorf("Fn::If's first value is a condition's name, not %s", describe(a[0]))
	}
	c, err := r.condition(name)
	if err != nil {
		return nil, fmt.Errorf("Fn::If: %w", err)
	}
	if c {
		return r.resolve(a[1], path)
	}
	return r.resolve(a[2], path)
}

// condition evaluates the condition name of the template's Conditions.
func (r *resolver) condition(name string) (bool, error) {
	switch r.condState[name] {
	case done:
		return r.conds[name], nil
	case visiting:
		return false, &Error{Path: "Conditions." + name, Err: errors.New("the condition refers to itself")}
	}
	def, ok := r.tmpl.Conditions[name]
	if !ok {
		return false, fmt.Errorf("%s is not a condition", name)
	}
	r.condState[name] = visiting
	v, err := r.evalCondition(def, "Conditions."+name)
	if err != nil {
		r.condState[name] = unvisited
		return false, errAt("Conditions."+name, err)
	}
	r.conds[name], r.condState[name] = v, done
	return v, nil
}

func (r *resolver) evalCondition(v any, path string) (bool, error) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return false, fmt.Errorf("a condition is Fn::Equals, Fn::And, Fn::Or, Fn::Not or Condition, not %s", describe(v))
	}
	for fn, arg := range m {
		switch fn {
		case "Condition":
			name, ok := arg.(string)
			if !ok {
				return false, fmt.Errorf("a Condition takes a condition's name, not %s", describe(arg))
			}
			return r.condition(name)
		case "Fn::Equals":
			a, err := r.args(fn, arg, 2, path)
			if err != nil {
				return false, err
			}
			return canonical(a[0]) == canonical(a[1]), nil
		case "Fn::Not":
			a, ok := arg.([]any)
			if !ok || len(a) != 1 {
				return false, fmt.Errorf("Fn::Not takes a list of one condition, not %s", describe(arg))
			}
			c, err := r.evalCondition(a[0], path)
			return !c, err
		case "Fn::And", "Fn::Or":
			a, ok := arg.([]any)
			if !ok || len(a) < 2 || len(a) > 10 {
				return false, fmt.Errorf("%s takes a list of 2 to 10 conditions, not %s", fn, describe(arg))
			}
			// Every operand is evaluated, so an error in any is reported.
			result := fn == "Fn::And"
			for _, x := range a {
				c, err := r.evalCondition(x, path)
				if err != nil {
					return false, err
				}
				if fn == "Fn::And" {
					result = result && c
				} else {
					result = result || c
				}
			}
			return result, nil
		}
		return false, fmt.Errorf("a condition is Fn::Equals, Fn::And, Fn::Or, Fn::Not or Condition, not %s", fn)
	}
	panic("unreachable")
}

// canonical is the form Fn::Equals compares: a scalar's string, or a
// structure's JSON.
func canonical(v any) string {
	if s, ok := scalarString(v); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// scalarString returns a scalar as CloudFormation turns it into a string.
func scalarString(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case int:
		return strconv.Itoa(v), true
	case int64:
		return strconv.FormatInt(v, 10), true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(v), true
	}
	return "", false
}

// describe names a value's kind for an error.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case noValueType:
		return "AWS::NoValue"
	case string:
		return fmt.Sprintf("the string %q", v)
	case []any:
		return fmt.Sprintf("a list of %d values", len(v))
	case map[string]any:
		if fn, _, ok := isIntrinsic(v); ok {
			return fn
		}
		return "a mapping"
	}
	return fmt.Sprintf("%v", v)
}

// Package samtemplate reads a CloudFormation or SAM template written in
// YAML, the short forms of the intrinsic functions (!Ref, !Sub, !GetAtt,
// !If, ...) included, into plain Go values in their long form ({"Ref": x},
// {"Fn::Sub": x}, {"Fn::GetAtt": [resource, attribute]}), and answers the
// questions a check of the template asks: which names a template defines,
// and which names its references and substitutions use. The tests of the
// repository's template.yaml are its main user; it needs no AWS tooling.
package samtemplate

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Template is a parsed template. Maps hold the template's sections as
// decoded values: map[string]any, []any, string, bool, int and float64.
type Template struct {
	Parameters map[string]any
	Conditions map[string]any
	Globals    map[string]any
	Resources  map[string]Resource
	Outputs    map[string]any
}

// Resource is one entry of Resources.
type Resource struct {
	Type       string
	Condition  string
	Properties map[string]any
	Metadata   map[string]any
}

// PseudoParameters are the names !Ref and ${} resolve without a parameter
// or a resource.
var PseudoParameters = []string{
	"AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition",
	"AWS::Region", "AWS::StackId", "AWS::StackName", "AWS::URLSuffix",
}

// ParseFile reads and parses a template file.
func ParseFile(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the template: %w", err)
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Parse parses a template. It returns an error for YAML that does not
// parse, an unknown short-form tag, or a section of the wrong shape.
func Parse(data []byte) (*Template, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parsing the template: %w", err)
	}
	v, err := decode(&doc)
	if err != nil {
		return nil, err
	}
	root, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("parsing the template: the document is not a mapping")
	}
	t := &Template{Resources: map[string]Resource{}}
	section := func(name string) (map[string]any, error) {
		s, ok := root[name]
		if !ok || s == nil {
			return map[string]any{}, nil
		}
		m, ok := s.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("parsing the template: %s is not a mapping", name)
		}
		return m, nil
	}
	if t.Parameters, err = section("Parameters"); err != nil {
		return nil, err
	}
	if t.Conditions, err = section("Conditions"); err != nil {
		return nil, err
	}
	if t.Globals, err = section("Globals"); err != nil {
		return nil, err
	}
	if t.Outputs, err = section("Outputs"); err != nil {
		return nil, err
	}
	resources, err := section("Resources")
	if err != nil {
		return nil, err
	}
	for id, raw := range resources {
		m, ok := raw.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("parsing the template: resource %s is not a mapping", id)
		}
		r := Resource{Properties: map[string]any{}, Metadata: map[string]any{}}
		r.Type, _ = m["Type"].(string)
		r.Condition, _ = m["Condition"].(string)
		if p, ok := m["Properties"].(map[string]any); ok {
			r.Properties = p
		}
		if md, ok := m["Metadata"].(map[string]any); ok {
			r.Metadata = md
		}
		if r.Type == "" {
			return nil, fmt.Errorf("parsing the template: resource %s has no Type", id)
		}
		t.Resources[id] = r
	}
	return t, nil
}

// shortForms maps each short-form tag to its long-form key.
var shortForms = map[string]string{
	"!Ref": "Ref", "!Condition": "Condition",
	"!Sub": "Fn::Sub", "!GetAtt": "Fn::GetAtt", "!If": "Fn::If", "!Equals": "Fn::Equals",
	"!Not": "Fn::Not", "!And": "Fn::And", "!Or": "Fn::Or", "!Join": "Fn::Join",
	"!Select": "Fn::Select", "!Split": "Fn::Split", "!FindInMap": "Fn::FindInMap",
	"!GetAZs": "Fn::GetAZs", "!ImportValue": "Fn::ImportValue", "!Base64": "Fn::Base64",
	"!Cidr": "Fn::Cidr", "!Transform": "Fn::Transform", "!Length": "Fn::Length",
	"!ToJsonString": "Fn::ToJsonString",
}

// decode turns a YAML node into plain values with intrinsic functions in
// their long form.
func decode(n *yaml.Node) (any, error) {
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		key, ok := shortForms[n.Tag]
		if !ok {
			return nil, fmt.Errorf("line %d: unknown tag %s", n.Line, n.Tag)
		}
		plain := *n
		plain.Tag = ""
		if plain.Kind == yaml.ScalarNode {
			plain.Tag = "!!str"
		}
		inner, err := decode(&plain)
		if err != nil {
			return nil, err
		}
		if s, ok := inner.(string); ok && key == "Fn::GetAtt" {
			resource, attribute, _ := strings.Cut(s, ".")
			inner = []any{resource, attribute}
		}
		return map[string]any{key: inner}, nil
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return decode(n.Content[0])
	case yaml.AliasNode:
		return decode(n.Alias)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := decode(c)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Tag == "!!merge" {
				return nil, fmt.Errorf("line %d: merge keys (<<) are not CloudFormation YAML", k.Line)
			}
			v, err := decode(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			out[k.Value] = v
		}
		return out, nil
	default:
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		return v, nil
	}
}

// Defines reports whether name is a parameter, a resource or a pseudo
// parameter: something !Ref and ${name} resolve.
func (t *Template) Defines(name string) bool {
	if _, ok := t.Parameters[name]; ok {
		return true
	}
	if _, ok := t.Resources[name]; ok {
		return true
	}
	return slices.Contains(PseudoParameters, name)
}

// ResourcesOfType returns the logical ids of the resources of a type, in
// order.
func (t *Template) ResourcesOfType(typ string) []string {
	var out []string
	for id, r := range t.Resources {
		if r.Type == typ {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// subVariable matches ${name} and ${!literal} in a Sub string.
var subVariable = regexp.MustCompile(`\$\{([^}]*)\}`)

// SubVariables returns the names a Sub string substitutes, in order: for
// ${Name} Name, for ${Resource.Attribute} Resource.Attribute; ${!Literal}
// is no variable.
func SubVariables(s string) []string {
	var out []string
	for _, m := range subVariable.FindAllStringSubmatch(s, -1) {
		if strings.HasPrefix(m[1], "!") {
			continue
		}
		out = append(out, strings.TrimSpace(m[1]))
	}
	return out
}

// Reference is one use of a name in a template.
type Reference struct {
	// Path says where: the section and keys leading to the use.
	Path string
	// Kind is Ref, Fn::GetAtt, Fn::Sub or Condition.
	Kind string
	// Name is the name used: a parameter, resource, pseudo parameter,
	// condition, or for Fn::GetAtt and Sub's ${A.B}, the resource A.
	Name string
	// Local reports a Sub variable defined by the Sub's own map.
	Local bool
}

// References returns every Ref, Fn::GetAtt, Sub variable and condition
// name used in the template's Globals, Resources and Outputs.
func (t *Template) References() []Reference {
	var out []Reference
	walk(t.Globals, "Globals", &out)
	for id, r := range t.Resources {
		if r.Condition != "" {
			out = append(out, Reference{Path: "Resources/" + id + "/Condition", Kind: "Condition", Name: r.Condition})
		}
		walk(r.Properties, "Resources/"+id+"/Properties", &out)
	}
	walk(t.Outputs, "Outputs", &out)
	walk(t.Conditions, "Conditions", &out)
	return out
}

func walk(v any, path string, out *[]Reference) {
	switch x := v.(type) {
	case []any:
		for i, c := range x {
			walk(c, fmt.Sprintf("%s/%d", path, i), out)
		}
	case map[string]any:
		if len(x) == 1 {
			for k, arg := range x {
				if walkIntrinsic(k, arg, path, out) {
					return
				}
			}
		}
		for k, c := range x {
			walk(c, path+"/"+k, out)
		}
	}
}

// walkIntrinsic records the names an intrinsic function uses and walks
// its arguments; it reports false for a mapping that is no intrinsic.
func walkIntrinsic(fn string, arg any, path string, out *[]Reference) bool {
	here := path + "/" + fn
	switch fn {
	case "Ref":
		if s, ok := arg.(string); ok {
			*out = append(*out, Reference{Path: here, Kind: fn, Name: s})
		}
		return true
	case "Condition":
		if s, ok := arg.(string); ok {
			*out = append(*out, Reference{Path: here, Kind: fn, Name: s})
			return true
		}
		return false
	case "Fn::GetAtt":
		if l, ok := arg.([]any); ok && len(l) > 0 {
			if s, ok := l[0].(string); ok {
				*out = append(*out, Reference{Path: here, Kind: fn, Name: s})
			}
		}
		return true
	case "Fn::If":
		if l, ok := arg.([]any); ok && len(l) == 3 {
			if s, ok := l[0].(string); ok {
				*out = append(*out, Reference{Path: here, Kind: "Condition", Name: s})
			}
			walk(l[1], here+"/1", out)
			walk(l[2], here+"/2", out)
		}
		return true
	case "Fn::Sub":
		var (
			str  string
			vars map[string]any
		)
		switch a := arg.(type) {
		case string:
			str = a
		case []any:
			if len(a) > 0 {
				str, _ = a[0].(string)
			}
			if len(a) > 1 {
				vars, _ = a[1].(map[string]any)
				walk(vars, here+"/1", out)
			}
		}
		for _, name := range SubVariables(str) {
			_, local := vars[name]
			base, _, _ := strings.Cut(name, ".")
			if strings.HasPrefix(name, "AWS::") {
				base = name
			}
			*out = append(*out, Reference{Path: here, Kind: fn, Name: base, Local: local})
		}
		return true
	}
	if strings.HasPrefix(fn, "Fn::") {
		walk(arg, here, out)
		return true
	}
	return false
}

// Strings returns v as a list of strings: a string alone, or the strings
// of a list; other values are left out.
func Strings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

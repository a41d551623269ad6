package asl

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// jsonPathOnlyFields are the state fields of the JSONPath query
// language; a JSONata state uses Arguments, Output and Items, and
// expressions in the fields that take a number, in their place.
var jsonPathOnlyFields = map[string]bool{
	"InputPath": true, "Parameters": true, "ResultSelector": true, "ResultPath": true, "OutputPath": true, "Result": true,
	"ItemsPath": true, "SecondsPath": true, "TimestampPath": true, "TimeoutSecondsPath": true, "HeartbeatSecondsPath": true,
	"ErrorPath": true, "CausePath": true, "MaxConcurrencyPath": true, "ToleratedFailureCountPath": true,
	"ToleratedFailurePercentagePath": true,
}

// jsonataOnlyFields are the state fields of the JSONata query language.
var jsonataOnlyFields = map[string]bool{"Arguments": true, "Output": true, "Items": true}

// wrongLanguage is Step Functions' message for a field of the other
// query language.
func wrongLanguage(ql, field string) string {
	other := QueryLanguageJSONPath
	if ql == QueryLanguageJSONPath {
		other = QueryLanguageJSONata
	}
	return fmt.Sprintf("The QueryLanguage is set to '%s', but field '%s' is only supported for the '%s' QueryLanguage", ql, field, other)
}

// stateLanguage checks a state's query language against the state
// machine's and the fields of the other language it sets; it returns
// whether the state uses JSONata.
func (v *validator) stateLanguage(path string, s *State) bool {
	if v.topQL == QueryLanguageJSONata && s.QueryLanguage == QueryLanguageJSONPath {
		v.fail(joinPath(path, "QueryLanguage"), "a state cannot use JSONPath when the state machine's QueryLanguage is JSONata")
	}
	jsonata := UsesJSONata(v.topQL, s)
	ql := QueryLanguageJSONPath
	if jsonata {
		ql = QueryLanguageJSONata
	}
	for _, f := range stateFields.setFields(s) {
		if jsonata && jsonPathOnlyFields[f] || !jsonata && jsonataOnlyFields[f] {
			v.fail(joinPath(path, f), "%s", wrongLanguage(ql, f))
		}
	}
	for _, e := range stateExprFields(s) {
		if *e.expr == "" {
			continue
		}
		p := joinPath(path, e.name)
		switch {
		case !jsonata:
			v.fail(p, "must be a number; a JSONata expression string is only allowed in a JSONata state")
		case !IsJSONataExpression(*e.expr):
			v.fail(p, "must be a number or a JSONata expression string such as \"{%% $states.input.n %%}\", not %q", *e.expr)
		default:
			v.jsonataString(p, *e.expr)
		}
	}
	for i := range s.Catch {
		c := &s.Catch[i]
		cp := fmt.Sprintf("%s.Catch[%d]", path, i)
		switch {
		case jsonata && c.ResultPath != nil:
			v.fail(joinPath(cp, "ResultPath"), "%s", wrongLanguage(ql, "ResultPath"))
		case !jsonata && c.Output != nil:
			v.fail(joinPath(cp, "Output"), "%s", wrongLanguage(ql, "Output"))
		}
		if jsonata {
			v.jsonataRaw(joinPath(cp, "Output"), c.Output)
		}
	}
	if !jsonata {
		return false
	}
	for _, f := range []struct {
		name string
		raw  json.RawMessage
	}{
		{"Arguments", s.Arguments}, {"Output", s.Output}, {"ItemSelector", s.ItemSelector}, {"ItemReader", s.ItemReader},
		{"ItemBatcher", s.ItemBatcher}, {"ResultWriter", s.ResultWriter}, {"Credentials", s.Credentials},
	} {
		v.jsonataRaw(joinPath(path, f.name), f.raw)
	}
	if s.Items != nil {
		v.jsonataItems(joinPath(path, "Items"), s.Items)
	}
	for _, f := range []struct{ name, value string }{{"Error", s.Error}, {"Cause", s.Cause}, {"Timestamp", s.Timestamp}} {
		v.jsonataString(joinPath(path, f.name), f.value)
	}
	return true
}

type exprField struct {
	name string
	expr *string
}

func stateExprFields(s *State) []exprField {
	return []exprField{
		{"Seconds", &s.SecondsExpr}, {"TimeoutSeconds", &s.TimeoutSecondsExpr}, {"HeartbeatSeconds", &s.HeartbeatSecondsExpr},
		{"MaxConcurrency", &s.MaxConcurrencyExpr}, {"ToleratedFailureCount", &s.ToleratedFailureCountExpr},
		{"ToleratedFailurePercentage", &s.ToleratedFailurePercentageExpr},
	}
}

// jsonataString checks that an expression string parses.
func (v *validator) jsonataString(path, s string) {
	if err := CheckJSONata(s); err != nil {
		v.fail(path, "%v", err)
	}
}

// jsonataRaw checks every expression string in a JSON value.
func (v *validator) jsonataRaw(path string, raw json.RawMessage) {
	if raw == nil {
		return
	}
	n, err := parseJSON(raw)
	if err != nil {
		v.fail(path, "is not valid JSON: %v", err)
		return
	}
	v.jsonataNode(path, n)
}

func (v *validator) jsonataNode(path string, n *node) {
	switch n.kind {
	case kindString:
		v.jsonataString(path, n.text)
	case kindArray:
		for i, el := range n.values {
			v.jsonataNode(path+"["+strconv.Itoa(i)+"]", el)
		}
	case kindObject:
		for i, k := range n.keys {
			v.jsonataNode(joinPath(path, k), n.values[i])
		}
	}
}

// jsonataItems checks a Map state's Items: a JSON array, a JSON object
// or an expression (what it gives must be an array when the state runs).
func (v *validator) jsonataItems(path string, raw json.RawMessage) {
	n, err := parseJSON(raw)
	switch {
	case err != nil:
		v.fail(path, "is not valid JSON: %v", err)
	case n.kind == kindArray || n.kind == kindObject || n.kind == kindString && IsJSONataExpression(n.text):
		v.jsonataNode(path, n)
	default:
		v.fail(path, "must be a JSON array, a JSON object or a JSONata expression string")
	}
}

// jsonataAssign checks the Assign block of a JSONata state: variable
// names, and the expressions of the values.
func (v *validator) jsonataAssign(path string, assign map[string]json.RawMessage) {
	for _, k := range sortedKeys(assign) {
		p := joinPath(path, k)
		if !validVariableName(k) {
			v.fail(p, "%q is not a valid variable name: a letter or _, then letters, digits or _, at most %d characters", k, MaxVariableNameLength)
		} else if k == "states" {
			v.fail(p, "$states is reserved")
		}
		v.jsonataRaw(p, assign[k])
	}
}

// jsonataChoiceRule checks a Choice Rule of a JSONata state: a
// Condition, true, false or an expression, in place of Variable and the
// comparison operators, And, Or and Not.
func (v *validator) jsonataChoiceRule(path string, r *ChoiceRule, sc scopeInfo) {
	for _, op := range r.Operators() {
		v.fail(joinPath(path, op.Name), "%s", wrongLanguage(QueryLanguageJSONata, op.Name))
	}
	for _, f := range []struct {
		name string
		set  bool
	}{{"Variable", r.Variable != ""}, {"And", r.And != nil}, {"Or", r.Or != nil}, {"Not", r.Not != nil}} {
		if f.set {
			v.fail(joinPath(path, f.name), "%s", wrongLanguage(QueryLanguageJSONata, f.name))
		}
	}
	cond := joinPath(path, "Condition")
	if r.Condition == nil {
		v.fail(cond, "is required in a Choice Rule of a JSONata state")
	} else if n, err := parseJSON(r.Condition); err != nil || !(n.kind == kindBool || n.kind == kindString && IsJSONataExpression(n.text)) {
		v.fail(cond, "must be true, false or a JSONata expression string")
	} else {
		v.jsonataNode(cond, n)
	}
	if r.Next == "" {
		v.fail(joinPath(path, "Next"), "is required in a top-level Choice Rule")
	} else {
		v.target(joinPath(path, "Next"), r.Next, sc)
	}
	v.jsonataRaw(joinPath(path, "Output"), r.Output)
	v.jsonataAssign(joinPath(path, "Assign"), r.Assign)
}

package asl

import (
	"encoding/json"
	"testing"
)

// BenchmarkEvalJSONata evaluates an Arguments template of three
// expressions, as a Task state does once per execution.
func BenchmarkEvalJSONata(b *testing.B) {
	env := JSONataEnv{
		States: map[string]any{"input": map[string]any{"title": "Doctor", "items": []any{json.Number("1"), json.Number("2")}}, "context": map[string]any{}},
		Vars:   map[string]any{"customerName": "Ana"},
	}
	raw := json.RawMessage(`{"static": "Hello", "title": "{% $states.input.title %}", "name": "{% $customerName %}", "total": "{% $sum($states.input.items) %}"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := EvalJSONata("Arguments", raw, env); err != nil {
			b.Fatal(err)
		}
	}
}

package workflow

import (
	"os"
	"testing"

	"github.com/aiflow/aiflow/internal/asl"
)

// FuzzFrontEnd feeds arbitrary bytes through the whole pipeline: parsing
// must never panic, and a definition that passes the checks must compile
// to a state machine that the ASL validator accepts.
func FuzzFrontEnd(f *testing.F) {
	if src, err := os.ReadFile("testdata/triage.yaml"); err == nil {
		f.Add(src)
	}
	for _, seed := range []string{
		"name: a\ninput: {type: object}\nsteps:\n  - id: x\n    succeed: {}\n",
		"name: a\ninput: {type: object, required: [n], properties: {n: {type: number}}}\nsteps:\n  - id: c\n    choice:\n      cases:\n        - when: 'input.n > 1 && !(input.n == 3)'\n          next: d\n      default: d\n  - id: d\n    set: {v: \"{{ input.n }}\", w: [1, \"x {{ input.n }}\"]}\n",
		"name: a\ninput: {type: object}\nsteps:\n  - id: p\n    parallel:\n      branches:\n        - steps:\n            - id: b1\n              set: {x: 1}\n        - steps:\n            - id: b2\n              set: {y: 2}\n  - id: after\n    set: {z: \"{{ steps.b1.output.x }}\"}\n",
		"name: a\ninput: {type: object, required: [xs], properties: {xs: {type: array, items: {type: string}}}}\nsteps:\n  - id: m\n    map:\n      items: \"{{ input.xs }}\"\n      steps:\n        - id: one\n          set: {v: \"{{ context.map.item.value }}\"}\n",
		"{\"name\": \"j\", \"input\": {\"type\": \"object\"}, \"steps\": [{\"id\": \"w\", \"wait\": {\"duration\": \"5s\"}}]}",
		"name: &a x\n", "a: !tag b\n", "[[[[[[[[", "name: a\nname: b\n", "---\n---\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		_, _ = Load("fuzz.yaml", src, nil) // checks a partly read workflow too: must not panic
		wf, err := Parse("fuzz.yaml", src)
		if err != nil {
			if _, ok := err.(Diagnostics); !ok {
				t.Fatalf("Parse returned %T, not Diagnostics: %v", err, err)
			}
			return
		}
		checked, err := Check(wf, nil)
		if err != nil {
			return
		}
		m, err := Compile(checked)
		if err != nil {
			t.Fatalf("a checked definition did not compile: %v\n%s", err, src)
		}
		if problems := asl.Validate(m); len(problems) > 0 {
			t.Fatalf("a checked definition compiled to invalid ASL: %v\n%s", problems, src)
		}
		_ = Mermaid(checked)
	})
}

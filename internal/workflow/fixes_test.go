package workflow

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/asl"
)

// These tests pin the fixes made while writing the examples; each names
// the problem it guards against.

func loadErr(t *testing.T, src string) string {
	t.Helper()
	_, err := Load("fix.yaml", []byte(src), nil)
	require.Error(t, err)
	return err.Error()
}

const fixHead = `name: fix
input:
  type: object
  required: [a]
  properties:
    a: {type: string}
steps:
`

func TestFixMultiLineTemplatesReportTheRightLineAndColumn(t *testing.T) {
	t.Parallel()
	// Offsets into the text of a block scalar, folded text or a quoted
	// string over several lines used to be counted from the | or the quote
	// as if the text were one line.
	err := loadErr(t, fixHead+`  - id: s
    ai:
      model: m
      prompt: |
        Hello there.
          Indented {{ input.b }} more.
      system: >
        Folded text
        here {{ input.c }} ok.
  - id: t
    ai:
      model: m
      prompt: "line one
        line two {{ input.d }}"
  - id: u
    ai: {model: m, prompt: "say \"hi\" {{ input.e }}"}
`)
	require.Contains(t, err, `fix.yaml:13:23: error: input has no field "b"`)
	require.Contains(t, err, `fix.yaml:16:17: error: input has no field "c"`)
	require.Contains(t, err, `fix.yaml:21:21: error: input has no field "d"`)
	require.Contains(t, err, `fix.yaml:23:43: error: input has no field "e"`)
}

func TestFixOutputThatIsNotAMappingCompiles(t *testing.T) {
	t.Parallel()
	// A single {{ path }} as the output made a Pass state whose Parameters
	// were a string: an invalid state machine.
	for _, output := range []string{`"{{ steps.s.output }}"`, `"a is {{ input.a }}"`, `["{{ input.a }}", "x"]`, `42`} {
		checked, err := Load("fix.yaml", []byte(fixHead+"  - id: s\n    set: {x: \"{{ input.a }}\"}\noutput: "+output+"\n"), nil)
		require.NoError(t, err, output)
		m, err := Compile(checked)
		require.NoError(t, err, output)
		require.Empty(t, asl.Validate(m), output)
		st := m.States[outputState]
		require.Equal(t, "$.value", st.OutputPath.Path, output)
	}
}

func TestFixPathsBelowANullableValueAreOptional(t *testing.T) {
	t.Parallel()
	// input.o may be null, so input.o.b may be absent: reading it in a
	// template failed at run time and passed the checker.
	src := `name: fix
input:
  type: object
  required: [o]
  properties:
    o:
      type: [object, "null"]
      required: [b]
      properties: {b: {type: string}}
steps:
`
	err := loadErr(t, src+"  - id: s\n    ai: {model: m, prompt: \"{{ input.o.b }}\"}\n")
	require.Contains(t, err, "input.o.b may be absent")

	_, lerr := Load("fix.yaml", []byte(src+`  - id: c
    choice:
      cases:
        - when: 'exists(input.o.b) && input.o.b == "x"'
          next: done
      default: done
  - id: done
    succeed: {}
`), nil)
	require.NoError(t, lerr, "a guard makes it readable in a condition")
}

func TestFixWhyAnOutputIsNotSetHere(t *testing.T) {
	t.Parallel()
	err := loadErr(t, fixHead+`  - id: call
    mcp: {server: s, tool: t}
    catch:
      - next: explain
    next: p
  - id: explain
    set: {why: "{{ steps.call.output }}"}
    next: done
  - id: p
    parallel:
      branches:
        - steps:
            - id: b1
              set: {x: "{{ steps.b2.output.y }}"}
        - steps:
            - id: b2
              set: {y: "{{ input.a }}"}
    catch:
      - next: recover
  - id: m
    map:
      items: "{{ input.a }}"
      steps:
        - id: inner
          set: {v: 1}
    next: after
  - id: recover
    set: {r: "{{ steps.b1.output.x }}"}
    next: done
  - id: after
    set: {v: "{{ steps.inner.output.v }}"}
  - id: done
    succeed: {}
`)
	require.Contains(t, err, `steps.call.output is not set on the way from its catch: the step failed (step "explain")
    hint: read steps.call.error.Error and steps.call.error.Cause here`)
	require.Contains(t, err, `step "b2" runs in another branch of the parallel step "p", at the same time as this one (step "b1")`)
	require.Contains(t, err, `steps.b1.output may not be set on the way from the catch of "p": the parallel step failed, maybe before "b1" ran (step "recover")`)
	require.Contains(t, err, `step "inner" runs inside the map step "m", once per item (step "after")
    hint: after the map, read steps.m.output: the list of each item's result`)
	require.NotContains(t, err, "set a default", "the language has no way to set a default for another step's output")
}

func TestFixTimeoutAndHeartbeatErrors(t *testing.T) {
	t.Parallel()
	err := loadErr(t, fixHead+`  - id: slow
    mcp: {server: s, tool: t}
    heartbeat: 2m
  - id: tiny
    mcp: {server: s, tool: t}
    timeout: 1s
  - id: p
    parallel:
      branches:
        - steps:
            - id: b
              set: {x: 1}
    timeout: 5m
`)
	// At the heartbeat field, with the default timeout named and durations
	// written as in a definition.
	require.Contains(t, err, `fix.yaml:10:5: error: heartbeat (2m) must be shorter than the default timeout of an mcp step (1m) (step "slow")`)
	// A 1s timeout left a 0s heartbeat: an invalid state machine.
	require.Contains(t, err, `fix.yaml:13:5: error: a task's timeout must be at least 2s (step "tiny")`)
	// Step Functions has no timeout on a Parallel state: it was dropped.
	require.Contains(t, err, `fix.yaml:20:5: error: a parallel step has no timeout; only ai, mcp, service and approval steps do (step "p")`)
}

func TestFixSuggestions(t *testing.T) {
	t.Parallel()
	err := loadErr(t, fixHead+`  - id: look-up
    set: {x: 1}
    retries: []
`)
	require.Contains(t, err, `hint: did you mean "look_up"?`)
	require.Contains(t, err, `unknown field "retries" in a step (step "look-up")
    hint: did you mean "retry"?`)
	require.Equal(t, "", closest("output", []string{"output_schema"}), "a long suffix is not a typo")
}

func TestFixMapItemsMustEndAtTheLastStep(t *testing.T) {
	t.Parallel()
	// An item that ended at a succeed step has no result: the compiled item
	// state read the last step's missing output and failed at run time.
	err := loadErr(t, `name: fix
input: {type: object, required: [xs], properties: {xs: {type: array, items: {type: integer}}}}
steps:
  - id: m
    map:
      items: "{{ input.xs }}"
      steps:
        - id: c
          choice:
            cases:
              - when: "context.map.item.value > 3"
                next: skip
            default: work
        - id: skip
          succeed: {}
        - id: work
          set: {v: "{{ context.map.item.value }}"}
`)
	require.Contains(t, err, `fix.yaml:16:11: error: each item's result is the output of "work", the sub-flow's last step, but some way through the sub-flow ends without running it (step "m")`)
}

func TestFixMermaidNodeIDsAreNeverKeywords(t *testing.T) {
	t.Parallel()
	// A step called end broke the diagram (a Mermaid keyword); one called
	// start or finish was merged with the diagram's own nodes.
	checked, err := Load("fix.yaml", []byte(`name: fix
input: {type: object, required: [a], properties: {a: {type: integer}}}
steps:
  - id: start
    choice:
      cases:
        - when: "input.a > 1 || input.a < -1"
          next: finish
      default: end
  - id: finish
    set: {x: 1}
  - id: end
    succeed: {}
`), nil)
	require.NoError(t, err)
	graph := Mermaid(checked)
	require.Contains(t, graph, "  start --> s_start\n")
	require.Contains(t, graph, `  s_start -->|"input.a > 1 #124;#124; input.a < -1"| s_finish`+"\n")
	require.Contains(t, graph, "  s_finish --> s_end\n")
	require.Contains(t, graph, "  s_end --> finish\n")
	for _, line := range strings.Split(graph, "\n") {
		for _, tok := range strings.Fields(line) {
			require.NotEqual(t, "end", tok, "no bare end outside a subgraph: %q", line)
		}
	}
}

func TestFixAParallelInsideAMapKeepsTheItem(t *testing.T) {
	t.Parallel()
	// A parallel's ResultSelector rebuilt the state from input and steps
	// only, so inside a map the item and its index were gone after it.
	checked, err := Load("fix.yaml", []byte(`name: fix
input: {type: object, required: [xs], properties: {xs: {type: array, items: {type: string}}}}
steps:
  - id: m
    map:
      items: "{{ input.xs }}"
      steps:
        - id: p
          parallel:
            branches:
              - steps:
                  - id: a
                    set: {v: "{{ context.map.item.value }}"}
              - steps:
                  - id: b
                    set: {w: 1}
        - id: last
          set: {v: "{{ context.map.item.value }}", i: "{{ context.map.item.index }}"}
`), nil)
	require.NoError(t, err)
	m, err := Compile(checked)
	require.NoError(t, err)
	require.Empty(t, asl.Validate(m))
	p := m.States["m"].ItemProcessor.States["p"]
	require.JSONEq(t, `{"input.$": "$[0].input", "steps.$": "States.JsonMerge($[0].steps, $[1].steps, false)", "item.$": "$[0].item", "index.$": "$[0].index"}`, string(p.ResultSelector))
}

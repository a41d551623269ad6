package workflow_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/workflow"
)

// coverCheck parses and checks a definition against the catalog and
// returns the checker's error.
func coverCheck(t *testing.T, src string, catalog *workflow.Catalog) error {
	t.Helper()
	wf, err := workflow.Parse("cover.yaml", []byte(src))
	require.NoError(t, err)
	_, err = workflow.Check(wf, catalog)
	return err
}

const coverCatalog = `{"servers":{"shop":{"tools":[
  {"name":"refund","inputSchema":{"type":"object","required":["order_id","reason"],"properties":{
    "order_id":{"type":"integer"},"reason":{"type":"string"},"amount":{"type":"number"},
    "notify":{"type":"boolean"},"tags":{"type":"array","items":{"type":"string"}},
    "note":{"type":["string","null"]},"meta":{"type":"object","properties":{"by":{"type":"string"}}}}},
   "outputSchema":{"type":"object","required":["id"],"properties":{"id":{"type":"string"}}}},
  {"name":"lookup","inputSchema":{"type":"object"}}]}}}`

// TestCheckToolArgumentsAgainstTheInputSchema: an mcp step's arguments
// are checked against the tool's input schema from the catalog: each
// literal's type, each path's type, required and unknown fields.
func TestCheckToolArgumentsAgainstTheInputSchema(t *testing.T) {
	t.Parallel()
	catalog, err := workflow.ParseCatalog([]byte(coverCatalog))
	require.NoError(t, err)
	const head = `name: tools
input:
  type: object
  required: [order, why, flag, list]
  properties:
    order: {type: integer}
    why: {type: string}
    flag: {type: boolean}
    list: {type: array, items: {type: string}}
steps:
  - id: r
    mcp:
      server: shop
      tool: refund
      arguments:
`
	for name, tc := range map[string]struct{ args, want string }{
		"fits":                 {"        order_id: '{{ input.order }}'\n        reason: '{{ input.why }}'\n        amount: 12.5\n        notify: '{{ input.flag }}'\n        tags: '{{ input.list }}'\n        note: null\n        meta: {by: agent}\n", ""},
		"literal fits":         {"        order_id: 7\n        reason: text\n        notify: false\n        tags: [a, b]\n", ""},
		"fraction for integer": {"        order_id: 7.5\n        reason: x\n", "arguments.order_id is a number with a fraction, but must be integer"},
		"string path for int":  {"        order_id: '{{ input.why }}'\n        reason: x\n", "arguments.order_id is string (input.why), but must be integer"},
		"text for integer":     {"        order_id: 'order {{ input.order }}'\n        reason: x\n", "arguments.order_id is text, but must be integer"},
		"missing required":     {"        order_id: 1\n", "arguments lacks required reason"},
		"unknown field":        {"        order_id: 1\n        reason: x\n        resaon: y\n", `arguments has no field "resaon"`},
		"bool for string":      {"        order_id: 1\n        reason: true\n", "arguments.reason is a boolean, but must be string"},
		"null for string":      {"        order_id: 1\n        reason: null\n", "arguments.reason is null, but must be string"},
		"array for string":     {"        order_id: 1\n        reason: [x]\n", "arguments.reason is an array, but must be string"},
		"object for number":    {"        order_id: 1\n        reason: x\n        amount: {a: 1}\n", "arguments.amount is an object, but must be number"},
		"array item type":      {"        order_id: 1\n        reason: x\n        tags: [a, 2]\n", "arguments.tags[1] is a number, but must be string"},
		"number for boolean":   {"        order_id: 1\n        reason: x\n        notify: 1\n", "arguments.notify is a number, but must be boolean"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := coverCheck(t, head+tc.args, catalog)
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestCheckToolsOfTheCatalog: a server or tool the catalog does not have
// is refused with what it has; a tool's output schema types the step's
// output.
func TestCheckToolsOfTheCatalog(t *testing.T) {
	t.Parallel()
	catalog, err := workflow.ParseCatalog([]byte(coverCatalog))
	require.NoError(t, err)
	_, err = workflow.ParseCatalog([]byte(`{"servers":{},"extra":1}`))
	require.ErrorContains(t, err, "reading the catalog")

	step := func(server, tool, next string) string {
		return "name: cat\ninput: {type: object}\nsteps:\n  - id: r\n    mcp: {server: " + server + ", tool: " + tool + ", arguments: {order_id: 1, reason: x}}\n" + next
	}
	err = coverCheck(t, step("shops", "refund", ""), catalog)
	require.ErrorContains(t, err, `the tool catalog has no MCP server "shops"`)
	require.ErrorContains(t, err, "servers in the catalog: shop")
	err = coverCheck(t, step("shop", "refnd", ""), catalog)
	require.ErrorContains(t, err, `the MCP server "shop" has no tool "refnd"`)
	require.ErrorContains(t, err, `did you mean "refund"?`)
	err = coverCheck(t, step("shop", "zzz", ""), catalog)
	require.ErrorContains(t, err, "its tools: refund, lookup")

	read := "  - id: after\n    ai: {model: m, prompt: '{{ steps.r.output.%s }}'}\n"
	require.NoError(t, coverCheck(t, step("shop", "refund", fmt.Sprintf(read, "id")), catalog))
	err = coverCheck(t, step("shop", "refund", fmt.Sprintf(read, "ident")), catalog)
	require.ErrorContains(t, err, `steps.r.output has no field "ident"`)
	require.NoError(t, coverCheck(t, step("shop", "lookup", fmt.Sprintf(read, "anything")), catalog), "a tool without an output schema outputs any value")
}

// TestCheckInfersTypesFromSchemaKeywords: a schema without "type" is
// typed by its enum, const, properties or items, and the checker uses
// that type; a schema that is not valid is refused.
func TestCheckInfersTypesFromSchemaKeywords(t *testing.T) {
	t.Parallel()
	const head = `name: infer
input:
  required: [kind, level, tags, box, flag, nothing]
  properties:
    kind: {enum: [low, high]}
    level: {const: 3}
    tags: {items: {type: string}}
    box: {properties: {size: {type: integer}}, required: [size]}
    flag: {const: true}
    nothing: {const: null}
steps:
  - id: route
    choice:
      cases:
        - when: '%s'
          next: done
      default: done
  - id: done
    succeed: {}
`
	for cond, want := range map[string]string{
		`input.kind == "low"`:                           "",
		`input.level > 2`:                               "",
		`input.box.size >= 1`:                           "",
		`exists(input.tags[0]) && input.tags[0] == "a"`: "",
		`input.flag`:                                    "",
		`is_null(input.nothing)`:                        "",
		`input.kind > 3`:                                "cannot compare",
		`input.level == "three"`:                        "cannot compare",
		`input.kind.name == "x"`:                        `input.kind is string, which has no field "name"`,
		`input.level[0] == 1`:                           "input.level is number, not an array",
		`input.box.sise == 1`:                           `did you mean "size"?`,
		`input.tags.first == "a"`:                       `input.tags is array, which has no field "first"`,
		`input.box.size == input.kind`:                  "cannot compare",
	} {
		t.Run(cond, func(t *testing.T) {
			t.Parallel()
			err := coverCheck(t, fmt.Sprintf(head, cond), nil)
			if want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Contains(t, err.Error(), want)
		})
	}

	err := coverCheck(t, "name: bad\ninput: {type: objekt}\nsteps:\n  - id: a\n    succeed: {}\n", nil)
	require.ErrorContains(t, err, "not a valid JSON Schema")
	err = coverCheck(t, "name: bad\ninput: {type: object}\nsteps:\n  - id: a\n    ai: {model: m, prompt: p, output_schema: {type: 5}}\n", nil)
	require.ErrorContains(t, err, "output_schema is not a valid JSON Schema")
}

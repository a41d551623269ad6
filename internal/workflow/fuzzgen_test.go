package workflow

import (
	"fmt"
	"strings"
)

// generate writes a definition from a stream of choices: steps of every
// kind, nested in parallel branches and maps, with transitions, retries,
// catches and values taken from lists around each field's limits. Random
// bytes rarely make a definition the checker accepts; a definition built
// from them by this grammar often does, and so reaches the compiler.
// The same bytes always make the same definition.
func generate(choices []byte) string {
	g := &generator{choices: choices}
	var b strings.Builder
	b.WriteString(fuzzInput)
	if g.pick(4) == 0 {
		fmt.Fprintf(&b, "timeout: %s\n", g.one(genDurations))
	}
	b.WriteString("steps:\n")
	g.flow(&b, 1, false)
	if g.pick(3) == 0 {
		fmt.Fprintf(&b, "output: %s\n", g.value())
	}
	return b.String()
}

// fuzzInput starts a generated definition: the name and an input with a
// field of each type.
const fuzzInput = "name: gen\ninput:\n  type: object\n  required: [s, n, i, b, t, xs]\n  properties:\n" +
	"    s: {type: string}\n    n: {type: number}\n    i: {type: integer}\n    b: {type: boolean}\n" +
	"    t: {type: string, format: date-time}\n    xs: {type: array, items: {type: object, required: [v], properties: {v: {type: string}}}}\n"

var (
	// The first three of each list are values the checker accepts, which
	// one picks three times in four.
	genDurations = []string{"30s", "5m", "1h", "1s", "2s", "8760h", "8784h", "99999999s", "0s", "1.5s"}
	genUntil     = []string{`"2026-12-01T09:00:00Z"`, `"2026-12-01T09:00:00+01:00"`, `"{{ input.t }}"`, `"{{ input.s }}"`, `"soon"`, `""`, `"{{ context.execution.start_time }}"`}
	genErrors    = []string{"[AI.Throttled]", "[States.Timeout, States.TaskFailed]", "[States.ALL]", "[MCP.Timeout, States.ALL]", `[""]`, "[States.Nope]", "[]"}
	genWhen      = []string{"input.b", "input.n > 10", "input.s == \"x\"", "!(input.i <= 3) && input.b", "exists(input.s)", "1 == 2", "true",
		"matches(input.s, \"*@x.com\")", "input.n >= input.i", "is_timestamp(input.t)", "input.xs[0].v != \"a\"", "input.n < 1e-400",
		"steps.s0.output == \"x\"", "steps.s1.output.approved", "context.map.item.index > 2", "steps.s0.output == steps.s1.output", "is_null(steps.s2.output)"}
	genText = []string{`"hi {{ input.s }}"`, `"{{ input.s }}"`, `"x {{ input.n }} {{ input.b }}"`, `"{{ input.xs }}"`, `"${McpStepQueueUrl}"`, `"{{ input.nope }}"`, `"{{"`, "1", `""`, `"nul \0"`,
		`"{{ steps.s0.output }}"`, `"s1 {{ steps.s1.output }}"`, `"{{ context.map.item.value.v }} #{{ context.map.item.index }}"`, `"{{ steps.s0.error.Cause }}"`}
	genScalars = []string{"1", `"{{ input.s }}"`, `"x"`, "-2.5", "0x1F", "1e308", "1e-400", ".inf", "True", "null", `"x"`, `"{{ input.s }}"`, `"{{ input.n }}"`,
		`"n={{ input.n }} '{}\\"`, `"{{ input.xs }}"`, `"{{ context.execution.id }}"`, `"${McpStepQueueUrl}"`, `"{{ input.nope }}"`}
	genKeys = []string{"a", "b_c", "x y", "a.$", "", "$"}
)

type generator struct {
	choices []byte
	next    int
	ids     int
	depth   int
}

// pick returns a choice from 0 to n-1; 0 once the choices run out.
func (g *generator) pick(n int) int {
	if g.next >= len(g.choices) || n <= 1 {
		g.next++
		return 0
	}
	c := int(g.choices[g.next]) % n
	g.next++
	return c
}

// one picks from a list: from its first three (good) values three times
// in four.
func (g *generator) one(list []string) string {
	if g.pick(4) != 0 {
		return list[g.pick(min(3, len(list)))]
	}
	return list[g.pick(len(list))]
}

// value is a YAML flow value: a scalar, a list or a mapping.
func (g *generator) value() string {
	g.depth++
	defer func() { g.depth-- }()
	switch g.pick(5) {
	case 0:
		if g.depth < 4 {
			var els []string
			for range g.pick(4) {
				els = append(els, g.value())
			}
			return "[" + strings.Join(els, ", ") + "]"
		}
	case 1:
		if g.depth < 4 {
			var fields []string
			for i := range g.pick(4) + 1 {
				fields = append(fields, fmt.Sprintf("%q: %s", g.one(genKeys)+strings.Repeat("_", i), g.value()))
			}
			return "{" + strings.Join(fields, ", ") + "}"
		}
	}
	return g.one(genScalars)
}

// flow writes 1 to 4 steps at an indentation level; inMap says whether a
// map's sub-flow holds them.
func (g *generator) flow(b *strings.Builder, indent int, inMap bool) {
	n := g.pick(4) + 1
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("s%d", g.ids)
		g.ids++
	}
	for i, id := range ids {
		g.step(b, indent, id, ids, i, inMap)
	}
}

// target picks where step i of a flow may go: a later step three times in
// four, any step of the flow else.
func (g *generator) target(flow []string, i int) string {
	if later := flow[i+1:]; len(later) > 0 && g.pick(4) != 0 {
		return later[g.pick(len(later))]
	}
	return flow[g.pick(len(flow))]
}

func (g *generator) step(b *strings.Builder, indent int, id string, flow []string, i int, inMap bool) {
	last := i == len(flow)-1
	pad := strings.Repeat("  ", indent)
	w := func(format string, args ...any) { fmt.Fprintf(b, pad+format+"\n", args...) }
	w("- id: %s", id)
	pad += "  "
	task := false
	kinds := []int{0, 1, 2, 3, 4, 5, 6, 6, 7, 8, 9, 10, 0, 1, 6}
	if g.depth >= 2 {
		kinds = kinds[:10] // no more parallel or map
	}
	retries := false
	switch kinds[g.pick(len(kinds))] {
	case 0:
		task = true
		w("ai:")
		w("  model: m/x")
		w("  prompt: %s", g.one(genText))
		if g.pick(3) == 0 {
			w("  output_schema: {type: object, properties: {%q: {type: string}}}", g.one(genKeys))
		}
	case 1:
		task = true
		w("mcp: {server: support, tool: find_customer, arguments: {email: %s}}", g.one(genText))
	case 2:
		task = true
		w("service: {service: crm, path: %s, body: %s}", g.one(genText), g.value())
	case 3:
		task = true
		w("approval: {message: %s}", g.one(genText))
	case 4:
		w("choice:")
		w("  cases:")
		for range g.pick(2) + 1 {
			w("    - when: %q", g.one(genWhen))
			w("      next: %s", g.target(flow, i))
		}
		if g.pick(2) == 0 {
			w("  default: %s", g.target(flow, i))
		}
		return
	case 5:
		if g.pick(2) == 0 {
			w("wait: {duration: %s}", g.one(genDurations))
		} else {
			w("wait: {until: %s}", g.one(genUntil))
		}
	case 6:
		w("set: {v: %s}", g.value())
	case 7:
		w("succeed: {}")
		return
	case 8:
		w("fail: {error: E, cause: %s}", g.one(genText))
		return
	case 9:
		retries = true
		w("parallel:")
		w("  branches:")
		g.depth++
		for range g.pick(2) + 1 {
			fmt.Fprintf(b, "%s    - steps:\n", pad)
			g.flow(b, indent+4, inMap)
		}
		g.depth--
	case 10:
		retries = true
		w("map:")
		items := "{{ input.xs }}"
		if inMap && g.pick(2) == 0 {
			items = "{{ context.map.item.value.v }}"
		}
		w("  items: %q", items)
		if g.pick(3) == 0 {
			w("  tolerated_failures: %s", []string{"1", `"10%"`, "2147483648"}[g.pick(3)])
		}
		w("  steps:")
		g.depth++
		g.flow(b, indent+3, true)
		g.depth--
	}
	if task && g.pick(3) == 0 {
		w("timeout: %s", g.one(genDurations))
	}
	if (task || retries) && g.pick(3) == 0 {
		w("retry: [{errors: %s, max_delay: %s}]", g.one(genErrors), g.one(genDurations))
	}
	if (task || retries) && g.pick(3) == 0 {
		w("catch: [{errors: %s, next: %s}]", g.one(genErrors), g.target(flow, i))
	}
	if !last && g.pick(4) == 0 {
		w("next: %s", g.target(flow, i))
	}
}

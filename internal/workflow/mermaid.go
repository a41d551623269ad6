package workflow

import (
	"fmt"
	"strings"
)

// Mermaid renders the workflow as a Mermaid flowchart: one node per step
// (its shape says its kind), solid arrows for the flow, labelled arrows for
// choice cases, dotted arrows for catches, and subgraphs for parallel
// branches and map sub-flows. The output is deterministic.
func Mermaid(c *Checked) string {
	wf, g := c.Workflow, c.checker.g
	var b strings.Builder
	b.WriteString("flowchart TD\n")
	fmt.Fprintf(&b, "  start((%s))\n", mermaidText(wf.Name))
	if len(wf.Steps) > 0 {
		fmt.Fprintf(&b, "  start --> %s\n", node(wf.Steps[0].ID))
	}
	writeFlow(&b, g, wf.Steps, "  ", "finish")
	b.WriteString("  finish((end))\n")
	return b.String()
}

func writeFlow(b *strings.Builder, g *graph, steps []*Step, indent, end string) {
	for _, s := range steps {
		if s.ID == "" {
			continue
		}
		fmt.Fprintf(b, "%s%s\n", indent, mermaidNode(s))
		switch {
		case s.Parallel != nil:
			for i, branch := range s.Parallel.Branches {
				fmt.Fprintf(b, "%ssubgraph branch_%s_%d [branch %d]\n", indent, s.ID, i+1, i+1)
				writeFlow(b, g, branch, indent+"  ", "join_"+s.ID)
				fmt.Fprintf(b, "%send\n", indent)
				if len(branch) > 0 {
					fmt.Fprintf(b, "%s%s --> %s\n", indent, node(s.ID), node(branch[0].ID))
				}
			}
			fmt.Fprintf(b, "%sjoin_%s{{join}}\n", indent, s.ID)
		case s.Map != nil:
			fmt.Fprintf(b, "%ssubgraph each_%s [for each item]\n", indent, s.ID)
			writeFlow(b, g, s.Map.Steps, indent+"  ", "join_"+s.ID)
			fmt.Fprintf(b, "%send\n", indent)
			if len(s.Map.Steps) > 0 {
				fmt.Fprintf(b, "%s%s --> %s\n", indent, node(s.ID), node(s.Map.Steps[0].ID))
			}
			fmt.Fprintf(b, "%sjoin_%s{{collect}}\n", indent, s.ID)
		}
		from := node(s.ID)
		if s.Parallel != nil || s.Map != nil {
			from = "join_" + s.ID
		}
		switch {
		case s.Kind == KindChoice && s.Choice != nil:
			for _, c := range s.Choice.Cases {
				fmt.Fprintf(b, "%s%s -->|%s| %s\n", indent, from, mermaidText(c.When), node(c.Next))
			}
			if s.Choice.Default != "" {
				fmt.Fprintf(b, "%s%s -->|otherwise| %s\n", indent, from, node(s.Choice.Default))
			}
		case s.Kind == KindFail:
			fmt.Fprintf(b, "%s%s --> %s\n", indent, from, end)
		default:
			next := g.succ[s.ID]
			if len(next) == 0 {
				fmt.Fprintf(b, "%s%s --> %s\n", indent, from, end)
			}
			for _, n := range next {
				fmt.Fprintf(b, "%s%s --> %s\n", indent, from, node(n))
			}
		}
		for _, c := range s.Catch {
			fmt.Fprintf(b, "%s%s -.->|%s| %s\n", indent, node(s.ID), mermaidText(strings.Join(c.Errors, ", ")), node(c.Next))
		}
	}
}

// node is a step's Mermaid node id. Step ids go in with a prefix, so that
// none can be a Mermaid keyword ("end", "style", "class", ...), which
// breaks the diagram, nor the name of a node the diagram adds (start,
// finish, join_x, each_x, branch_x_1). Fix: a step called end, start or
// finish broke or rewired the graph.
func node(id string) string { return "s_" + id }

// mermaidNode draws a step with the shape of its kind.
func mermaidNode(s *Step) string {
	id := node(s.ID)
	label := mermaidText(s.ID + ": " + s.Kind)
	switch s.Kind {
	case KindChoice:
		return fmt.Sprintf("%s{%s}", id, label)
	case KindAI:
		if s.AI == nil {
			break
		}
		return fmt.Sprintf("%s[[%s]]", id, mermaidText(s.ID+": ai "+s.AI.Model))
	case KindMCP:
		if s.MCP == nil {
			break
		}
		return fmt.Sprintf("%s[/%s/]", id, mermaidText(s.ID+": mcp "+s.MCP.Server+"/"+s.MCP.Tool))
	case KindApproval:
		return fmt.Sprintf("%s[\\%s/]", id, label)
	case KindSucceed, KindFail:
		return fmt.Sprintf("%s([%s])", id, label)
	case KindWait:
		return fmt.Sprintf("%s>%s]", id, label)
	}
	return fmt.Sprintf("%s[%s]", id, label)
}

// mermaidText quotes text for a Mermaid label.
func mermaidText(s string) string {
	// | would end an edge label early.
	s = strings.NewReplacer(`"`, "#quot;", "|", "#124;", "\n", " ").Replace(s)
	return `"` + s + `"`
}

package workflow

import (
	"fmt"
	"strings"
)

// Mermaid renders the workflow as a Mermaid flowchart: one node per step
// (its shape says its kind), solid arrows for the flow, labelled arrows for
// choice cases, dotted arrows for catches, and subgraphs for parallel
// branches and map sub-flows. The output is deterministic.
func Mermaid(wf *Workflow) string {
	r := &reporter{file: wf.File}
	g := checkStructure(r, wf)
	var b strings.Builder
	b.WriteString("flowchart TD\n")
	fmt.Fprintf(&b, "  start((%s))\n", mermaidText(wf.Name))
	if len(wf.Steps) > 0 {
		fmt.Fprintf(&b, "  start --> %s\n", wf.Steps[0].ID)
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
				fmt.Fprintf(b, "%ssubgraph %s_branch%d [branch %d]\n", indent, s.ID, i+1, i+1)
				writeFlow(b, g, branch, indent+"  ", s.ID+"_join")
				fmt.Fprintf(b, "%send\n", indent)
				if len(branch) > 0 {
					fmt.Fprintf(b, "%s%s --> %s\n", indent, s.ID, branch[0].ID)
				}
			}
			fmt.Fprintf(b, "%s%s_join{{join}}\n", indent, s.ID)
		case s.Map != nil:
			fmt.Fprintf(b, "%ssubgraph %s_each [for each item]\n", indent, s.ID)
			writeFlow(b, g, s.Map.Steps, indent+"  ", s.ID+"_join")
			fmt.Fprintf(b, "%send\n", indent)
			if len(s.Map.Steps) > 0 {
				fmt.Fprintf(b, "%s%s --> %s\n", indent, s.ID, s.Map.Steps[0].ID)
			}
			fmt.Fprintf(b, "%s%s_join{{collect}}\n", indent, s.ID)
		}
		from := s.ID
		if s.Parallel != nil || s.Map != nil {
			from = s.ID + "_join"
		}
		switch {
		case s.Kind == KindChoice && s.Choice != nil:
			for _, c := range s.Choice.Cases {
				fmt.Fprintf(b, "%s%s -->|%s| %s\n", indent, from, mermaidText(c.When), c.Next)
			}
			if s.Choice.Default != "" {
				fmt.Fprintf(b, "%s%s -->|otherwise| %s\n", indent, from, s.Choice.Default)
			}
		case s.Kind == KindFail:
			fmt.Fprintf(b, "%s%s --> %s\n", indent, from, end)
		default:
			next := g.succ[s.ID]
			if len(next) == 0 {
				fmt.Fprintf(b, "%s%s --> %s\n", indent, from, end)
			}
			for _, n := range next {
				fmt.Fprintf(b, "%s%s --> %s\n", indent, from, n)
			}
		}
		for _, c := range s.Catch {
			fmt.Fprintf(b, "%s%s -.->|%s| %s\n", indent, s.ID, mermaidText(strings.Join(c.Errors, ", ")), c.Next)
		}
	}
}

// mermaidNode draws a step with the shape of its kind.
func mermaidNode(s *Step) string {
	label := mermaidText(s.ID + ": " + s.Kind)
	switch s.Kind {
	case KindChoice:
		return fmt.Sprintf("%s{%s}", s.ID, label)
	case KindAI:
		if s.AI == nil {
			break
		}
		return fmt.Sprintf("%s[[%s]]", s.ID, mermaidText(s.ID+": ai "+s.AI.Model))
	case KindMCP:
		if s.MCP == nil {
			break
		}
		return fmt.Sprintf("%s[/%s/]", s.ID, mermaidText(s.ID+": mcp "+s.MCP.Server+"/"+s.MCP.Tool))
	case KindApproval:
		return fmt.Sprintf("%s[\\%s/]", s.ID, label)
	case KindSucceed, KindFail:
		return fmt.Sprintf("%s([%s])", s.ID, label)
	case KindWait:
		return fmt.Sprintf("%s>%s]", s.ID, label)
	}
	return fmt.Sprintf("%s[%s]", s.ID, label)
}

// mermaidText quotes text for a Mermaid label.
func mermaidText(s string) string {
	s = strings.NewReplacer(`"`, "#quot;", "\n", " ").Replace(s)
	return `"` + s + `"`
}

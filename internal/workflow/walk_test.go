package workflow

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestStepAndTaskKinds(t *testing.T) {
	t.Parallel()
	wf := &Workflow{Steps: []*Step{
		{ID: "classify", Kind: KindAI},
		{ID: "gather", Kind: KindParallel, Parallel: &ParallelStep{Branches: [][]*Step{
			{{ID: "lookup", Kind: KindMCP}},
			{{ID: "pause", Kind: KindWait}},
		}}},
		{ID: "each", Kind: KindMap, Map: &MapStep{Steps: []*Step{
			{ID: "call", Kind: KindService},
			{ID: "sign_off", Kind: KindApproval},
		}}},
		{ID: "done", Kind: KindSucceed},
	}}
	require.Equal(t, map[string]string{"classify": "ai", "gather": "parallel", "lookup": "mcp", "pause": "wait",
		"each": "map", "call": "service", "sign_off": "approval", "done": "succeed"}, wf.StepKinds())
	require.Equal(t, map[string]string{"classify": "ai", "lookup": "mcp", "call": "service", "sign_off": "approval"}, wf.TaskKinds())

	var order []string
	Walk(wf.Steps, func(s *Step) { order = append(order, s.ID) })
	require.Equal(t, []string{"classify", "gather", "lookup", "pause", "each", "call", "sign_off", "done"}, order)
}

package control

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/asl"
	"github.com/aiflow/aiflow/internal/workflow"
)

// TestBuildErrorIsNeverInternal: whatever stage of workflow.Build refuses
// a definition, Publish answers a CodeInvalidDefinition that names it.
// Only a bug of the compiler gets past the checker, so the compiler's own
// refusals are made up here.
func TestBuildErrorIsNeverInternal(t *testing.T) {
	t.Parallel()
	invalid := &workflow.InvalidMachineError{File: DefinitionFile, Workflow: "w", Problems: asl.ValidationErrors{
		{Path: "States.w.Timestamp", Message: `"tomorrow" is not an RFC 3339 timestamp`},
	}}
	ce := buildError(fmt.Errorf("publishing: %w", invalid))
	require.Equal(t, CodeInvalidDefinition, ce.Code)
	require.Contains(t, ce.Detail, "the compiler made an invalid state machine of workflow w")
	require.Equal(t, []Field{{Param: ParamDefinition, Location: DefinitionFile,
		Detail: `the state machine's States.w.Timestamp: "tomorrow" is not an RFC 3339 timestamp`}}, ce.Fields)
	require.Equal(t, "w", builtName(invalid))

	compile := &workflow.CompileError{File: DefinitionFile, Workflow: "c", Err: errors.New("compiling step \"x\": no")}
	ce = buildError(compile)
	require.Equal(t, CodeInvalidDefinition, ce.Code)
	require.Equal(t, []Field{{Param: ParamDefinition, Location: DefinitionFile, Detail: `compiling step "x": no`}}, ce.Fields)
	require.Equal(t, "c", builtName(compile))

	ce = buildError(errors.New("encoding the state machine of definition.yaml: boom"))
	require.Equal(t, CodeInvalidDefinition, ce.Code)
	require.Empty(t, builtName(errors.New("x")))
}

package control

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/aiflow/aiflow/internal/apistore"
	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/workflow"
)

// DefinitionFile is the file name diagnostics of a published definition
// name: "definition.yaml:12:5".
const DefinitionFile = "definition.yaml"

// PublishParams is a definition to publish.
type PublishParams struct {
	// Definition is the workflow's text, YAML or JSON.
	Definition []byte
	// DryRun checks and compiles the definition and stops there.
	DryRun bool
	// Principal publishes it: the version's creator.
	Principal string
}

// Published is what Publish made.
type Published struct {
	// Name is the workflow's name. Publish sets it as soon as the
	// definition checks, also when it fails later, so that the caller can
	// say which workflow failed.
	Name string
	// ASL is the compiled state machine, with the queue substitutions in;
	// Graph is a Mermaid flowchart of the workflow.
	ASL, Graph string
	// Workflow, Version and Created are what the store recorded; unset on
	// a dry run. Created is false when the latest version had the same
	// definition already, and no version was added.
	Workflow apistore.Workflow
	Version  apistore.Version
	Created  bool
}

// Publish builds a definition (see workflow.Build) and, unless it is a dry
// run, creates or updates its state machine and stores an immutable
// version. A definition that does not check or compile (whatever stage of
// workflow.Build refuses it), or that sends to a queue this deployment has
// none of, is a CodeInvalidDefinition; a state machine of its name that
// was not published here is a CodeNameTaken. Other errors are the store's
// and the engine's.
func (s *Service) Publish(ctx context.Context, p PublishParams) (Published, error) {
	catalog, err := s.catalog(ctx)
	if err != nil {
		return Published{}, err
	}
	built, err := workflow.Build(DefinitionFile, p.Definition, catalog)
	if err != nil {
		return Published{Name: builtName(err)}, buildError(err)
	}
	name := built.Checked.Workflow.Name
	if err := checkBuiltText(built); err != nil {
		return Published{Name: name}, err
	}
	out := Published{Name: name, ASL: built.ASL, Graph: built.Graph}
	if p.DryRun {
		return out, nil
	}
	definition, err := workflow.SubstituteQueues(built.ASL, s.opts.QueueURLs)
	var me *workflow.MissingQueueError
	if errors.As(err, &me) {
		return out, &Error{Code: CodeInvalidDefinition, Detail: me.Error()}
	}
	if err != nil {
		return out, err
	}
	arn, versionARN, err := s.deploy(ctx, name, definition)
	if err != nil {
		return out, err
	}
	var inputSchema string
	if built.Checked.Workflow.Input != nil {
		inputSchema = string(built.Checked.Workflow.Input.Raw)
	}
	sum := sha256.Sum256(p.Definition)
	res, err := s.opts.Store.Publish(ctx, apistore.Version{
		Workflow: name, Definition: string(p.Definition), ASL: built.ASL, Graph: built.Graph, InputSchema: inputSchema,
		Checksum: "sha256:" + hex.EncodeToString(sum[:]), CreatedBy: p.Principal, CreatedAt: s.opts.NowFunc().UTC(),
		StateMachineVersionARN: versionARN,
	}, arn)
	s.publishes.Add(1)
	if err != nil {
		return out, err
	}
	out.Workflow, out.Version, out.Created = res.Workflow, res.Version, res.Created
	return out, nil
}

// builtName is the workflow's name when the definition checked and a
// later stage of workflow.Build failed, "" otherwise.
func builtName(err error) string {
	var ce *workflow.CompileError
	var ie *workflow.InvalidMachineError
	switch {
	case errors.As(err, &ie):
		return ie.Workflow
	case errors.As(err, &ce):
		return ce.Workflow
	}
	return ""
}

// buildError turns any error of workflow.Build into a
// CodeInvalidDefinition: the checker's diagnostics name each
// file:line:col; a definition that checked and still did not compile, or
// compiled to a state machine that is not valid ASL, is a bug of the
// compiler, but the definition is what made it, so the caller gets a 4xx
// naming it, never an internal error.
func buildError(err error) *Error {
	var diags workflow.Diagnostics
	var ie *workflow.InvalidMachineError
	switch {
	case errors.As(err, &diags):
		fields := make([]Field, len(diags))
		for i, d := range diags {
			detail := d.Msg
			if d.Step != "" {
				detail += fmt.Sprintf(" (step %q)", d.Step)
			}
			if d.Hint != "" {
				detail += "; hint: " + d.Hint
			}
			fields[i] = Field{Param: ParamDefinition, Location: fmt.Sprintf("%s:%d:%d", d.File, d.Pos.Line, d.Pos.Col), Detail: detail}
		}
		return &Error{Code: CodeInvalidDefinition, Detail: fmt.Sprintf("the definition has %d error(s)", len(fields)), Fields: fields}
	case errors.As(err, &ie):
		fields := make([]Field, len(ie.Problems))
		for i, p := range ie.Problems {
			fields[i] = Field{Param: ParamDefinition, Location: DefinitionFile, Detail: "the state machine's " + p.Error()}
		}
		return &Error{Code: CodeInvalidDefinition, Detail: fmt.Sprintf("the compiler made an invalid state machine of workflow %s (a bug of the compiler; please report it with the definition)", ie.Workflow), Fields: fields}
	}
	return &Error{Code: CodeInvalidDefinition, Detail: "the definition could not be compiled",
		Fields: []Field{{Param: ParamDefinition, Location: DefinitionFile, Detail: err.Error()}}}
}

// tracing is the Tracing of an update: on when the options turn it on,
// else unchanged.
func (s *Service) tracing() *bool {
	if !s.opts.StateMachineTracing {
		return nil
	}
	on := true
	return &on
}

// deploy creates the workflow's state machine, or updates the one it was
// published to before, publishing a Step Functions version of it either
// way (publish=true), and returns the state machine's ARN and the
// version's: executions of the workflow version start on that version,
// so that they run this definition on AWS as they do locally, whatever is
// published after.
func (s *Service) deploy(ctx context.Context, name, definition string) (arn, versionARN string, err error) {
	arn, err = s.opts.Store.StateMachineARN(ctx, name)
	if err != nil && !errors.Is(err, apistore.ErrNotFound) {
		return "", "", err
	}
	if arn != "" {
		out, err := s.opts.Engine.UpdateStateMachine(ctx, sfn.UpdateStateMachineInput{
			StateMachineARN: arn, Definition: &definition, Logging: s.opts.StateMachineLogging, Tracing: s.tracing(),
			Publish: true,
		})
		var ee *sfn.Error
		if err == nil || !errors.As(err, &ee) || ee.Code != sfn.CodeStateMachineDoesNotExist {
			return arn, out.StateMachineVersionARN, err
		}
		// The engine lost it (a local engine kept in memory): create it again.
	}
	smName := s.opts.StateMachinePrefix + name
	out, err := s.opts.Engine.CreateStateMachine(ctx, sfn.CreateStateMachineInput{
		Name: smName, Definition: definition, RoleARN: s.opts.StateMachineRoleARN,
		Logging: s.opts.StateMachineLogging, Tracing: s.opts.StateMachineTracing,
		Publish: true,
	})
	var ee *sfn.Error
	if errors.As(err, &ee) && ee.Code == sfn.CodeStateMachineAlreadyExists {
		return "", "", &Error{Code: CodeNameTaken,
			Detail: fmt.Sprintf("a state machine named %s exists that this API did not publish; delete it or publish under another name", smName)}
	}
	if err != nil {
		return "", "", err
	}
	return out.StateMachineARN, out.StateMachineVersionARN, nil
}

// catalog is what definitions are checked against now: the static
// catalog, and the live services' over it.
func (s *Service) catalog(ctx context.Context) (*workflow.Catalog, error) {
	if s.opts.ServiceCatalogFunc == nil {
		return s.opts.Catalog, nil
	}
	live, err := s.opts.ServiceCatalogFunc(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the service catalog: %w", err)
	}
	return workflow.MergeCatalogs(s.opts.Catalog, live), nil
}

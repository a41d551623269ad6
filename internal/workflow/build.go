package workflow

import (
	"fmt"

	"github.com/aiflow/aiflow/internal/asl"
)

// Built is a definition loaded, checked, compiled and validated: what
// `aiflow compile`, `aiflow run` and the API's publish make of one.
type Built struct {
	Checked *Checked
	// Machine is the compiled state machine, valid ASL.
	Machine *asl.StateMachine
	// ASL is Machine as indented JSON, with the queue substitutions
	// (AIQueueSubstitution, ...) in; SubstituteQueues fills them.
	ASL string
	// Graph is a Mermaid flowchart of the workflow.
	Graph string
}

// CompileError is a definition that passed the checks and that the
// compiler still refused; its text is the compiler's.
type CompileError struct {
	// File names the definition, Workflow is its name.
	File, Workflow string
	Err            error
}

func (e *CompileError) Error() string { return e.Err.Error() }

func (e *CompileError) Unwrap() error { return e.Err }

// InvalidMachineError is a state machine the compiler made that is not
// valid ASL: a bug of the compiler, not of the definition.
type InvalidMachineError struct {
	// File names the definition, Workflow is its name.
	File, Workflow string
	// Problems lists every problem asl.Validate found; there is at least
	// one.
	Problems asl.ValidationErrors
}

func (e *InvalidMachineError) Error() string {
	return fmt.Sprintf("the compiler made an invalid state machine of %s (a bug; please report it): %v", e.File, e.Problems[0])
}

// Build loads a definition (see Load), compiles it and validates the
// state machine. Its errors are Load's (Diagnostics for what the
// definition got wrong), a *CompileError, an *InvalidMachineError, or one
// encoding the state machine. Only Diagnostics are the definition's
// fault: the checks refuse everything the compiler relies on (see
// Compile), so the others are bugs, which FuzzCheckCompile looks for.
func Build(file string, src []byte, catalog *Catalog) (*Built, error) {
	checked, err := Load(file, src, catalog)
	if err != nil {
		return nil, err
	}
	m, err := compileGuarded(checked)
	if err != nil {
		return nil, &CompileError{File: file, Workflow: checked.Workflow.Name, Err: err}
	}
	if problems := asl.Validate(m); len(problems) > 0 {
		return nil, &InvalidMachineError{File: file, Workflow: checked.Workflow.Name, Problems: problems}
	}
	raw, err := m.MarshalIndent()
	if err != nil {
		return nil, fmt.Errorf("encoding the state machine of %s: %w", file, err)
	}
	return &Built{Checked: checked, Machine: m, ASL: string(raw), Graph: Mermaid(checked)}, nil
}

// compileGuarded compiles, turning a panic of the compiler into an error:
// a definition from the API must not take the server down, even through a
// bug.
func compileGuarded(c *Checked) (m *asl.StateMachine, err error) {
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("the compiler panicked (a bug; please report it): %v", r)
		}
	}()
	return Compile(c)
}

// Package workflow is aiflow's workflow definition language: it parses a
// definition (YAML, or the same model in JSON), checks it — names, the
// flow between steps, and the data each step reads, by type and by definite
// assignment — and compiles it to an Amazon States Language state machine.
// It does no I/O. The language is described in docs/workflow-language.md.
//
// The checker types the steps that call the world from a Catalog, read from
// a JSON file of this shape (either key may be left out):
//
//	{
//	  "servers": {                       // MCP servers, as tools/list gives them
//	    "support": {"tools": [{"name": "get_order", "inputSchema": {...}, "outputSchema": {...}}]}
//	  },
//	  "services": {                      // registered services, as the registry holds them
//	    "threat-intel": {"versions": [{
//	      "version": "1.2.0",
//	      "capabilities": ["ip.reputation", "cve.lookup"],
//	      "operations": [{
//	        "name": "reputation", "method": "GET", "path": "/v1/ip/{ip}/reputation",
//	        "idempotent": true,          // optional, as in the registry
//	        "request_schema": {...},     // optional: the body's JSON Schema
//	        "response_schema": {...}     // optional: the 2xx body's JSON Schema
//	      }]
//	    }]}
//	  }
//	}
//
// A service version and its operations use the field names of the
// registry's Service and Operation (internal/registry), so a registered
// operation marshals into a CatalogOperation. A service step's method and
// path select an operation of the versions it may call (by name and
// version constraint, or by capability), its body is checked against the
// operation's request schema, and its output is typed by the response
// schema.
package workflow

import (
	"encoding/json"
	"time"
)

// Workflow is a parsed definition.
type Workflow struct {
	File        string
	Name        string
	NamePos     Pos
	Description string
	// Timeout bounds a whole execution; zero means none.
	Timeout time.Duration
	// Input is the JSON Schema of the execution input.
	Input    *Schema
	InputPos Pos
	// Output maps the execution's output; nil means the whole execution
	// state, {"input": ..., "steps": {...}}.
	Output *Value
	Steps  []*Step
}

// Kinds of step.
const (
	KindAI       = "ai"
	KindMCP      = "mcp"
	KindService  = "service"
	KindChoice   = "choice"
	KindParallel = "parallel"
	KindMap      = "map"
	KindWait     = "wait"
	KindApproval = "approval"
	KindSet      = "set"
	KindSucceed  = "succeed"
	KindFail     = "fail"
)

// Step is one step of a flow.
type Step struct {
	ID   string
	Pos  Pos // where the step starts
	Kind string

	Next      string
	NextPos   Pos
	Retry     []Retry
	Catch     []Catch
	Timeout   time.Duration
	Heartbeat time.Duration
	// TimeoutPos and HeartbeatPos locate the fields (the step, when unset),
	// so that their errors point at them.
	TimeoutPos, HeartbeatPos Pos
	// Large marks an ai, mcp or service step whose result may be over the
	// payload limit: the worker stores a result over its threshold in the
	// blob store and steps.<id>.output holds a reference (see
	// docs/workflow-language.md, "Large results").
	Large bool

	AI       *AIStep
	MCP      *MCPStep
	Service  *ServiceStep
	Choice   *ChoiceStep
	Parallel *ParallelStep
	Map      *MapStep
	Wait     *WaitStep
	Approval *ApprovalStep
	Set      *Value
	Fail     *FailStep
}

// IsTask reports whether the step runs work outside the state machine (a
// worker or a human) and so has a timeout and a heartbeat.
func (s *Step) IsTask() bool {
	switch s.Kind {
	case KindAI, KindMCP, KindService, KindApproval:
		return true
	}
	return false
}

// Retry retries a failed task.
type Retry struct {
	Pos         Pos
	Errors      []string
	Attempts    int
	Interval    time.Duration
	Backoff     float64
	MaxDelay    time.Duration
	Jitter      bool
	HasAttempts bool
}

// Catch sends a failed step to another step.
type Catch struct {
	Pos     Pos
	Errors  []string
	Next    string
	NextPos Pos
}

// AIStep calls a language model.
type AIStep struct {
	Model        string
	System       *Template
	Prompt       *Template
	Temperature  *float64
	MaxTokens    int
	TopP         *float64
	Stop         []string
	OutputSchema *Schema
	Tools        []ToolRef
	MaxTurns     int
}

// ToolRef names an MCP tool an ai step may call.
type ToolRef struct {
	Server, Tool string
	Pos          Pos
}

// MCPStep calls a tool on an MCP server.
type MCPStep struct {
	Server, Tool string
	ToolPos      Pos
	Arguments    *Value // an object
}

// ServiceStep calls a registered HTTP service.
type ServiceStep struct {
	Service    string // by name, or
	Capability string // by what it can do
	// ServicePos is where the service's name or the capability is.
	ServicePos Pos
	// Version is a semantic version constraint ("^1.2", "~1.4",
	// ">=1.2 <2"), only with Service; empty means any version.
	Version      string
	VersionPos   Pos
	Method       string
	Path         *Template
	Body         *Value
	OutputSchema *Schema
}

// ChoiceStep branches on conditions.
type ChoiceStep struct {
	Cases      []ChoiceCase
	Default    string
	DefaultPos Pos
}

// ChoiceCase is one condition and where it leads.
type ChoiceCase struct {
	When    string
	WhenPos Pos
	Next    string
	NextPos Pos
}

// ParallelStep runs branches at once.
type ParallelStep struct {
	Branches [][]*Step
}

// MapStep runs a sub-flow for each item of an array.
type MapStep struct {
	Items                      *Template // a single {{ path }} to an array
	ItemsPos                   Pos
	MaxConcurrency             int
	ToleratedFailureCount      *int
	ToleratedFailurePercentage *float64
	Steps                      []*Step
}

// WaitStep pauses for a time or until a time.
type WaitStep struct {
	Duration time.Duration
	Until    *Template // a timestamp: a literal or a single {{ path }}
}

// ApprovalStep waits for a human to decide.
type ApprovalStep struct {
	Message   *Template
	Approvers []string
}

// FailStep ends the execution with an error.
type FailStep struct {
	Error string
	Cause string
}

// Template is a string that may embed {{ path }} expressions.
type Template struct {
	Src string
	Pos Pos
	// marks are where each "{{" of Src is in the file. A byte offset in
	// Src maps to a column only while the text stays on one source line;
	// block scalars (| and >), folded lines and escapes break that, and
	// prompts are often written as block scalars. Fix: errors inside a
	// multi-line template were reported on the wrong line.
	marks []mark
}

// mark ties a byte offset of a Template's Src to its place in the file.
type mark struct {
	offset int
	pos    Pos
}

// Value is a JSON value written in a definition whose strings may be
// templates: arguments, bodies, set and output mappings.
type Value struct {
	Pos    Pos
	Kind   string // "object", "array", "string", "number", "bool", "null"
	Object []Field
	Array  []*Value
	String *Template
	Raw    json.RawMessage // numbers, booleans, null
}

// Field is one member of an object Value.
type Field struct {
	Key   string
	Value *Value
}

// Schema is a JSON Schema written in a definition.
type Schema struct {
	Pos Pos
	Raw json.RawMessage
	// fields locate the schema's properties, by their dotted path
	// (customer.email), so that an error about one points at it.
	fields map[string]Pos
}

// fieldPos is where the property at a dotted path is declared, or the
// schema's own position when it is not known.
func (s *Schema) fieldPos(path string) Pos {
	if p, ok := s.fields[path]; ok {
		return p
	}
	return s.Pos
}

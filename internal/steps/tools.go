package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aiflow/aiflow/internal/ai"
)

// ToolInfo describes a tool an agent step may use. Name is
// "server/tool", as a workflow's tools list names it; InputSchema is a
// JSON Schema object.
type ToolInfo struct {
	Name        string
	Description string
	InputSchema json.RawMessage
}

// ToolRunner lists and calls the tools of agent steps: the MCP client pool
// in production, InProcessTools locally and in tests. CallTool returns
// what the model reads and whether the tool reported an error (which the
// model is told, and may recover from); its error is the runner's own
// failure (an unreachable server), which fails the step.
type ToolRunner interface {
	ListTools(ctx context.Context) ([]ToolInfo, error)
	CallTool(ctx context.Context, name string, args json.RawMessage) (result string, isError bool, err error)
}

// ToolFunc is a tool served in process: it answers args (a JSON object)
// with text for the model, or an error the model is shown as the tool's
// error.
type ToolFunc func(ctx context.Context, args json.RawMessage) (string, error)

// InProcessTools is a ToolRunner over Go functions in the process. The zero
// value has no tools; Add them before use. It is safe for concurrent use.
type InProcessTools struct {
	mu    sync.RWMutex
	tools map[string]inProcessTool
}

type inProcessTool struct {
	info ToolInfo
	f    ToolFunc
}

// Add serves f as the tool info.Name ("server/tool"). It returns an error
// when the name has no "/" or the input schema is not a JSON object.
func (t *InProcessTools) Add(info ToolInfo, f ToolFunc) error {
	if server, tool, ok := strings.Cut(info.Name, "/"); !ok || server == "" || tool == "" {
		return fmt.Errorf("adding the tool %q: a tool is named server/tool", info.Name)
	}
	if len(info.InputSchema) == 0 {
		info.InputSchema = json.RawMessage(`{"type":"object"}`)
	}
	var obj map[string]any
	if err := json.Unmarshal(info.InputSchema, &obj); err != nil {
		return fmt.Errorf("adding the tool %q: the input schema is not a JSON object: %w", info.Name, err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tools == nil {
		t.tools = map[string]inProcessTool{}
	}
	t.tools[info.Name] = inProcessTool{info: info, f: f}
	return nil
}

// ListTools returns the tools, by name.
func (t *InProcessTools) ListTools(context.Context) ([]ToolInfo, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]ToolInfo, 0, len(t.tools))
	for _, tool := range t.tools {
		out = append(out, tool.info)
	}
	slices.SortFunc(out, func(a, b ToolInfo) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// CallTool runs the tool name. An unknown tool and a tool's error are
// reported to the model (isError), never as the runner's failure.
func (t *InProcessTools) CallTool(ctx context.Context, name string, args json.RawMessage) (string, bool, error) {
	t.mu.RLock()
	tool, ok := t.tools[name]
	t.mu.RUnlock()
	if !ok {
		return fmt.Sprintf("there is no tool %q", name), true, nil
	}
	out, err := tool.f(ctx, args)
	if err != nil {
		return err.Error(), true, nil
	}
	return out, false, nil
}

// modelToolName is the name a model sees for "server/tool": model APIs
// take only letters, digits, "_" and "-" in a tool's name.
func modelToolName(name string) string {
	return strings.ReplaceAll(name, "/", "__")
}

// stepTools resolves the tools a step names into what the model is
// offered, and the workflow name of each model tool name.
func stepTools(ctx context.Context, runner ToolRunner, names []string) ([]ai.Tool, map[string]string, error) {
	if runner == nil {
		return nil, nil, ai.Errorf(CodeToolUnavailable, "the step uses tools (%s) but this worker has no tool runner", strings.Join(names, ", "))
	}
	all, err := runner.ListTools(ctx)
	if err != nil {
		return nil, nil, &ai.Error{Code: CodeToolUnavailable, Message: "listing the tools: " + err.Error(), Err: err}
	}
	byName := map[string]ToolInfo{}
	for _, t := range all {
		byName[t.Name] = t
	}
	tools := make([]ai.Tool, 0, len(names))
	back := map[string]string{}
	for _, n := range names {
		info, ok := byName[n]
		if !ok {
			return nil, nil, ai.Errorf(CodeToolUnavailable, "no tool %q is served", n)
		}
		mn := modelToolName(n)
		back[mn] = n
		tools = append(tools, ai.Tool{Name: mn, Description: info.Description, InputSchema: info.InputSchema})
	}
	return tools, back, nil
}

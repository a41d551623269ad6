package workflow

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aiflow/aiflow/internal/asl"
	"github.com/aiflow/aiflow/internal/task"
	"github.com/aiflow/aiflow/internal/workflow/expr"
)

// Definition substitutions of the queues task steps send to. The SAM
// template (and the local engine) fill them in.
const (
	AIQueueSubstitution       = "${AiStepQueueUrl}"
	MCPQueueSubstitution      = "${McpStepQueueUrl}"
	ServiceQueueSubstitution  = "${ServiceStepQueueUrl}"
	ApprovalQueueSubstitution = "${ApprovalQueueUrl}"
)

// SendMessageWaitForTaskToken is the resource of every task step: Step
// Functions puts a message on an SQS queue and waits for a worker (or the
// approvals API) to answer with the task token.
const SendMessageWaitForTaskToken = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"

// Reserved state names the compiler adds; step ids cannot take them, as
// ids have no "-".
const (
	startState  = "aiflow-start"
	outputState = "aiflow-output"
)

var queueOf = map[string]string{
	KindAI: AIQueueSubstitution, KindMCP: MCPQueueSubstitution,
	KindService: ServiceQueueSubstitution, KindApproval: ApprovalQueueSubstitution,
}

// Compile turns a checked workflow into a state machine. The execution
// state is {"input": <execution input>, "steps": {<id>: {"output": ...}}};
// each task's worker answers {"output": ...}, which lands at $.steps.<id>.
//
// Compile relies on what the checks refused; each of these is a located
// diagnostic of Parse or Check, and FuzzCheckCompile holds the two in step
// (a checked definition compiles, and asl.Validate accepts the result):
//
//   - step ids match idRE (so "aiflow-<id>-item" is a state name too) and
//     are unique in the whole workflow; every flow, branch and sub-flow has
//     a first step; every next, default and catch resolves in its flow;
//   - durations are whole seconds in Step Functions' ranges: timeouts at
//     least 2s with a shorter heartbeat, waits and intervals up to
//     asl.MaxSeconds, max_delay up to asl.MaxDelaySeconds;
//   - a wait has a duration, or an until that is a single path to a
//     string or an RFC 3339 timestamp (asl.ValidateTimestamp);
//   - error names pass asl.ValidateErrorName, States.ALL stands alone and
//     only in the last retrier or catcher;
//   - numbers are finite float64s (JSON text), booleans true or false;
//     max_concurrency, tolerated_failures and the ai settings are in range;
//   - no key of a value or of an ai output_schema ends in ".$", and no
//     text holds a queue substitution (the deployment replaces those);
//   - templates parse; map items is a single path; a list holding
//     templates holds no mapping (it becomes States.Array);
//   - every comparison of a condition has a path on one side, of a kind
//     the checker typed; a matches pattern is valid.
func Compile(c *Checked) (*asl.StateMachine, error) {
	wf := c.Workflow
	comp := &compiler{c: c, env: c.checker}
	m := &asl.StateMachine{Comment: wf.Description, StartAt: startState, States: map[string]*asl.State{}}
	if wf.Timeout > 0 {
		secs := int(wf.Timeout.Seconds())
		m.TimeoutSeconds = &secs
	}
	m.States[startState] = &asl.State{
		Type:       asl.TypePass,
		Comment:    "aiflow: the execution input goes to $.input; step results will go to $.steps",
		Parameters: mustJSON(map[string]any{"input.$": "$", "steps": map[string]any{}}),
		Next:       wf.Steps[0].ID,
	}
	end := ""
	if wf.Output != nil {
		end = outputState
		st := &asl.State{Type: asl.TypePass, Comment: "aiflow: the workflow's output mapping", End: true}
		var out any
		var err error
		if wf.Output.Kind == "object" {
			out, err = comp.value(wf.Output, nil)
		} else {
			// Parameters must be an object: any other output (a single
			// {{ path }}, text, a list, a literal) goes in as "value" and
			// comes out alone. Fix: it used to make an invalid Pass state.
			o := map[string]any{}
			err = comp.put(o, "value", wf.Output, nil)
			out = o
			st.OutputPath = asl.Ref("$.value")
		}
		if err != nil {
			return nil, err
		}
		st.Parameters = mustJSON(out)
		m.States[outputState] = st
	}
	if err := comp.flow(m.States, wf.Steps, end, nil); err != nil {
		return nil, err
	}
	return m, nil
}

type compiler struct {
	c   *Checked
	env *checker
}

// flow compiles a flow's steps into states. end is the state the flow's
// ends go to ("" means End: true). mapStep is the enclosing map, if any.
func (comp *compiler) flow(states map[string]*asl.State, steps []*Step, end string, mapStep *Step) error {
	for _, s := range steps {
		st, err := comp.step(s, mapStep)
		if err != nil {
			return fmt.Errorf("compiling step %q: %w", s.ID, err)
		}
		if st.Type != asl.TypeChoice && st.Type != asl.TypeSucceed && st.Type != asl.TypeFail {
			if next := comp.env.g.succ[s.ID]; len(next) > 0 {
				st.Next = next[0]
			} else if end != "" {
				st.Next = end
			} else {
				st.End = true
			}
		}
		if st.Type == asl.TypeSucceed && end != "" {
			// A succeed step ends the flow through the output mapping.
			st = &asl.State{Type: asl.TypePass, Comment: "aiflow: succeed", Next: end}
		}
		states[s.ID] = st
	}
	return nil
}

func (comp *compiler) step(s *Step, mapStep *Step) (*asl.State, error) {
	resultPath := asl.Ref("$.steps." + s.ID)
	switch s.Kind {
	case KindAI, KindMCP, KindService, KindApproval:
		return comp.task(s, mapStep)
	case KindChoice:
		st := &asl.State{Type: asl.TypeChoice, Default: s.Choice.Default}
		for _, cs := range s.Choice.Cases {
			n, err := expr.Parse(cs.When)
			if err != nil {
				return nil, err
			}
			rule, err := comp.rule(n, s.ID, mapStep)
			if err != nil {
				return nil, err
			}
			rule.Next = cs.Next
			st.Choices = append(st.Choices, *rule)
		}
		return st, nil
	case KindWait:
		st := &asl.State{Type: asl.TypeWait}
		switch {
		case s.Wait.Until != nil:
			t, err := expr.ParseTemplate(s.Wait.Until.Src)
			if err != nil {
				return nil, err
			}
			if p, ok := t.Single(); ok {
				st.TimestampPath = comp.path(p, mapStep)
			} else {
				lit, _ := t.Literal()
				st.Timestamp = lit
			}
		default:
			secs := int(s.Wait.Duration.Seconds())
			st.Seconds = &secs
		}
		return st, nil
	case KindSet:
		v, err := comp.value(s.Set, mapStep)
		if err != nil {
			return nil, err
		}
		return &asl.State{Type: asl.TypePass, Parameters: mustJSON(map[string]any{"output": v}), ResultPath: resultPath}, nil
	case KindSucceed:
		return &asl.State{Type: asl.TypeSucceed}, nil
	case KindFail:
		return &asl.State{Type: asl.TypeFail, Error: s.Fail.Error, Cause: s.Fail.Cause}, nil
	case KindParallel:
		st := &asl.State{Type: asl.TypeParallel}
		var merges []string
		for i, b := range s.Parallel.Branches {
			br := asl.Branch{StartAt: b[0].ID, States: map[string]*asl.State{}}
			if err := comp.flow(br.States, b, "", mapStep); err != nil {
				return nil, err
			}
			st.Branches = append(st.Branches, br)
			merges = append(merges, fmt.Sprintf("$[%d].steps", i))
		}
		// Each branch ends with the whole state; the steps they ran are
		// merged back, so later steps read them as steps.<id>.output.
		merged := merges[0]
		for _, m := range merges[1:] {
			merged = fmt.Sprintf("States.JsonMerge(%s, %s, false)", merged, m)
		}
		sel := map[string]any{"input.$": "$[0].input", "steps.$": merged}
		if mapStep != nil {
			// Inside a map's sub-flow the state also holds the item and
			// its index. Fix: they were dropped here, so a step after the
			// parallel that read context.map.item failed at run time.
			sel["item.$"], sel["index.$"] = "$[0].item", "$[0].index"
		}
		st.ResultSelector = mustJSON(sel)
		st.ResultPath = asl.Ref("$")
		comp.errorHandling(st, s)
		return st, nil
	case KindMap:
		return comp.mapState(s, mapStep)
	}
	return nil, fmt.Errorf("unknown step kind %q", s.Kind)
}

func (comp *compiler) mapState(s *Step, outer *Step) (*asl.State, error) {
	t, err := expr.ParseTemplate(s.Map.Items.Src)
	if err != nil {
		return nil, err
	}
	items, _ := t.Single()
	itemState := "aiflow-" + s.ID + "-item"
	proc := &asl.ItemProcessor{
		ProcessorConfig: &asl.ProcessorConfig{Mode: "INLINE"},
		StartAt:         s.Map.Steps[0].ID,
		States:          map[string]*asl.State{},
	}
	if err := comp.flow(proc.States, s.Map.Steps, itemState, s); err != nil {
		return nil, err
	}
	last := s.Map.Steps[len(s.Map.Steps)-1].ID
	proc.States[itemState] = &asl.State{
		Type:       asl.TypePass,
		Comment:    "aiflow: each item's result is the output of the sub-flow's last step",
		Parameters: mustJSON(map[string]any{"value.$": "$.steps." + last + ".output"}),
		OutputPath: asl.Ref("$.value"),
		End:        true,
	}
	st := &asl.State{
		Type:          asl.TypeMap,
		ItemsPath:     comp.path(items, outer),
		ItemSelector:  mustJSON(map[string]any{"input.$": "$.input", "steps.$": "$.steps", "item.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index"}),
		ItemProcessor: proc,
		ResultPath:    asl.Ref("$.steps." + s.ID),
	}
	st.ResultSelector = mustJSON(map[string]any{"output.$": "$"})
	if s.Map.MaxConcurrency > 0 {
		mc := s.Map.MaxConcurrency
		st.MaxConcurrency = &mc
	}
	if s.Map.ToleratedFailureCount != nil || s.Map.ToleratedFailurePercentage != nil {
		// Step Functions tolerates failed items only in a distributed Map,
		// whose items run as child executions of their own.
		proc.ProcessorConfig = &asl.ProcessorConfig{Mode: "DISTRIBUTED", ExecutionType: "STANDARD"}
		st.ToleratedFailureCount = s.Map.ToleratedFailureCount
		st.ToleratedFailurePercentage = s.Map.ToleratedFailurePercentage
	}
	comp.errorHandling(st, s)
	return st, nil
}

// task compiles a step done by a worker (ai, mcp, service) or a human
// (approval): a message with the task token on the kind's queue.
func (comp *compiler) task(s *Step, mapStep *Step) (*asl.State, error) {
	spec := map[string]any{}
	data := map[string]any{}
	put := func(key string, t *Template) error {
		if t == nil {
			return nil
		}
		k, v, err := comp.template(key, t, mapStep)
		if err != nil {
			return err
		}
		data[k] = v
		return nil
	}
	switch s.Kind {
	case KindAI:
		a := s.AI
		spec["model"] = a.Model
		if a.Temperature != nil {
			spec["temperature"] = *a.Temperature
		}
		if a.MaxTokens > 0 {
			spec["max_tokens"] = a.MaxTokens
		}
		if a.TopP != nil {
			spec["top_p"] = *a.TopP
		}
		if len(a.Stop) > 0 {
			spec["stop"] = a.Stop
		}
		if a.OutputSchema != nil {
			spec["output_schema"] = json.RawMessage(a.OutputSchema.Raw)
		}
		if len(a.Tools) > 0 {
			var tools []string
			for _, t := range a.Tools {
				tools = append(tools, t.Server+"/"+t.Tool)
			}
			spec["tools"] = tools
			turns := a.MaxTurns
			if turns == 0 {
				turns = 10
			}
			spec["max_turns"] = turns
		}
		if err := put("system", a.System); err != nil {
			return nil, err
		}
		if err := put("prompt", a.Prompt); err != nil {
			return nil, err
		}
	case KindMCP:
		spec["server"], spec["tool"] = s.MCP.Server, s.MCP.Tool
		args := map[string]any{}
		if s.MCP.Arguments != nil {
			v, err := comp.value(s.MCP.Arguments, mapStep)
			if err != nil {
				return nil, err
			}
			args = v.(map[string]any)
		}
		data["arguments"] = args
	case KindService:
		sv := s.Service
		if sv.Service != "" {
			spec["service"] = sv.Service
			if sv.Version != "" {
				spec["version"] = sv.Version
			}
		} else {
			spec["capability"] = sv.Capability
		}
		spec["method"] = sv.Method
		if sv.OutputSchema != nil {
			// The worker checks the answer against it, as the checker
			// trusted it.
			spec["output_schema"] = json.RawMessage(sv.OutputSchema.Raw)
		}
		if err := put("path", sv.Path); err != nil {
			return nil, err
		}
		if sv.Body != nil {
			// Fix: a body that was a single {{ path }} (or a list of
			// templates) went out as the path's text.
			if err := comp.put(data, "body", sv.Body, mapStep); err != nil {
				return nil, err
			}
		}
	case KindApproval:
		if len(s.Approval.Approvers) > 0 {
			spec["approvers"] = s.Approval.Approvers
		}
		if err := put("message", s.Approval.Message); err != nil {
			return nil, err
		}
	}
	timeout, heartbeat := int(s.Timeout.Seconds()), int(s.Heartbeat.Seconds())
	spec["timeout_seconds"] = timeout
	if s.Large {
		spec["large"] = true
	}
	body := task.Template(task.TemplateParams{StepID: s.ID, Kind: s.Kind, Spec: spec, Data: data})
	st := &asl.State{
		Type:             asl.TypeTask,
		Resource:         SendMessageWaitForTaskToken,
		Parameters:       mustJSON(map[string]any{"QueueUrl": queueOf[s.Kind], "MessageBody": body}),
		ResultPath:       asl.Ref("$.steps." + s.ID),
		TimeoutSeconds:   &timeout,
		HeartbeatSeconds: &heartbeat,
	}
	comp.errorHandling(st, s)
	return st, nil
}

// errorHandling adds the step's retries and catches; a caught error lands
// at $.steps.<id>.error as {"Error", "Cause"}.
func (comp *compiler) errorHandling(st *asl.State, s *Step) {
	for _, r := range s.Retry {
		interval := int(r.Interval.Seconds())
		attempts := r.Attempts
		backoff := r.Backoff
		rt := asl.Retrier{ErrorEquals: r.Errors, IntervalSeconds: &interval, MaxAttempts: &attempts, BackoffRate: &backoff}
		if r.MaxDelay > 0 {
			md := int(r.MaxDelay.Seconds())
			rt.MaxDelaySeconds = &md
		}
		if r.Jitter {
			rt.JitterStrategy = "FULL"
		}
		st.Retry = append(st.Retry, rt)
	}
	for _, c := range s.Catch {
		st.Catch = append(st.Catch, asl.Catcher{ErrorEquals: c.Errors, ResultPath: asl.Ref("$.steps." + s.ID + ".error"), Next: c.Next})
	}
}

// path renders a path as JSONPath; inside a map's sub-flow the item and
// its index are in the iteration's input.
func (comp *compiler) path(p expr.Path, mapStep *Step) string {
	if mapStep != nil && p.Root == expr.RootContext && len(p.Segments) >= 3 && p.Segments[0].Name == "map" && p.Segments[1].Name == "item" {
		rest := expr.Path{Root: expr.RootInput, Segments: p.Segments[3:]}
		tail := strings.TrimPrefix(rest.JSONPath(), "$.input")
		if p.Segments[2].Name == "index" {
			return "$.index"
		}
		return "$.item" + tail
	}
	return p.JSONPath()
}

// template renders a template for a payload: a literal string, a single
// path passed through, or States.Format over the paths.
func (comp *compiler) template(key string, t *Template, mapStep *Step) (string, any, error) {
	pt, err := expr.ParseTemplate(t.Src)
	if err != nil {
		return "", nil, err
	}
	if lit, ok := pt.Literal(); ok {
		return key, lit, nil
	}
	if p, ok := pt.Single(); ok {
		return key + ".$", comp.path(p, mapStep), nil
	}
	var format strings.Builder
	var args []string
	for _, part := range pt.Parts {
		if part.IsPath {
			format.WriteString("{}")
			args = append(args, comp.path(part.Path, mapStep))
			continue
		}
		format.WriteString(intrinsicEscape(part.Text))
	}
	return key + ".$", fmt.Sprintf("States.Format('%s', %s)", format.String(), strings.Join(args, ", ")), nil
}

// intrinsicEscape escapes text for a string literal of an intrinsic
// function: \ ' { } take a backslash.
func intrinsicEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `'`, `\'`, `{`, `\{`, `}`, `\}`).Replace(s)
}

// put renders v as the member key of a payload template: a templated
// string, or a list holding templates, goes under key + ".$" as a path or
// an intrinsic function; any other value under key as it is.
func (comp *compiler) put(out map[string]any, key string, v *Value, mapStep *Step) error {
	switch {
	case v.Kind == "string":
		k, x, err := comp.template(key, v.String, mapStep)
		if err != nil {
			return err
		}
		out[k] = x
	case v.Kind == "array" && arrayNeedsIntrinsic(v):
		x, err := comp.arrayIntrinsic(v, mapStep)
		if err != nil {
			return err
		}
		out[key+".$"] = x
	default:
		x, err := comp.value(v, mapStep)
		if err != nil {
			return err
		}
		out[key] = x
	}
	return nil
}

// value renders a Value as a payload template. A templated string must be
// a member of an object (see put); as an element of a list it is only
// reached in a list that needs no intrinsic function, where strings are
// literal.
func (comp *compiler) value(v *Value, mapStep *Step) (any, error) {
	switch v.Kind {
	case "object":
		out := map[string]any{}
		for _, f := range v.Object {
			if err := comp.put(out, f.Key, f.Value, mapStep); err != nil {
				return nil, err
			}
		}
		return out, nil
	case "array":
		out := []any{}
		for _, el := range v.Array {
			x, err := comp.value(el, mapStep)
			if err != nil {
				return nil, err
			}
			out = append(out, x)
		}
		return out, nil
	case "string":
		pt, err := expr.ParseTemplate(v.String.Src)
		if err != nil {
			return nil, err
		}
		lit, ok := pt.Literal()
		if !ok {
			return nil, fmt.Errorf("a template outside an object member or a list: %q", v.String.Src)
		}
		return lit, nil
	default:
		return json.RawMessage(v.Raw), nil
	}
}

// arrayNeedsIntrinsic reports whether an array holds templated strings,
// itself or in a list it holds, which a payload template can only build
// with States.Array. Fix: a list of templates inside a list went out as the
// paths' text.
func arrayNeedsIntrinsic(v *Value) bool {
	for _, el := range v.Array {
		switch el.Kind {
		case "string":
			if t, err := expr.ParseTemplate(el.String.Src); err == nil {
				if _, lit := t.Literal(); !lit {
					return true
				}
			}
		case "array":
			if arrayNeedsIntrinsic(el) {
				return true
			}
		}
	}
	return false
}

// arrayIntrinsic renders a list as States.Array(...); its lists are
// States.Array calls too. The checker refused mappings in such a list.
func (comp *compiler) arrayIntrinsic(v *Value, mapStep *Step) (string, error) {
	var args []string
	for _, el := range v.Array {
		switch el.Kind {
		case "string":
			k, x, err := comp.template("k", el.String, mapStep)
			if err != nil {
				return "", err
			}
			if k == "k" {
				args = append(args, "'"+intrinsicEscape(x.(string))+"'")
			} else {
				args = append(args, x.(string))
			}
		case "array":
			x, err := comp.arrayIntrinsic(el, mapStep)
			if err != nil {
				return "", err
			}
			args = append(args, x)
		case "number", "bool", "null":
			args = append(args, string(el.Raw))
		default:
			return "", fmt.Errorf("an array with templates may hold only strings, numbers, booleans, null and arrays")
		}
	}
	return "States.Array(" + strings.Join(args, ", ") + ")", nil
}

// rule compiles a condition to a choice rule.
func (comp *compiler) rule(n expr.Node, step string, mapStep *Step) (*asl.ChoiceRule, error) {
	switch t := n.(type) {
	case *expr.Paren:
		return comp.rule(t.X, step, mapStep)
	case *expr.Not:
		inner, err := comp.rule(t.X, step, mapStep)
		if err != nil {
			return nil, err
		}
		return &asl.ChoiceRule{Not: inner}, nil
	case *expr.Binary:
		switch t.Op {
		case expr.OpAnd, expr.OpOr:
			var list []asl.ChoiceRule
			for _, side := range flatten(t, t.Op) {
				r, err := comp.rule(side, step, mapStep)
				if err != nil {
					return nil, err
				}
				list = append(list, *r)
			}
			if t.Op == expr.OpAnd {
				return &asl.ChoiceRule{And: list}, nil
			}
			return &asl.ChoiceRule{Or: list}, nil
		}
		return comp.comparison(t, step, mapStep)
	case *expr.Call:
		r := &asl.ChoiceRule{Variable: comp.path(t.Path, mapStep)}
		yes := true
		switch t.Func {
		case expr.FuncExists:
			r.IsPresent = &yes
		case expr.FuncIsNull:
			r.IsNull = &yes
		case expr.FuncIsString:
			r.IsString = &yes
		case expr.FuncIsNumber:
			r.IsNumeric = &yes
		case expr.FuncIsBoolean:
			r.IsBoolean = &yes
		case expr.FuncIsTimestamp:
			r.IsTimestamp = &yes
		case expr.FuncMatches:
			pat := t.Pattern.Str
			r.StringMatches = &pat
		}
		return r, nil
	case expr.Path:
		yes := true
		return &asl.ChoiceRule{Variable: comp.path(t, mapStep), BooleanEquals: &yes}, nil
	case *expr.Literal:
		// A constant condition: true or false whatever the data.
		yes := true
		r := &asl.ChoiceRule{Variable: "$", IsPresent: &yes}
		if !t.Bool {
			return &asl.ChoiceRule{Not: r}, nil
		}
		return r, nil
	}
	return nil, fmt.Errorf("cannot compile condition %s", n)
}

func flatten(n expr.Node, op expr.Op) []expr.Node {
	if p, ok := n.(*expr.Paren); ok {
		n = p.X
	}
	if b, ok := n.(*expr.Binary); ok && b.Op == op {
		return append(flatten(b.X, op), flatten(b.Y, op)...)
	}
	return []expr.Node{n}
}

var flipped = map[expr.Op]expr.Op{expr.OpLt: expr.OpGt, expr.OpGt: expr.OpLt, expr.OpLe: expr.OpGe, expr.OpGe: expr.OpLe, expr.OpEq: expr.OpEq, expr.OpNe: expr.OpNe}

var opNames = map[expr.Op]string{expr.OpEq: "Equals", expr.OpNe: "Equals", expr.OpLt: "LessThan", expr.OpGt: "GreaterThan", expr.OpLe: "LessThanEquals", expr.OpGe: "GreaterThanEquals"}

// comparison compiles X op Y, one side a path, into the choice operator of
// the values' kind: String*, Numeric*, Boolean* or IsNull.
func (comp *compiler) comparison(b *expr.Binary, step string, mapStep *Step) (*asl.ChoiceRule, error) {
	x, y, op := unparen(b.X), unparen(b.Y), b.Op
	if _, isPath := x.(expr.Path); !isPath {
		x, y, op = y, x, flipped[op]
	}
	left, ok := x.(expr.Path)
	if !ok {
		// Two literals: the checker warned; evaluate now.
		return nil, fmt.Errorf("a comparison needs a path on one side: %s", b)
	}
	rule := map[string]any{"Variable": comp.path(left, mapStep)}
	switch r := y.(type) {
	case *expr.Literal:
		switch r.Kind {
		case expr.String:
			rule["String"+opNames[op]] = r.Str
		case expr.Number, expr.Integer:
			rule["Numeric"+opNames[op]] = json.RawMessage(r.NumText)
		case expr.Boolean:
			rule["BooleanEquals"] = r.Bool
		case expr.Null:
			rule["IsNull"] = true
		}
	case expr.Path:
		env := comp.env.env(step, comp.env.availIn[step])
		t, err := env.Lookup(left)
		if err != nil {
			return nil, err
		}
		kind := "String"
		switch {
		case t.Kinds.Has(expr.Number) || t.Kinds.Has(expr.Integer):
			kind = "Numeric"
		case t.Kinds.Has(expr.Boolean):
			kind = "Boolean"
		}
		name := kind + opNames[op] + "Path"
		if kind == "Boolean" {
			name = "BooleanEqualsPath"
		}
		rule[name] = comp.path(r, mapStep)
	default:
		return nil, fmt.Errorf("cannot compare %s", b)
	}
	var out asl.ChoiceRule
	if err := json.Unmarshal(mustJSON(rule), &out); err != nil {
		return nil, fmt.Errorf("building the rule for %s: %w", b, err)
	}
	if op == expr.OpNe {
		return &asl.ChoiceRule{Not: &out}, nil
	}
	return &out, nil
}

func unparen(n expr.Node) expr.Node {
	for {
		p, ok := n.(*expr.Paren)
		if !ok {
			return n
		}
		n = p.X
	}
}

func mustJSON(v any) json.RawMessage {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("workflow: encoding a payload: %v", err)) // only maps, slices, strings, numbers and raw JSON go in
	}
	return raw
}

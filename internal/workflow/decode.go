package workflow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/aiflow/aiflow/internal/asl"
	"github.com/aiflow/aiflow/internal/semver"
)

// Parse reads a definition. file names it in diagnostics. On any problem
// it returns Diagnostics listing every one it found, and, when the file was
// valid YAML, the part of the workflow it could read (see Load).
func Parse(file string, src []byte) (*Workflow, error) {
	r := &reporter{file: file}
	root := loadYAML(r, src)
	if root == nil {
		return nil, r.err()
	}
	d := &decoder{r: r, src: src}
	wf := d.workflow(root)
	wf.File = file
	if err := r.err(); err != nil {
		// The partial workflow goes back too, so that Load can check what
		// was read and report those problems at the same time.
		return wf, err
	}
	return wf, nil
}

type decoder struct {
	r     *reporter
	src   []byte     // the definition, to locate the {{ of templates (see Template.marks)
	lines *lineIndex // of src, made on first use
}

func posOf(n *yaml.Node) Pos { return Pos{n.Line, n.Column} }

// obj reads a mapping node's fields, reporting unknown ones.
type obj struct {
	d      *decoder
	n      *yaml.Node
	step   string
	what   string // "the workflow", "an ai step", ...
	values map[string]*yaml.Node
	keys   map[string]*yaml.Node
	used   map[string]bool
}

func (d *decoder) obj(n *yaml.Node, step, what string) *obj {
	if n.Kind != yaml.MappingNode {
		d.r.errorf(posOf(n), step, "", "%s must be a mapping (key: value)", what)
		return nil
	}
	o := &obj{d: d, n: n, step: step, what: what, values: map[string]*yaml.Node{}, keys: map[string]*yaml.Node{}, used: map[string]bool{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		o.keys[n.Content[i].Value] = n.Content[i]
		o.values[n.Content[i].Value] = n.Content[i+1]
	}
	return o
}

// done reports every field not read, suggesting the closest known one.
func (o *obj) done(known ...string) {
	var unknown []string
	for k := range o.values {
		if !o.used[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		hint := "known fields: " + strings.Join(known, ", ")
		if s := closest(k, known); s != "" {
			hint = fmt.Sprintf("did you mean %q?", s)
		}
		o.d.r.errorf(posOf(o.keys[k]), o.step, hint, "unknown field %q in %s", k, o.what)
	}
}

func (o *obj) get(key string) *yaml.Node {
	o.used[key] = true
	return o.values[key]
}

func (o *obj) has(key string) bool { _, ok := o.values[key]; return ok }

func (o *obj) keyPos(key string) Pos {
	if k, ok := o.keys[key]; ok {
		return posOf(k)
	}
	return posOf(o.n)
}

func (o *obj) str(key string, required bool) (string, Pos) {
	n := o.get(key)
	if n == nil {
		if required {
			o.d.r.errorf(posOf(o.n), o.step, "", "%s needs %q", o.what, key)
		}
		return "", posOf(o.n)
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		o.d.r.errorf(posOf(n), o.step, "", "%q must be a string", key)
		return "", posOf(n)
	}
	if required && n.Value == "" {
		o.d.r.errorf(posOf(n), o.step, "", "%q must not be empty", key)
	}
	return n.Value, posOf(n)
}

func (o *obj) template(key string, required bool) *Template {
	n := o.get(key)
	if n == nil {
		if required {
			o.d.r.errorf(posOf(o.n), o.step, "", "%s needs %q", o.what, key)
		}
		return nil
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		o.d.r.errorf(posOf(n), o.step, `quote it: "…"`, "%q must be a string", key)
		return nil
	}
	return o.d.template(n)
}

// template makes a Template of a string scalar, with the file position of
// each of its {{ (see Template.marks).
func (d *decoder) template(n *yaml.Node) *Template {
	t := &Template{Src: n.Value, Pos: templatePos(n)}
	if !strings.Contains(n.Value, "{{") {
		return t
	}
	start := d.offsetOf(n)
	if start < 0 {
		return t
	}
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		// The text starts on the line after the | or > indicator, whose
		// own line may hold a comment.
		nl := bytes.IndexByte(d.src[start:], '\n')
		if nl < 0 {
			return t
		}
		start += nl + 1
	}
	// The k-th {{ of the text is the k-th {{ of its source: YAML quoting,
	// folding and indentation never make or remove one (only an escape
	// like \x7b could). The search stays within a generous bound of the
	// text's length, so that a hostile file cannot make it quadratic.
	limit := min(len(d.src), start+16*len(n.Value)+4096)
	var marks []mark
	from := start
	for off := 0; ; off += 2 {
		i := strings.Index(n.Value[off:], "{{")
		if i < 0 {
			break
		}
		off += i
		j := bytes.Index(d.src[from:limit], []byte("{{"))
		if j < 0 {
			return t // not found: keep the approximate positions
		}
		from += j
		marks = append(marks, mark{offset: off, pos: d.posAt(from)})
		from += 2
	}
	t.marks = marks
	return t
}

// offsetOf is the byte offset in the source where a node starts, or -1.
func (d *decoder) offsetOf(n *yaml.Node) int {
	x := d.index()
	if n.Line < 1 || n.Line > len(x.starts) || n.Column < 1 {
		return -1
	}
	chars := x.chars(n.Line - 1)
	if n.Column > len(chars) {
		return -1
	}
	return chars[n.Column-1]
}

// posAt is the line and column (in characters, as yaml counts) of a byte
// offset in the source.
func (d *decoder) posAt(off int) Pos {
	x := d.index()
	line := sort.SearchInts(x.starts, off+1) - 1
	chars := x.chars(line)
	return Pos{line + 1, sort.SearchInts(chars, off) + 1}
}

func (d *decoder) index() *lineIndex {
	if d.lines == nil {
		d.lines = newLineIndex(d.src)
	}
	return d.lines
}

// lineIndex maps byte offsets of a source to lines and characters in
// logarithmic time, so that locating templates stays linear in the size of
// a definition, even a one-line JSON file of a mebibyte.
type lineIndex struct {
	src    []byte
	starts []int         // the byte offset where each line starts
	byLine map[int][]int // per line, the byte offset of each character and of the line's end
}

func newLineIndex(src []byte) *lineIndex {
	x := &lineIndex{src: src, starts: []int{0}, byLine: map[int][]int{}}
	for i, c := range src {
		if c == '\n' {
			x.starts = append(x.starts, i+1)
		}
	}
	return x
}

func (x *lineIndex) chars(line int) []int {
	if c, ok := x.byLine[line]; ok {
		return c
	}
	end := len(x.src)
	if line+1 < len(x.starts) {
		end = x.starts[line+1] - 1
	}
	var c []int
	for off := x.starts[line]; off < end; {
		c = append(c, off)
		_, size := utf8.DecodeRune(x.src[off:])
		off += size
	}
	c = append(c, end)
	x.byLine[line] = c
	return c
}

// at is the file position of a byte offset in the template's text.
func (t *Template) at(offset int) Pos {
	for i := len(t.marks) - 1; i >= 0; i-- {
		m := t.marks[i]
		if m.offset > offset {
			continue
		}
		between := t.Src[m.offset:offset]
		if strings.Contains(between, "\n") {
			break
		}
		return Pos{m.pos.Line, m.pos.Col + utf8.RuneCountInString(between)}
	}
	return at(t.Pos, t.Src, offset)
}

// templatePos is where a scalar's text starts: after the opening quote.
func templatePos(n *yaml.Node) Pos {
	p := posOf(n)
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		p.Col++
	}
	return p
}

func (o *obj) integer(key string, min, max int) (int, bool) {
	n := o.get(key)
	if n == nil {
		return 0, false
	}
	v, err := strconv.Atoi(n.Value)
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || err != nil {
		o.d.r.errorf(posOf(n), o.step, "", "%q must be a whole number", key)
		return 0, false
	}
	if v < min || v > max {
		o.d.r.errorf(posOf(n), o.step, "", "%q is %d; it must be from %d to %d", key, v, min, max)
		return 0, false
	}
	return v, true
}

func (o *obj) number(key string, min, max float64) *float64 {
	n := o.get(key)
	if n == nil {
		return nil
	}
	v, err := strconv.ParseFloat(n.Value, 64)
	if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!int" && n.ShortTag() != "!!float") || err != nil || math.IsNaN(v) {
		o.d.r.errorf(posOf(n), o.step, "", "%q must be a number", key)
		return nil
	}
	if v < min || v > max {
		o.d.r.errorf(posOf(n), o.step, "", "%q is %v; it must be from %v to %v", key, v, min, max)
		return nil
	}
	return &v
}

func (o *obj) boolean(key string) (bool, bool) {
	n := o.get(key)
	if n == nil {
		return false, false
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		o.d.r.errorf(posOf(n), o.step, "", "%q must be true or false", key)
		return false, false
	}
	return isTrue(n), true
}

// isTrue is the value of a !!bool scalar as YAML reads it: True and TRUE
// are true too (loadYAML refused a scalar its tag cannot read). Fix: those
// read as false, and as invalid JSON in a value (the compiler panicked
// encoding it).
func isTrue(n *yaml.Node) bool {
	var b bool
	return n.Decode(&b) == nil && b
}

// duration reads a Go duration ("90s", "5m", "1h30m") of at least a second,
// in whole seconds (Step Functions counts in seconds).
func (o *obj) duration(key string, max time.Duration) time.Duration {
	n := o.get(key)
	if n == nil {
		return 0
	}
	v, err := time.ParseDuration(n.Value)
	switch {
	case n.Kind != yaml.ScalarNode || err != nil:
		o.d.r.errorf(posOf(n), o.step, `write it like "30s", "5m" or "1h30m"`, "%q is not a duration", key)
		return 0
	case v < time.Second || v%time.Second != 0:
		o.d.r.errorf(posOf(n), o.step, "Step Functions counts in whole seconds", "%q must be whole seconds, at least 1s", key)
		return 0
	case v > max:
		o.d.r.errorf(posOf(n), o.step, "", "%q is %s, more than %s", key, shortDuration(v), shortDuration(max))
		return 0
	}
	return v
}

func (o *obj) strings(key string) ([]string, Pos) {
	n := o.get(key)
	if n == nil {
		return nil, posOf(o.n)
	}
	if n.Kind == yaml.ScalarNode {
		return []string{n.Value}, posOf(n)
	}
	if n.Kind != yaml.SequenceNode {
		o.d.r.errorf(posOf(n), o.step, "", "%q must be a list of strings", key)
		return nil, posOf(n)
	}
	var out []string
	for _, c := range n.Content {
		if c.Kind != yaml.ScalarNode {
			o.d.r.errorf(posOf(c), o.step, "", "%q must be a list of strings", key)
			continue
		}
		out = append(out, c.Value)
	}
	return out, posOf(n)
}

func (o *obj) schema(key string) *Schema {
	n := o.get(key)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		o.d.r.errorf(posOf(n), o.step, "", "%q must be a JSON Schema (a mapping)", key)
		return nil
	}
	raw, err := json.Marshal(o.d.plain(n, o.step))
	if err != nil {
		o.d.r.errorf(posOf(n), o.step, "", "%q: %v", key, err)
		return nil
	}
	sc := &Schema{Pos: posOf(n), Raw: raw, fields: map[string]Pos{}}
	schemaFields(n, "", sc.fields)
	return sc
}

// schemaFields records where each property of a schema node is declared,
// by its dotted path, through nested properties.
func schemaFields(n *yaml.Node, prefix string, out map[string]Pos) {
	if n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != "properties" || n.Content[i+1].Kind != yaml.MappingNode {
			continue
		}
		props := n.Content[i+1]
		for j := 0; j+1 < len(props.Content); j += 2 {
			path := joinField(prefix, props.Content[j].Value)
			out[path] = posOf(props.Content[j])
			schemaFields(props.Content[j+1], path, out)
		}
	}
}

// plain turns a checked node into plain Go values for JSON.
func (d *decoder) plain(n *yaml.Node, step string) any {
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = d.plain(n.Content[i+1], step)
		}
		return m
	case yaml.SequenceNode:
		a := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			a = append(a, d.plain(c, step))
		}
		return a
	}
	switch n.ShortTag() {
	case "!!int", "!!float":
		num, _ := d.number(n, step)
		return json.Number(num)
	case "!!bool":
		return isTrue(n)
	case "!!null":
		return nil
	}
	return n.Value
}

// number is the JSON text of a YAML number, with the value YAML gives it
// (0x1F is 31, 1_000 is 1000). JSON has no infinity or NaN: .inf and .nan
// are reported, and read as 0. Fix: every number strconv could not read
// (0x1F, .inf) silently became 0.
func (d *decoder) number(n *yaml.Node, step string) (string, bool) {
	var v any
	if err := n.Decode(&v); err == nil {
		switch x := v.(type) {
		case int:
			return strconv.Itoa(x), true
		case int64:
			return strconv.FormatInt(x, 10), true
		case uint64:
			return strconv.FormatUint(x, 10), true
		case float64:
			switch {
			case math.IsNaN(x) || math.IsInf(x, 0):
				d.r.errorf(posOf(n), step, "JSON has no infinity or NaN; write a finite number, or a string", "the number %s is not finite", n.Value)
				return "0", false
			case x == 0 && strings.ContainsAny(strings.Split(strings.ToLower(n.Value), "e")[0], "123456789"):
				d.r.errorf(posOf(n), step, "", "the number %s is too small for a 64-bit float: it would be 0", n.Value)
				return "0", false
			case x == math.Trunc(x) && math.Abs(x) < 1e15:
				return strconv.FormatInt(int64(x), 10), true
			}
			return strconv.FormatFloat(x, 'g', -1, 64), true
		}
	}
	d.r.errorf(posOf(n), step, "", "%s is not a number", n.Value)
	return "0", false
}

// reservedKey reports a mapping key that ends in ".$": the compiler marks
// the keys of templated values that way in the state machine, and Step
// Functions reads the value of such a key as a path, so a key of the
// definition's own cannot end so. what names the mapping, like "a value".
func (d *decoder) reservedKey(k *yaml.Node, step, what string) {
	if strings.HasSuffix(k.Value, ".$") {
		d.r.errorf(posOf(k), step, "rename the key: Step Functions reads the value of a key ending in .$ as a path",
			"the key %q of %s ends in \".$\"", k.Value, what)
	}
}

// reservedKeys reports every key ending in ".$" in a node and below it.
func (d *decoder) reservedKeys(n *yaml.Node, step, what string) {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			d.reservedKey(n.Content[i], step, what)
		}
	}
	for _, c := range n.Content {
		d.reservedKeys(c, step, what)
	}
}

func (d *decoder) value(n *yaml.Node, step string) *Value {
	v := &Value{Pos: posOf(n)}
	switch n.Kind {
	case yaml.MappingNode:
		v.Kind = "object"
		for i := 0; i+1 < len(n.Content); i += 2 {
			d.reservedKey(n.Content[i], step, "a value")
			v.Object = append(v.Object, Field{Key: n.Content[i].Value, Value: d.value(n.Content[i+1], step)})
		}
	case yaml.SequenceNode:
		v.Kind = "array"
		for _, c := range n.Content {
			v.Array = append(v.Array, d.value(c, step))
		}
	default:
		switch n.ShortTag() {
		case "!!str":
			v.Kind = "string"
			v.String = d.template(n)
		case "!!int", "!!float":
			v.Kind = "number"
			num, _ := d.number(n, step)
			v.Raw = json.RawMessage(num)
		case "!!bool":
			v.Kind = "bool"
			v.Raw = json.RawMessage(strconv.FormatBool(isTrue(n)))
		default:
			v.Kind = "null"
			v.Raw = json.RawMessage("null")
		}
	}
	return v
}

var workflowFields = []string{"name", "description", "timeout", "input", "output", "steps"}

func (d *decoder) workflow(n *yaml.Node) *Workflow {
	wf := &Workflow{}
	o := d.obj(n, "", "the workflow")
	if o == nil {
		return wf
	}
	wf.Name, wf.NamePos = o.str("name", true)
	wf.Description, _ = o.str("description", false)
	wf.Timeout = o.duration("timeout", 365*24*time.Hour)
	wf.Input = o.schema("input")
	wf.InputPos = o.keyPos("input")
	if wf.Input == nil && !o.has("input") {
		d.r.errorf(posOf(n), "", "describe the execution input, e.g. input: {type: object, properties: {...}}", "the workflow needs an input schema (input:)")
	}
	if out := o.get("output"); out != nil {
		wf.Output = d.value(out, "")
	}
	if s := o.get("steps"); s != nil {
		wf.Steps = d.steps(s)
	} else {
		d.r.errorf(posOf(n), "", "", "the workflow needs steps:")
	}
	o.done(workflowFields...)
	return wf
}

func (d *decoder) steps(n *yaml.Node) []*Step {
	if n.Kind != yaml.SequenceNode {
		d.r.errorf(posOf(n), "", "", "steps must be a list")
		return nil
	}
	if len(n.Content) == 0 {
		d.r.errorf(posOf(n), "", "", "steps must not be empty")
	}
	var out []*Step
	for _, c := range n.Content {
		if s := d.step(c); s != nil {
			out = append(out, s)
		}
	}
	return out
}

var stepKinds = []string{KindAI, KindMCP, KindService, KindChoice, KindParallel, KindMap, KindWait, KindApproval, KindSet, KindSucceed, KindFail}

var commonStepFields = []string{"id", "next", "retry", "catch", "timeout", "heartbeat", "large"}

func (d *decoder) step(n *yaml.Node) *Step {
	s := &Step{Pos: posOf(n)}
	o := d.obj(n, "", "a step")
	if o == nil {
		return nil
	}
	s.ID, _ = o.str("id", true)
	o.step = s.ID
	var kinds []string
	for _, k := range stepKinds {
		if o.has(k) {
			kinds = append(kinds, k)
		}
	}
	switch len(kinds) {
	case 0:
		d.r.errorf(s.Pos, s.ID, "one of: "+strings.Join(stepKinds, ", "), "the step has no kind")
		o.done(append(append([]string{}, commonStepFields...), stepKinds...)...)
		return s
	case 1:
		s.Kind = kinds[0]
	default:
		d.r.errorf(o.keyPos(kinds[1]), s.ID, "split it into two steps", "a step has one kind, this one has %s", strings.Join(kinds, " and "))
		s.Kind = kinds[0]
	}
	s.Next, s.NextPos = o.str("next", false)
	if s.Next != "" && (s.Kind == KindChoice || s.Kind == KindSucceed || s.Kind == KindFail) {
		d.r.errorf(s.NextPos, s.ID, "", "a %s step has no next", s.Kind)
	}
	if o.has("retry") {
		s.Retry = d.retries(o.get("retry"), s)
	}
	if o.has("catch") {
		s.Catch = d.catches(o.get("catch"), s)
	}
	// Fix: parallel and map steps were let through, but Step Functions has
	// timeouts and heartbeats only on Task states, so the compiler dropped
	// them without a word.
	for _, key := range []string{"timeout", "heartbeat"} {
		if o.has(key) && !s.IsTask() {
			hint := ""
			if s.Kind == KindParallel || s.Kind == KindMap {
				hint = "set timeouts on the task steps inside it, or a timeout on the whole workflow"
			}
			d.r.errorf(o.keyPos(key), s.ID, hint, "a %s step has no %s; only ai, mcp, service and approval steps do", s.Kind, key)
		}
	}
	s.Timeout = o.duration("timeout", 365*24*time.Hour)
	s.Heartbeat = o.duration("heartbeat", 365*24*time.Hour)
	s.TimeoutPos, s.HeartbeatPos = o.keyPos("timeout"), o.keyPos("heartbeat")
	s.Large = o.large(s)
	if (s.Retry != nil || s.Catch != nil) && (s.Kind == KindChoice || s.Kind == KindWait || s.Kind == KindSet || s.Kind == KindSucceed || s.Kind == KindFail) {
		d.r.errorf(s.Pos, s.ID, "", "a %s step cannot retry or catch", s.Kind)
	}

	body := o.get(s.Kind)
	what := fmt.Sprintf("%s step %q", s.Kind, s.ID)
	switch s.Kind {
	case KindAI:
		s.AI = d.aiStep(body, s.ID, what)
	case KindMCP:
		s.MCP = d.mcpStep(body, s.ID, what)
	case KindService:
		s.Service = d.serviceStep(body, s.ID, what)
	case KindChoice:
		s.Choice = d.choiceStep(body, s.ID, what)
	case KindParallel:
		s.Parallel = d.parallelStep(body, s.ID, what)
	case KindMap:
		s.Map = d.mapStep(body, s.ID, what)
	case KindWait:
		s.Wait = d.waitStep(body, s.ID, what)
	case KindApproval:
		s.Approval = d.approvalStep(body, s.ID, what)
	case KindSet:
		s.Set = d.value(body, s.ID)
		if s.Set.Kind != "object" {
			d.r.errorf(s.Set.Pos, s.ID, "set: {name: value, ...}", "set must be a mapping of names to values")
		}
	case KindSucceed:
		if body.Kind != yaml.ScalarNode || body.ShortTag() != "!!null" {
			if body.Kind != yaml.MappingNode || len(body.Content) > 0 {
				d.r.errorf(posOf(body), s.ID, "write succeed: {}", "succeed takes no settings")
			}
		}
	case KindFail:
		s.Fail = d.failStep(body, s.ID, what)
	}
	o.done(append(append([]string{}, commonStepFields...), s.Kind)...)
	return s
}

func (d *decoder) retries(n *yaml.Node, s *Step) []Retry {
	if n.Kind != yaml.SequenceNode {
		d.r.errorf(posOf(n), s.ID, "retry: [{errors: [AI.Throttled], attempts: 3}]", "retry must be a list")
		return nil
	}
	var out []Retry
	var all []Pos // where each retry matches States.ALL, if it does
	for _, c := range n.Content {
		o := d.obj(c, s.ID, "a retry")
		if o == nil {
			continue
		}
		r := Retry{Pos: posOf(c), Backoff: 2, Interval: time.Second, Jitter: true}
		var allPos *Pos
		r.Errors, allPos = o.errorNames()
		all = append(all, derefPos(allPos))
		r.Attempts, r.HasAttempts = o.integer("attempts", 0, asl.MaxSeconds)
		if !r.HasAttempts {
			r.Attempts = 3
		}
		if iv := o.duration("interval", asl.MaxSeconds*time.Second); iv > 0 {
			r.Interval = iv
		}
		if b := o.number("backoff", 1, 1000); b != nil {
			r.Backoff = *b
		}
		// Fix: up to a second more than Step Functions allows passed.
		r.MaxDelay = o.duration("max_delay", asl.MaxDelaySeconds*time.Second)
		if j, ok := o.boolean("jitter"); ok {
			r.Jitter = j
		}
		o.done("errors", "attempts", "interval", "backoff", "max_delay", "jitter")
		out = append(out, r)
	}
	d.allLast(all, s.ID, "retry")
	return out
}

func (d *decoder) catches(n *yaml.Node, s *Step) []Catch {
	if n.Kind != yaml.SequenceNode {
		d.r.errorf(posOf(n), s.ID, "catch: [{errors: [States.ALL], next: handle_error}]", "catch must be a list")
		return nil
	}
	var out []Catch
	var all []Pos
	for _, c := range n.Content {
		o := d.obj(c, s.ID, "a catch")
		if o == nil {
			continue
		}
		k := Catch{Pos: posOf(c)}
		var allPos *Pos
		k.Errors, allPos = o.errorNames()
		all = append(all, derefPos(allPos))
		k.Next, k.NextPos = o.str("next", true)
		o.done("errors", "next")
		out = append(out, k)
	}
	d.allLast(all, s.ID, "catch")
	return out
}

func derefPos(p *Pos) Pos {
	if p == nil {
		return Pos{}
	}
	return *p
}

// errorNames reads the errors a retry or a catch matches: States.ALL when
// it names none. Each name must be one Step Functions can match (see
// asl.ValidateErrorName), and States.ALL stands alone. allPos is where
// the list matches States.ALL (the retry or catch itself when it names
// no errors), nil when it does not.
func (o *obj) errorNames() ([]string, *Pos) {
	names, _ := o.strings("errors")
	if len(names) == 0 {
		p := posOf(o.n)
		return []string{asl.ErrorAll}, &p
	}
	// The scalar nodes, as o.strings read them, to locate each name.
	nodes := []*yaml.Node{o.values["errors"]}
	if n := nodes[0]; n.Kind == yaml.SequenceNode {
		nodes = nil
		for _, c := range n.Content {
			if c.Kind == yaml.ScalarNode {
				nodes = append(nodes, c)
			}
		}
	}
	var allPos *Pos
	for i, name := range names {
		pos := posOf(o.values["errors"])
		if i < len(nodes) {
			pos = posOf(nodes[i])
		}
		switch err := asl.ValidateErrorName(name); {
		case name == asl.ErrorAll && len(names) > 1:
			o.d.r.errorf(pos, o.step, "drop the other names, or States.ALL", "States.ALL matches every error, so it must be the only name in its errors")
		case name == asl.ErrorAll:
			allPos = &pos
		case name == "":
			o.d.r.errorf(pos, o.step, "name an error, like AI.Throttled or States.Timeout", "an error name is empty")
		case err != nil:
			hint := "the predefined errors are " + strings.Join(asl.PredefinedErrors(), ", ")
			if c := closest(name, asl.PredefinedErrors()); c != "" {
				hint = fmt.Sprintf("did you mean %q?", c)
			}
			o.d.r.errorf(pos, o.step, hint, "%v: names starting States. are Step Functions' own", err)
		}
	}
	return names, allPos
}

// allLast reports a retry or catch that matches States.ALL and is not the
// last of its list: Step Functions tries them in order, so none after it
// could ever match.
func (d *decoder) allLast(all []Pos, step, what string) {
	for _, p := range all[:max(len(all)-1, 0)] {
		if p != (Pos{}) {
			d.r.errorf(p, step, fmt.Sprintf("move it after the others: each %s is tried in order, and none after it would ever match", what),
				"a %s that matches every error (States.ALL, or no errors) must be the last one", what)
		}
	}
}

func (d *decoder) aiStep(n *yaml.Node, step, what string) *AIStep {
	o := d.obj(n, step, what)
	if o == nil {
		return nil
	}
	a := &AIStep{}
	a.Model, _ = o.str("model", true)
	a.System = o.template("system", false)
	a.Prompt = o.template("prompt", true)
	a.Temperature = o.number("temperature", 0, 2)
	a.MaxTokens, _ = o.integer("max_tokens", 1, 1_000_000)
	a.TopP = o.number("top_p", 0, 1)
	a.Stop, _ = o.strings("stop")
	a.OutputSchema = o.schema("output_schema")
	if a.OutputSchema != nil {
		// The schema travels in the task's message, a payload template.
		d.reservedKeys(o.values["output_schema"], step, "output_schema")
	}
	if t := o.get("tools"); t != nil {
		if t.Kind != yaml.SequenceNode {
			d.r.errorf(posOf(t), step, `tools: ["support/find_customer", ...]`, "tools must be a list of server/tool names")
		} else {
			for _, c := range t.Content {
				server, tool, ok := strings.Cut(c.Value, "/")
				if c.Kind != yaml.ScalarNode || !ok || server == "" || tool == "" {
					d.r.errorf(posOf(c), step, `write "server/tool", e.g. "support/find_customer"`, "a tool is named server/tool")
					continue
				}
				a.Tools = append(a.Tools, ToolRef{Server: server, Tool: tool, Pos: posOf(c)})
			}
		}
	}
	a.MaxTurns, _ = o.integer("max_turns", 1, 100)
	o.done("model", "system", "prompt", "temperature", "max_tokens", "top_p", "stop", "output_schema", "tools", "max_turns")
	return a
}

func (d *decoder) mcpStep(n *yaml.Node, step, what string) *MCPStep {
	o := d.obj(n, step, what)
	if o == nil {
		return nil
	}
	m := &MCPStep{}
	m.Server, _ = o.str("server", true)
	m.Tool, m.ToolPos = o.str("tool", true)
	if a := o.get("arguments"); a != nil {
		m.Arguments = d.value(a, step)
		if m.Arguments.Kind != "object" {
			d.r.errorf(m.Arguments.Pos, step, "", "arguments must be a mapping")
		}
	}
	o.done("server", "tool", "arguments")
	return m
}

const versionHint = `a semantic version constraint, like "^1.2", "~1.4", ">=1.2 <2" or "1.x"`

var httpMethods = map[string]bool{"GET": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true}

func (d *decoder) serviceStep(n *yaml.Node, step, what string) *ServiceStep {
	o := d.obj(n, step, what)
	if o == nil {
		return nil
	}
	s := &ServiceStep{}
	var spos, cpos Pos
	s.Service, spos = o.str("service", false)
	s.Capability, cpos = o.str("capability", false)
	s.ServicePos = spos
	if s.Service == "" {
		s.ServicePos = cpos
	}
	if (s.Service == "") == (s.Capability == "") {
		d.r.errorf(posOf(n), step, "service: name, or capability: what it does", "a service step names a service or a capability, one of the two")
	}
	if o.has("version") {
		s.Version, s.VersionPos = o.str("version", false)
		switch {
		case s.Capability != "" && s.Service == "":
			d.r.errorf(o.keyPos("version"), step, "name the service (service: name) to ask for a version, or drop the version",
				"a version constrains a service named by service:, not a capability")
		case strings.TrimSpace(s.Version) == "":
			d.r.errorf(s.VersionPos, step, versionHint, "the version constraint must not be empty")
		default:
			if _, err := semver.ParseConstraint(s.Version); err != nil {
				d.r.errorf(s.VersionPos, step, versionHint, "version %q is not a version constraint", s.Version)
			}
		}
	}
	var mpos Pos
	s.Method, mpos = o.str("method", false)
	if s.Method == "" {
		s.Method = "POST"
	} else if s.Method = strings.ToUpper(s.Method); !httpMethods[s.Method] {
		d.r.errorf(mpos, step, "", "method %q is not one of GET, POST, PUT, PATCH, DELETE", s.Method)
	}
	s.Path = o.template("path", true)
	if b := o.get("body"); b != nil {
		s.Body = d.value(b, step)
	}
	s.OutputSchema = o.schema("output_schema")
	o.done("service", "capability", "version", "method", "path", "body", "output_schema")
	return s
}

func (d *decoder) choiceStep(n *yaml.Node, step, what string) *ChoiceStep {
	o := d.obj(n, step, what)
	if o == nil {
		return nil
	}
	c := &ChoiceStep{}
	cases := o.get("cases")
	if cases == nil || cases.Kind != yaml.SequenceNode || len(cases.Content) == 0 {
		d.r.errorf(posOf(n), step, `cases: [{when: 'input.amount > 100', next: big}]`, "a choice needs a list of cases")
	} else {
		for _, cn := range cases.Content {
			co := d.obj(cn, step, "a choice case")
			if co == nil {
				continue
			}
			var cc ChoiceCase
			w := co.template("when", true)
			if w != nil {
				cc.When, cc.WhenPos = w.Src, w.Pos
			}
			cc.Next, cc.NextPos = co.str("next", true)
			co.done("when", "next")
			c.Cases = append(c.Cases, cc)
		}
	}
	c.Default, c.DefaultPos = o.str("default", false)
	o.done("cases", "default")
	return c
}

func (d *decoder) parallelStep(n *yaml.Node, step, what string) *ParallelStep {
	o := d.obj(n, step, what)
	if o == nil {
		return nil
	}
	p := &ParallelStep{}
	b := o.get("branches")
	if b == nil || b.Kind != yaml.SequenceNode || len(b.Content) == 0 {
		d.r.errorf(posOf(n), step, "branches: [{steps: [...]}, {steps: [...]}]", "a parallel step needs a list of branches")
	} else {
		for _, bn := range b.Content {
			bo := d.obj(bn, step, "a branch")
			if bo == nil {
				continue
			}
			var steps []*Step
			if s := bo.get("steps"); s != nil {
				steps = d.steps(s)
			} else {
				d.r.errorf(posOf(bn), step, "", "a branch needs steps:")
			}
			bo.done("steps")
			p.Branches = append(p.Branches, steps)
		}
	}
	o.done("branches")
	return p
}

var percentRE = regexp.MustCompile(`^(\d+(?:\.\d+)?)%$`)

func (d *decoder) mapStep(n *yaml.Node, step, what string) *MapStep {
	o := d.obj(n, step, what)
	if o == nil {
		return nil
	}
	m := &MapStep{}
	m.Items = o.template("items", true)
	m.ItemsPos = o.keyPos("items")
	m.MaxConcurrency, _ = o.integer("max_concurrency", 0, 10000)
	if tf := o.get("tolerated_failures"); tf != nil {
		if pm := percentRE.FindStringSubmatch(tf.Value); pm != nil {
			v, _ := strconv.ParseFloat(pm[1], 64)
			if v > 100 {
				d.r.errorf(posOf(tf), step, "", "tolerated_failures is %v%%; at most 100%%", v)
			}
			m.ToleratedFailurePercentage = &v
		} else if v, err := strconv.Atoi(tf.Value); err == nil && v >= 0 && tf.ShortTag() == "!!int" {
			if v > math.MaxInt32 {
				// Step Functions' ToleratedFailureCount is a 32-bit count.
				d.r.errorf(posOf(tf), step, "", "tolerated_failures is %d; at most %d", v, math.MaxInt32)
			}
			m.ToleratedFailureCount = &v
		} else {
			d.r.errorf(posOf(tf), step, `a count like 3, or a share like "10%"`, "tolerated_failures must be a count or a percentage")
		}
	}
	if s := o.get("steps"); s != nil {
		m.Steps = d.steps(s)
	} else {
		d.r.errorf(posOf(n), step, "", "a map step needs steps: (run for each item)")
	}
	o.done("items", "max_concurrency", "tolerated_failures", "steps")
	return m
}

func (d *decoder) waitStep(n *yaml.Node, step, what string) *WaitStep {
	o := d.obj(n, step, what)
	if o == nil {
		return nil
	}
	w := &WaitStep{}
	w.Duration = o.duration("duration", 365*24*time.Hour)
	w.Until = o.template("until", false)
	if (w.Duration == 0) == (w.Until == nil) && !(o.has("duration") && w.Duration == 0) {
		d.r.errorf(posOf(n), step, `duration: 10m, or until: "{{ input.deadline }}"`, "a wait needs a duration or an until, one of the two")
	}
	o.done("duration", "until")
	return w
}

func (d *decoder) approvalStep(n *yaml.Node, step, what string) *ApprovalStep {
	o := d.obj(n, step, what)
	if o == nil {
		return nil
	}
	a := &ApprovalStep{}
	a.Message = o.template("message", true)
	a.Approvers, _ = o.strings("approvers")
	o.done("message", "approvers")
	return a
}

func (d *decoder) failStep(n *yaml.Node, step, what string) *FailStep {
	o := d.obj(n, step, what)
	if o == nil {
		return nil
	}
	f := &FailStep{}
	f.Error, _ = o.str("error", true)
	f.Cause, _ = o.str("cause", false)
	o.done("error", "cause")
	return f
}

// closest returns the known word nearest to w, if it is near enough to be a
// typo.
func closest(w string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := editDistance(w, k); d < bestD {
			best, bestD = k, d
		}
	}
	if best != "" {
		return best
	}
	// A longer slip with the same start, like "retries" for "retry". Fix:
	// such plurals and suffixes got no suggestion.
	bestD = math.MaxInt
	for _, k := range known {
		d := editDistance(w, k)
		if commonPrefix(w, k) >= 4 && d <= max(len(w), len(k))/2 && d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

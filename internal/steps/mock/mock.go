// Package mock answers the task steps of a local run from canned replies:
// the mock file format of `aiflow run --mock FILE` (Load, Set, Reply) and
// the Worker that answers a step's queue message from it, as a step worker
// behind an SQS event source would, handing the steps without a reply to
// the in-process step runtime.
package mock

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/aiflow/aiflow/internal/workflow"
)

// Reply is one canned reply of a task step: an output, or an error
// and a cause.
type Reply struct {
	Output json.RawMessage
	Error  string
	Cause  string
}

// Set holds the replies of each step, by step id; a step's replies are
// used in order across its attempts, the last one for every later attempt.
type Set map[string][]Reply

// Reply returns the reply to attempt (from 0) of a step, and false when
// the step has none.
func (m Set) Reply(step string, attempt int) (Reply, bool) {
	replies := m[step]
	if len(replies) == 0 {
		return Reply{}, false
	}
	return replies[min(max(attempt, 0), len(replies)-1)], true
}

// Load reads the mock file of a workflow: a JSON or YAML object whose keys
// are task step ids and whose values are a reply ({"output": ...} or
// {"error": "Name", "cause": "..."}) or a list of replies. Every problem is
// reported in the error, naming the file and the step.
func Load(file string, wf *workflow.Workflow) (Set, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading the mock file: %w", err)
	}
	var doc any
	if strings.EqualFold(filepath.Ext(file), ".json") {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&doc); err != nil {
			return nil, fmt.Errorf("%s: not JSON: %w", file, err)
		}
	} else if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("%s: not YAML or JSON: %w", file, err)
	}
	top, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf(`%s: a mock file is an object of task step ids, such as {"classify": {"output": {"category": "billing"}}}`, file)
	}
	tasks := wf.TaskKinds()
	known := slices.Sorted(maps.Keys(tasks))
	all := wf.StepKinds()
	var problems []string
	set := Set{}
	for _, id := range slices.Sorted(maps.Keys(top)) {
		if _, isTask := tasks[id]; !isTask {
			if kind, ok := all[id]; ok {
				problems = append(problems, fmt.Sprintf("step %q is a %s step, which runs in the state machine and takes no mock", id, kind))
			} else {
				problems = append(problems, fmt.Sprintf("%s has no step %q (its task steps: %s)", wf.File, id, strings.Join(known, ", ")))
			}
			continue
		}
		var items []any
		switch v := top[id].(type) {
		case []any:
			if len(v) == 0 {
				problems = append(problems, fmt.Sprintf("step %q: the list of replies is empty", id))
				continue
			}
			items = v
		default:
			items = []any{v}
		}
		for i, item := range items {
			where := fmt.Sprintf("step %q", id)
			if len(items) > 1 || isList(top[id]) {
				where = fmt.Sprintf("step %q, reply %d", id, i+1)
			}
			r, err := parseReply(item)
			if err != nil {
				problems = append(problems, where+": "+err.Error())
				continue
			}
			set[id] = append(set[id], r)
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s: %s", file, strings.Join(problems, "\n  "+file+": "))
	}
	return set, nil
}

func isList(v any) bool { _, ok := v.([]any); return ok }

// parseReply reads one reply: exactly one of output and error, and a
// cause only beside an error.
func parseReply(v any) (Reply, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return Reply{}, errors.New(`a reply is an object: {"output": ...} or {"error": "Name", "cause": "..."}`)
	}
	for k := range obj {
		if k != "output" && k != "error" && k != "cause" {
			return Reply{}, fmt.Errorf("unknown field %q in a reply (it takes output, or error and cause)", k)
		}
	}
	out, hasOutput := obj["output"]
	errName, hasError := obj["error"]
	cause, hasCause := obj["cause"]
	switch {
	case hasOutput && hasError:
		return Reply{}, errors.New("a reply has an output or an error, not both")
	case hasOutput:
		if hasCause {
			return Reply{}, errors.New("cause goes with error, not with output")
		}
		raw, err := json.Marshal(out)
		if err != nil {
			return Reply{}, fmt.Errorf("the output cannot be JSON: %w", err)
		}
		return Reply{Output: raw}, nil
	case hasError:
		name, ok := errName.(string)
		if !ok || name == "" {
			return Reply{}, errors.New(`error is the name of an error, such as "AI.Throttled"`)
		}
		r := Reply{Error: name}
		if hasCause {
			if r.Cause, ok = cause.(string); !ok {
				return Reply{}, errors.New("cause is a text")
			}
		}
		return r, nil
	}
	return Reply{}, errors.New(`a reply needs an output or an error: {"output": ...} or {"error": "Name", "cause": "..."}`)
}

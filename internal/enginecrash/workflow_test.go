package enginecrash

import (
	"encoding/json"
	"fmt"
	"strings"
)

// The harness's state machine touches every kind of state whose progress
// recovery has to rebuild: queue tasks that wait for a callback, a Lambda
// task, a Choice, a Wait, a Retry that always needs its second attempt,
// a Parallel and a Map.
const (
	machineName = "crash"
	region      = "us-east-1"
	account     = "123456789012"
	queueAName  = "crash-steps-a"
	queueBName  = "crash-steps-b"
	// firstAttemptError is what the flaky step fails with on its first
	// attempt; the Retry matches it.
	firstAttemptError = "Crash.FirstAttempt"
)

var (
	queueAURL  = fmt.Sprintf("https://sqs.%s.amazonaws.com/%s/%s", region, account, queueAName)
	queueBURL  = fmt.Sprintf("https://sqs.%s.amazonaws.com/%s/%s", region, account, queueBName)
	scoreARN   = fmt.Sprintf("arn:aws:lambda:%s:%s:function:Score", region, account)
	machineARN = fmt.Sprintf("arn:aws:states:%s:%s:stateMachine:%s", region, account, machineName)
	definition = mustDefinition()
	kinds      = []string{"a", "b", "c"}
)

// queueTask is a Task state that sends a step to a worker and waits for
// its callback.
func queueTask(url, step string, extra map[string]any) map[string]any {
	body := map[string]any{"step": step, "token.$": "$$.Task.Token", "input.$": "$"}
	for k, v := range extra {
		body[k] = v
	}
	return map[string]any{
		"Type":       "Task",
		"Resource":   "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
		"Parameters": map[string]any{"QueueUrl": url, "MessageBody": body},
		// Never reached; a resume re-arms the timer for what is left.
		"TimeoutSeconds":   120,
		"HeartbeatSeconds": 60,
	}
}

func with(st map[string]any, kv ...any) map[string]any {
	for i := 0; i+1 < len(kv); i += 2 {
		st[kv[i].(string)] = kv[i+1]
	}
	return st
}

// firstAttemptRetry retries a step's first failure once, a second later.
func firstAttemptRetry() []any {
	return []any{map[string]any{"ErrorEquals": []string{firstAttemptError}, "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 1}}
}

func mustDefinition() string {
	states := map[string]any{
		"Prepare": with(queueTask(queueAURL, "prepare", nil), "Next", "Route"),
		"Route": map[string]any{
			"Type": "Choice",
			"Choices": []any{
				map[string]any{"Variable": "$.kind", "StringEquals": "a", "Next": "Alpha"},
				map[string]any{"Variable": "$.kind", "StringEquals": "b", "Next": "Beta"},
			},
			"Default": "Gamma",
		},
		"Alpha": with(queueTask(queueAURL, "alpha", nil), "Next", "Fan"),
		"Beta":  with(queueTask(queueBURL, "beta", nil), "Next", "Fan"),
		"Gamma": map[string]any{"Type": "Pass", "Result": "gamma", "ResultPath": "$.via", "Next": "Fan"},
		"Score": map[string]any{
			"Type":       "Task",
			"Resource":   scoreARN,
			"Parameters": map[string]any{"step": "score", "input.$": "$"},
			"Next":       "Pause",
		},
		"Pause": map[string]any{"Type": "Wait", "Seconds": 1, "Next": "Flaky"},
		"Flaky": with(queueTask(queueBURL, "flaky", map[string]any{"retry.$": "$$.State.RetryCount"}),
			"Retry", firstAttemptRetry(),
			"Next", "Done"),
		"Fan": map[string]any{
			"Type": "Parallel",
			"Branches": []any{
				map[string]any{"StartAt": "Left", "States": map[string]any{"Left": with(queueTask(queueAURL, "left", nil), "End", true)}},
				map[string]any{"StartAt": "Right", "States": map[string]any{"Right": with(queueTask(queueBURL, "right", nil), "End", true)}},
				// A branch that ends in the transition that starts it.
				map[string]any{"StartAt": "Mark", "States": map[string]any{"Mark": map[string]any{"Type": "Pass", "Result": "mark", "End": true}}},
				// A timer in a branch.
				map[string]any{"StartAt": "Nap", "States": map[string]any{"Nap": map[string]any{"Type": "Wait", "Seconds": 1, "End": true}}},
			},
			"ResultSelector": map[string]any{"left.$": "$[0].value", "right.$": "$[1].value", "mark.$": "$[2]"},
			"ResultPath":     "$.fan",
			// The Map follows in the transition that ends the Parallel:
			// one history batch holds the last branch's end and the
			// Map's start (TestResumeFanOutRightAfterFanOut).
			"Next": "Each",
		},
		"Each": map[string]any{
			"Type":           "Map",
			"ItemsPath":      "$.items",
			"MaxConcurrency": 2,
			"ItemSelector":   map[string]any{"item.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index", "id.$": "$.id"},
			"ItemProcessor": map[string]any{
				"StartAt": "Item",
				"States": map[string]any{"Item": with(queueTask(queueAURL, "item", map[string]any{"retry.$": "$$.State.RetryCount"}),
					"Retry", firstAttemptRetry(), "End", true)},
			},
			"ResultPath": "$.mapped",
			"Next":       "Score",
		},
		"Done": map[string]any{"Type": "Succeed"},
	}
	b, err := json.Marshal(map[string]any{"Comment": "the crash harness's workflow", "StartAt": "Prepare", "States": states, "TimeoutSeconds": 600})
	if err != nil {
		panic(err) // a literal above cannot fail to encode
	}
	return string(b)
}

// executionName is the name of execution i.
func executionName(i int) string { return fmt.Sprintf("exec-%03d", i) }

// executionARN is the ARN of execution i.
func executionARN(i int) string {
	return fmt.Sprintf("arn:aws:states:%s:%s:execution:%s:%s", region, account, machineName, executionName(i))
}

// executionInput is the input of execution i: its kind picks the Choice's
// branch, its items the Map's iterations (two to four).
func executionInput(i int) string {
	items := make([]int, i%3+2)
	for k := range items {
		items[k] = i + k + 1
	}
	b, _ := json.Marshal(map[string]any{"id": i, "kind": kinds[i%3], "value": i, "trail": []string{}, "items": items})
	return string(b)
}

// stepError is a step's deliberate failure.
type stepError struct{ name, cause string }

func (e *stepError) Error() string { return e.name + ": " + e.cause }

// apply is what a worker (or the Score function) does with a step's
// input: deterministic, so the harness knows every output beforehand.
// A document step appends the step to trail and mixes the step into
// value; an item step squares its item. The flaky step, and the item
// step of the Map's first iteration, fail their first attempt.
func apply(step string, input any, retry int) (any, error) {
	if step == "flaky" && retry == 0 {
		return nil, &stepError{name: firstAttemptError, cause: "the flaky step fails its first attempt"}
	}
	in, ok := input.(map[string]any)
	if !ok {
		return nil, &stepError{name: "Crash.BadInput", cause: fmt.Sprintf("step %s got %T, not an object", step, input)}
	}
	if step == "item" {
		item, index, id := number(in["item"]), number(in["index"]), number(in["id"])
		if index == 0 && retry == 0 {
			return nil, &stepError{name: firstAttemptError, cause: "the first item fails its first attempt"}
		}
		return map[string]any{"index": index, "square": item*item + id}, nil
	}
	out := make(map[string]any, len(in)+1)
	for k, v := range in {
		out[k] = v
	}
	trail, _ := in["trail"].([]any)
	out["trail"] = append(append([]any{}, trail...), step)
	out["value"] = (number(in["value"])*31 + int64(len(step))*7 + number(in["id"])) % 1_000_003
	return out, nil
}

// number reads a JSON number decoded into float64 or json.Number.
func number(v any) int64 {
	switch n := v.(type) {
	case float64:
		return int64(n)
	case json.Number:
		i, _ := n.Int64()
		return i
	case int64:
		return n
	case int:
		return int64(n)
	}
	return 0
}

// expected is what execution i should end with, and the states it should
// enter, computed from the state machine's data flow by hand rather than
// by the engine.
type expected struct {
	output string
	// entered counts the StateEntered events by state name.
	entered map[string]int
	// tasks counts the queue tasks scheduled: one per step, two for the
	// flaky one and the first item.
	tasks int
	items int
}

func expect(i int) expected {
	var doc any
	if err := json.Unmarshal([]byte(executionInput(i)), &doc); err != nil {
		panic(err) // executionInput makes valid JSON
	}
	step := func(name string, retry int) {
		out, err := apply(name, doc, retry)
		if err != nil {
			panic(err) // called with the retry that succeeds
		}
		doc = out
	}
	entered := map[string]int{"Prepare": 1, "Route": 1, "Score": 1, "Pause": 1, "Flaky": 1, "Fan": 1, "Left": 1, "Mark": 1, "Nap": 1, "Right": 1, "Each": 1, "Done": 1}
	tasks := 1
	step("prepare", 0)
	switch kinds[i%3] {
	case "a":
		step("alpha", 0)
		entered["Alpha"] = 1
		tasks++
	case "b":
		step("beta", 0)
		entered["Beta"] = 1
		tasks++
	default:
		doc.(map[string]any)["via"] = "gamma"
		entered["Gamma"] = 1
	}
	left, _ := apply("left", doc, 0)
	right, _ := apply("right", doc, 0)
	tasks += 2
	doc.(map[string]any)["fan"] = map[string]any{"left": left.(map[string]any)["value"], "right": right.(map[string]any)["value"], "mark": "mark"}
	m := doc.(map[string]any)
	items := m["items"].([]any)
	mapped := make([]any, len(items))
	for k, it := range items {
		mapped[k] = map[string]any{"index": k, "square": number(it)*number(it) + int64(i)}
	}
	m["mapped"] = mapped
	entered["Item"] = len(items)
	tasks += len(items) + 1 // the first item's is retried
	step("score", 0)
	step("flaky", 1)
	tasks += 2
	m = doc.(map[string]any)
	b, _ := json.Marshal(m)
	return expected{output: string(b), entered: entered, tasks: tasks, items: len(items)}
}

// stepOf returns the step a TaskScheduled event's parameters send, and
// the attempt's retry count.
func stepOf(parameters string) (step string, retry int) {
	var p struct {
		MessageBody struct {
			Step  string `json:"step"`
			Retry int    `json:"retry"`
		}
	}
	if json.Unmarshal([]byte(parameters), &p) != nil {
		return "", 0
	}
	return p.MessageBody.Step, p.MessageBody.Retry
}

// isEntered reports whether typ is a <Type>StateEntered event type.
func isEntered(typ string) bool { return strings.HasSuffix(typ, "StateEntered") }

package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/aiflow/aiflow/internal/asl"
	"github.com/aiflow/aiflow/internal/sfn"
)

// batchEncodingCheck, when set (by the package's tests), sees every batch
// encodeBatch writes with the bytes appendBatch made of it.
var batchEncodingCheck func(b *batch, data []byte)

// appendBatch appends the JSON text of b to dst: the bytes json.Marshal
// writes for it, without its reflection and without the re-validation and
// compaction of every thread's and task call's MarshalJSON output, which
// made encoding a transition a third of the engine's CPU. Strings are
// escaped as encoding/json escapes them (HTML characters included), map
// members are in encoding/json's order, and a thread whose input or a
// call whose parameters it knows as JSON writes that text last, as the
// MarshalJSON methods do. The rarely written parts (Parallel and Map
// fan-outs, redrives, Map Runs) go through json.Marshal.
func appendBatch(dst []byte, b *batch) ([]byte, error) {
	if b == nil {
		return append(dst, "null"...), nil
	}
	var err error
	dst = append(dst, '{')
	if b.Start != nil {
		dst = append(dst, `"start":{`...)
		n := len(dst)
		for _, f := range [...]struct{ key, value string }{
			{`"definition":`, b.Start.Definition}, {`"revision":`, b.Start.Revision}, {`"roleArn":`, b.Start.RoleARN},
		} {
			if f.value == "" {
				continue
			}
			if len(dst) > n {
				dst = append(dst, ',')
			}
			dst = appendString(append(dst, f.key...), f.value)
		}
		dst = append(dst, "},"...)
	}
	dst = append(dst, `"events":`...)
	if b.Events == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i := range b.Events {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendHistoryEvent(dst, &b.Events[i])
		}
		dst = append(dst, ']')
	}
	if len(b.Threads) > 0 {
		dst = append(dst, `,"threads":{`...)
		for i, k := range intKeys(b.Threads) {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, '"')
			dst = append(dst, k...)
			dst = append(dst, `":`...)
			id, _ := strconv.Atoi(k)
			if dst, err = appendThread(dst, b.Threads[id]); err != nil {
				return nil, err
			}
		}
		dst = append(dst, '}')
	}
	if len(b.Spawn) > 0 {
		if dst, err = appendMarshaled(dst, `,"spawn":`, b.Spawn); err != nil {
			return nil, err
		}
	}
	if len(b.Ended) > 0 {
		if dst, err = appendMarshaled(dst, `,"ended":`, b.Ended); err != nil {
			return nil, err
		}
	}
	if len(b.Succeeded) > 0 {
		dst = appendStrings(append(dst, `,"succeeded":`...), b.Succeeded)
	}
	if len(b.Spent) > 0 {
		dst = appendStrings(append(dst, `,"spent":`...), b.Spent)
	}
	if len(b.Halted) > 0 {
		if dst, err = appendMarshaled(dst, `,"halted":`, b.Halted); err != nil {
			return nil, err
		}
	}
	if b.Redrive != nil {
		if dst, err = appendMarshaled(dst, `,"redrive":`, b.Redrive); err != nil {
			return nil, err
		}
	}
	if len(b.MapRuns) > 0 {
		if dst, err = appendMarshaled(dst, `,"mapRuns":`, b.MapRuns); err != nil {
			return nil, err
		}
	}
	return append(dst, '}'), nil
}

// batchBuffers are scratch buffers of marshalBatch, which copies each
// text out at its size as json.Marshal does, instead of growing one
// per batch.
var batchBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 8192); return &b }}

// marshalBatch returns the JSON text of b, as json.Marshal writes it.
func marshalBatch(b *batch) ([]byte, error) {
	buf := batchBuffers.Get().(*[]byte)
	data, err := appendBatch((*buf)[:0], b)
	if err != nil {
		batchBuffers.Put(buf)
		return nil, err
	}
	out := make([]byte, len(data))
	copy(out, data)
	if cap(data) <= 1<<20 {
		*buf = data
		batchBuffers.Put(buf)
	}
	return out, nil
}

// appendMarshaled appends name and json.Marshal's text of v.
func appendMarshaled(dst []byte, name string, v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding%s %w", name[1:], err)
	}
	return append(append(dst, name...), data...), nil
}

// intKeys returns the keys of m as encoding/json writes them: decimal
// text, sorted as text.
func intKeys[V any](m map[int]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, strconv.Itoa(k))
	}
	slices.Sort(keys)
	return keys
}

func appendStrings(dst []byte, ss []string) []byte {
	dst = append(dst, '[')
	for i, s := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, s)
	}
	return append(dst, ']')
}

func appendTime(dst []byte, t time.Time) []byte {
	dst = append(dst, '"')
	dst = t.AppendFormat(dst, time.RFC3339Nano)
	return append(dst, '"')
}

// appendField appends ,"name": and the string s.
func appendField(dst []byte, name, s string) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':')
	return appendString(dst, s)
}

// appendIntField appends ,"name": and n.
func appendIntField(dst []byte, name string, n int64) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':')
	return strconv.AppendInt(dst, n, 10)
}

// appendDetails appends ,"name":{ for a history event's details; the
// caller writes the members, the first without a comma, and the brace.
func appendDetails(dst []byte, name string) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	return append(dst, `":{`...)
}

// appendHistoryEvent appends ev as json.Marshal writes it.
func appendHistoryEvent(dst []byte, ev *sfn.HistoryEvent) []byte {
	dst = append(dst, `{"timestamp":`...)
	dst = appendTime(dst, ev.Timestamp)
	dst = appendField(dst, "type", ev.Type)
	dst = appendIntField(dst, "id", ev.ID)
	dst = appendIntField(dst, "previousEventId", ev.PreviousEventID)
	if d := ev.ExecutionStarted; d != nil {
		dst = appendDetails(dst, "executionStartedEventDetails")
		dst = appendString(append(dst, `"input":`...), d.Input)
		if d.RoleARN != "" {
			dst = appendField(dst, "roleArn", d.RoleARN)
		}
		if d.StateMachineARN != "" {
			dst = appendField(dst, "stateMachineArn", d.StateMachineARN)
		}
		if d.StateMachineVersionARN != "" {
			dst = appendField(dst, "stateMachineVersionArn", d.StateMachineVersionARN)
		}
		if d.StateMachineAliasARN != "" {
			dst = appendField(dst, "stateMachineAliasArn", d.StateMachineAliasARN)
		}
		dst = append(dst, '}')
	}
	dst = appendOutputDetails(dst, "executionSucceededEventDetails", ev.ExecutionSucceeded)
	dst = appendFailureDetails(dst, "executionFailedEventDetails", ev.ExecutionFailed)
	dst = appendFailureDetails(dst, "executionAbortedEventDetails", ev.ExecutionAborted)
	dst = appendFailureDetails(dst, "executionTimedOutEventDetails", ev.ExecutionTimedOut)
	if d := ev.ExecutionRedriven; d != nil {
		dst = appendDetails(dst, "executionRedrivenEventDetails")
		dst = strconv.AppendInt(append(dst, `"redriveCount":`...), int64(d.RedriveCount), 10)
		dst = append(dst, '}')
	}
	if d := ev.StateEntered; d != nil {
		dst = appendDetails(dst, "stateEnteredEventDetails")
		dst = appendString(append(dst, `"name":`...), d.Name)
		dst = appendField(dst, "input", d.Input)
		dst = append(dst, '}')
	}
	if d := ev.StateExited; d != nil {
		dst = appendDetails(dst, "stateExitedEventDetails")
		dst = appendString(append(dst, `"name":`...), d.Name)
		dst = appendField(dst, "output", d.Output)
		if len(d.AssignedVariables) > 0 {
			dst = append(dst, `,"assignedVariables":{`...)
			keys := make([]string, 0, len(d.AssignedVariables))
			for k := range d.AssignedVariables {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for i, k := range keys {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = append(appendString(dst, k), ':')
				dst = appendString(dst, d.AssignedVariables[k])
			}
			dst = append(dst, '}')
		}
		dst = append(dst, '}')
	}
	if d := ev.TaskScheduled; d != nil {
		dst = appendDetails(dst, "taskScheduledEventDetails")
		dst = appendString(append(dst, `"resourceType":`...), d.ResourceType)
		dst = appendField(dst, "resource", d.Resource)
		dst = appendField(dst, "region", d.Region)
		dst = appendField(dst, "parameters", d.Parameters)
		if d.TimeoutInSeconds != 0 {
			dst = appendIntField(dst, "timeoutInSeconds", d.TimeoutInSeconds)
		}
		if d.HeartbeatSeconds != 0 {
			dst = appendIntField(dst, "heartbeatInSeconds", d.HeartbeatSeconds)
		}
		dst = append(dst, '}')
	}
	if d := ev.TaskStarted; d != nil {
		dst = appendDetails(dst, "taskStartedEventDetails")
		dst = appendString(append(dst, `"resourceType":`...), d.ResourceType)
		dst = appendField(dst, "resource", d.Resource)
		dst = append(dst, '}')
	}
	dst = appendTaskOutputDetails(dst, "taskSubmittedEventDetails", ev.TaskSubmitted)
	dst = appendTaskOutputDetails(dst, "taskSucceededEventDetails", ev.TaskSucceeded)
	dst = appendTaskFailureDetails(dst, "taskFailedEventDetails", ev.TaskFailed)
	dst = appendTaskFailureDetails(dst, "taskTimedOutEventDetails", ev.TaskTimedOut)
	if d := ev.LambdaFunctionScheduled; d != nil {
		dst = appendDetails(dst, "lambdaFunctionScheduledEventDetails")
		dst = appendString(append(dst, `"resource":`...), d.Resource)
		dst = appendField(dst, "input", d.Input)
		if d.TimeoutInSeconds != 0 {
			dst = appendIntField(dst, "timeoutInSeconds", d.TimeoutInSeconds)
		}
		dst = append(dst, '}')
	}
	dst = appendOutputDetails(dst, "lambdaFunctionSucceededEventDetails", ev.LambdaFunctionSucceeded)
	dst = appendFailureDetails(dst, "lambdaFunctionFailedEventDetails", ev.LambdaFunctionFailed)
	dst = appendFailureDetails(dst, "lambdaFunctionTimedOutEventDetails", ev.LambdaFunctionTimedOut)
	if d := ev.ActivityScheduled; d != nil {
		dst = appendDetails(dst, "activityScheduledEventDetails")
		dst = appendString(append(dst, `"resource":`...), d.Resource)
		dst = appendField(dst, "input", d.Input)
		if d.TimeoutInSeconds != 0 {
			dst = appendIntField(dst, "timeoutInSeconds", d.TimeoutInSeconds)
		}
		if d.HeartbeatSeconds != 0 {
			dst = appendIntField(dst, "heartbeatInSeconds", d.HeartbeatSeconds)
		}
		dst = append(dst, '}')
	}
	if d := ev.ActivityStarted; d != nil {
		dst = appendDetails(dst, "activityStartedEventDetails")
		if d.WorkerName != "" {
			dst = appendString(append(dst, `"workerName":`...), d.WorkerName)
		}
		dst = append(dst, '}')
	}
	dst = appendOutputDetails(dst, "activitySucceededEventDetails", ev.ActivitySucceeded)
	dst = appendFailureDetails(dst, "activityFailedEventDetails", ev.ActivityFailed)
	dst = appendFailureDetails(dst, "activityTimedOutEventDetails", ev.ActivityTimedOut)
	dst = appendFailureDetails(dst, "activityScheduleFailedEventDetails", ev.ActivityScheduleFailed)
	if d := ev.MapRunStarted; d != nil {
		dst = appendDetails(dst, "mapRunStartedEventDetails")
		dst = appendString(append(dst, `"mapRunArn":`...), d.MapRunARN)
		dst = append(dst, '}')
	}
	dst = appendFailureDetails(dst, "mapRunFailedEventDetails", ev.MapRunFailed)
	if d := ev.MapStateStarted; d != nil {
		dst = appendDetails(dst, "mapStateStartedEventDetails")
		dst = strconv.AppendInt(append(dst, `"length":`...), int64(d.Length), 10)
		dst = append(dst, '}')
	}
	dst = appendIterationDetails(dst, "mapIterationStartedEventDetails", ev.MapIterationStarted)
	dst = appendIterationDetails(dst, "mapIterationSucceededEventDetails", ev.MapIterationSucceed)
	dst = appendIterationDetails(dst, "mapIterationFailedEventDetails", ev.MapIterationFailed)
	dst = appendIterationDetails(dst, "mapIterationAbortedEventDetails", ev.MapIterationAborted)
	return append(dst, '}')
}

func appendOutputDetails(dst []byte, name string, d *sfn.OutputDetails) []byte {
	if d == nil {
		return dst
	}
	dst = appendDetails(dst, name)
	dst = appendString(append(dst, `"output":`...), d.Output)
	return append(dst, '}')
}

// appendFailureDetails appends details whose members are both omitempty.
func appendFailureDetails(dst []byte, name string, d *sfn.FailureDetails) []byte {
	if d == nil {
		return dst
	}
	dst = appendDetails(dst, name)
	if d.Error != "" {
		dst = appendString(append(dst, `"error":`...), d.Error)
	}
	if d.Cause != "" {
		if d.Error != "" {
			dst = append(dst, ',')
		}
		dst = appendString(append(dst, `"cause":`...), d.Cause)
	}
	return append(dst, '}')
}

func appendTaskOutputDetails(dst []byte, name string, d *sfn.TaskOutputDetails) []byte {
	if d == nil {
		return dst
	}
	dst = appendDetails(dst, name)
	dst = appendString(append(dst, `"resourceType":`...), d.ResourceType)
	dst = appendField(dst, "resource", d.Resource)
	dst = appendField(dst, "output", d.Output)
	return append(dst, '}')
}

func appendTaskFailureDetails(dst []byte, name string, d *sfn.TaskFailureDetails) []byte {
	if d == nil {
		return dst
	}
	dst = appendDetails(dst, name)
	dst = appendString(append(dst, `"resourceType":`...), d.ResourceType)
	dst = appendField(dst, "resource", d.Resource)
	if d.Error != "" {
		dst = appendField(dst, "error", d.Error)
	}
	if d.Cause != "" {
		dst = appendField(dst, "cause", d.Cause)
	}
	return append(dst, '}')
}

func appendIterationDetails(dst []byte, name string, d *sfn.MapIterationDetails) []byte {
	if d == nil {
		return dst
	}
	dst = appendDetails(dst, name)
	dst = appendString(append(dst, `"name":`...), d.Name)
	dst = appendIntField(dst, "index", int64(d.Index))
	return append(dst, '}')
}

// appendThread appends t as its MarshalJSON writes it (nil as null).
func appendThread(dst []byte, t *thread) ([]byte, error) {
	if t == nil {
		return append(dst, "null"...), nil
	}
	var err error
	dst = strconv.AppendInt(append(dst, `{"id":`...), int64(t.ID), 10)
	if t.Parent != 0 {
		dst = appendIntField(dst, "parent", int64(t.Parent))
	}
	if t.Index != 0 {
		dst = appendIntField(dst, "index", int64(t.Index))
	}
	if len(t.Scope) > 0 {
		dst = append(dst, `,"scope":[`...)
		for i, s := range t.Scope {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(append(dst, `{"state":`...), s.State)
			if s.Branch != 0 {
				dst = appendIntField(dst, "branch", int64(s.Branch))
			}
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	dst = appendField(dst, "state", t.State)
	if t.inputJSON == "" {
		// The input in its place; with its JSON text known, MarshalJSON
		// writes it last (the outer struct's field).
		if dst, err = appendValue(append(dst, `,"input":`...), t.Input); err != nil {
			return nil, err
		}
	}
	dst = appendTime(append(dst, `,"entered":`...), t.Entered)
	dst = appendField(dst, "phase", t.Phase)
	dst = appendIntField(dst, "gen", t.Gen)
	if len(t.Retries) > 0 {
		dst = append(dst, `,"retries":[`...)
		for i, r := range t.Retries {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = strconv.AppendInt(dst, int64(r), 10)
		}
		dst = append(dst, ']')
	}
	if t.RetryCount != 0 {
		dst = appendIntField(dst, "retryCount", int64(t.RetryCount))
	}
	if !t.Due.IsZero() {
		dst = appendTime(append(dst, `,"due":`...), t.Due)
	}
	if t.Token != "" {
		dst = appendField(dst, "token", t.Token)
	}
	if t.Task != nil {
		if dst, err = appendTaskCall(append(dst, `,"task":`...), t.Task); err != nil {
			return nil, err
		}
	}
	if len(t.Vars) > 0 {
		if dst, err = appendValue(append(dst, `,"vars":`...), t.Vars); err != nil {
			return nil, err
		}
	}
	if len(t.Outer) > 0 {
		if dst, err = appendValue(append(dst, `,"outer":`...), t.Outer); err != nil {
			return nil, err
		}
	}
	dst = appendIntField(dst, "lastEvent", t.LastEvent)
	if t.EnteredEvent != 0 {
		dst = appendIntField(dst, "enteredEvent", t.EnteredEvent)
	}
	if t.Effective != nil {
		if dst, err = appendValue(append(dst, `,"effective":`...), t.Effective); err != nil {
			return nil, err
		}
	}
	if t.MaxConc != 0 {
		dst = appendIntField(dst, "maxConc", int64(t.MaxConc))
	}
	if t.MapRun != "" {
		dst = appendField(dst, "mapRun", t.MapRun)
	}
	if t.inputJSON != "" {
		dst = appendRawJSON(append(dst, `,"input":`...), t.inputJSON)
	}
	return append(dst, '}'), nil
}

// appendTaskCall appends c as its MarshalJSON writes it.
func appendTaskCall(dst []byte, c *taskCall) ([]byte, error) {
	var err error
	dst = appendString(append(dst, `{"kind":`...), c.Kind)
	if c.Wait {
		dst = append(dst, `,"wait":true`...)
	}
	dst = appendField(dst, "resource", c.Resource)
	if c.paramsJSON == "" {
		if dst, err = appendValue(append(dst, `,"params":`...), c.Params); err != nil {
			return nil, err
		}
	}
	if !c.TimeoutDue.IsZero() {
		dst = appendTime(append(dst, `,"timeoutDue":`...), c.TimeoutDue)
	}
	if c.HeartbeatSeconds != 0 {
		dst = appendIntField(dst, "heartbeat", c.HeartbeatSeconds)
	}
	if c.paramsJSON != "" {
		dst = appendRawJSON(append(dst, `,"params":`...), c.paramsJSON)
	}
	return append(dst, '}'), nil
}

// appendValue appends a value of a state's data (what asl decodes, or
// built of the same types) as json.Marshal writes it. An *asl.Object is
// asl's text with encoding/json's HTML escaping, as json.Marshal compacts
// its MarshalJSON output; a type the engine's data never holds goes
// through json.Marshal.
func appendValue(dst []byte, v any) ([]byte, error) {
	var err error
	switch t := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case bool:
		return strconv.AppendBool(dst, t), nil
	case string:
		return appendString(dst, t), nil
	case json.Number:
		if t == "" {
			return append(dst, '0'), nil
		}
		return append(dst, t...), nil
	case *asl.Object:
		start := len(dst)
		if dst, err = asl.AppendJSON(dst, t); err != nil {
			return nil, err
		}
		if !needsHTMLEscape(dst[start:]) {
			return dst, nil
		}
		text := string(dst[start:])
		return appendRawJSON(dst[:start], text), nil
	case map[string]any:
		if t == nil {
			return append(dst, "null"...), nil
		}
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(appendString(dst, k), ':')
			if dst, err = appendValue(dst, t[k]); err != nil {
				return nil, err
			}
		}
		return append(dst, '}'), nil
	case []any:
		if t == nil {
			return append(dst, "null"...), nil
		}
		dst = append(dst, '[')
		for i, e := range t {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = appendValue(dst, e); err != nil {
				return nil, err
			}
		}
		return append(dst, ']'), nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding %T: %w", v, err)
	}
	return append(dst, data...), nil
}

// needsHTMLEscape reports whether JSON text holds a character
// encoding/json escapes that asl writes as it is: <, >, &, U+2028, U+2029.
func needsHTMLEscape(b []byte) bool {
	return bytes.ContainsAny(b, "<>&\u2028\u2029")
}

// appendRawJSON appends valid JSON text as json.Marshal writes a
// json.RawMessage: without the whitespace between tokens, with <, >, &,
// U+2028 and U+2029 escaped.
func appendRawJSON(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	inString, escaped := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '<' || c == '>' || c == '&':
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			continue
		case c == 0xe2 && i+2 < len(s) && s[i+1] == 0x80 && s[i+2]&^1 == 0xa8:
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[s[i+2]&0xf])
			i += 2
			escaped = false
			continue
		}
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		} else {
			switch c {
			case '"':
				inString = true
			case ' ', '\t', '\n', '\r':
				continue
			}
		}
		dst = append(dst, c)
	}
	return dst
}

// appendString appends s as encoding/json writes a string, HTML escaping
// included: invalid UTF-8 as U+FFFD, U+2028 and U+2029 escaped.
func appendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '\\', '"':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

package engine

import (
	"encoding/json"
	"fmt"

	"github.com/aiflow/aiflow/internal/asl"
)

// The engine's values keep the order of object members as Step Functions
// does (see asl.Object). The snapshots recovery reads are decoded here so
// that a resumed execution keeps that order too: encoding/json would
// decode their values into maps.

// errorOutput is the result a Catch passes on and a tolerated Map
// iteration leaves, with its members in Step Functions' order.
func errorOutput(name, cause string) *asl.Object {
	o := asl.NewObject(2)
	o.Set("Error", name)
	o.Set("Cause", cause)
	return o
}

// orderedValue decodes a snapshot's JSON value; absent is nil.
func orderedValue(raw json.RawMessage, what string) (any, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	v, err := asl.DecodeJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("decoding %s: %w", what, err)
	}
	return v, nil
}

func orderedValues(raws map[string]json.RawMessage, what string) (map[string]any, error) {
	if raws == nil {
		return nil, nil
	}
	m := make(map[string]any, len(raws))
	for k, raw := range raws {
		v, err := orderedValue(raw, what+" "+k)
		if err != nil {
			return nil, err
		}
		m[k] = v
	}
	return m, nil
}

// UnmarshalJSON reads a thread's snapshot.
func (t *thread) UnmarshalJSON(data []byte) error {
	type plain thread
	aux := struct {
		*plain
		Input     json.RawMessage            `json:"input"`
		Effective json.RawMessage            `json:"effective,omitempty"`
		Vars      map[string]json.RawMessage `json:"vars,omitempty"`
		Outer     map[string]json.RawMessage `json:"outer,omitempty"`
	}{plain: (*plain)(t)}
	if err := json.Unmarshal(data, &aux); err != nil {
		return err
	}
	var err error
	if t.Input, err = orderedValue(aux.Input, "the thread's input"); err != nil {
		return err
	}
	if t.Effective, err = orderedValue(aux.Effective, "the thread's effective input"); err != nil {
		return err
	}
	if t.Vars, err = orderedValues(aux.Vars, "variable"); err != nil {
		return err
	}
	t.Outer, err = orderedValues(aux.Outer, "variable")
	return err
}

// UnmarshalJSON reads a scheduled task's snapshot.
func (c *taskCall) UnmarshalJSON(data []byte) error {
	type plain taskCall
	aux := struct {
		*plain
		Params json.RawMessage `json:"params"`
	}{plain: (*plain)(c)}
	if err := json.Unmarshal(data, &aux); err != nil {
		return err
	}
	var err error
	c.Params, err = orderedValue(aux.Params, "the task's parameters")
	return err
}

// UnmarshalJSON reads the items of a Map state's fan-out.
func (s *spawnInfo) UnmarshalJSON(data []byte) error {
	type plain spawnInfo
	aux := struct {
		*plain
		Items []json.RawMessage `json:"items,omitempty"`
	}{plain: (*plain)(s)}
	if err := json.Unmarshal(data, &aux); err != nil {
		return err
	}
	s.Items = nil
	for i, raw := range aux.Items {
		v, err := orderedValue(raw, fmt.Sprintf("item %d", i))
		if err != nil {
			return err
		}
		s.Items = append(s.Items, v)
	}
	return nil
}

// UnmarshalJSON reads the end of a branch or iteration.
func (c *childEnd) UnmarshalJSON(data []byte) error {
	type plain childEnd
	aux := struct {
		*plain
		Output json.RawMessage `json:"output,omitempty"`
	}{plain: (*plain)(c)}
	if err := json.Unmarshal(data, &aux); err != nil {
		return err
	}
	var err error
	c.Output, err = orderedValue(aux.Output, "the output of a branch")
	return err
}

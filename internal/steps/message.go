package steps

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Message is the body of a task step's SQS message, as the workflow
// compiler writes it: the task token, where the task runs, what the step
// is (Spec, fixed at compile time) and what it works on (Data, rendered by
// the state machine from the execution's state).
type Message struct {
	TaskToken string          `json:"taskToken"`
	Execution Execution       `json:"execution"`
	Step      StepInfo        `json:"step"`
	Spec      json.RawMessage `json:"spec"`
	Data      json.RawMessage `json:"data"`
}

// Execution names the execution a task belongs to: ID is its ARN.
type Execution struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	StartTime string `json:"startTime"`
}

// StepInfo is the step of a task: its id in the workflow, its kind (ai,
// mcp, service, approval), the attempt (0 for the first, counting the
// state's retries) and when the state was entered.
type StepInfo struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"`
	Attempt     int    `json:"attempt"`
	EnteredTime string `json:"enteredTime"`
}

// Entered returns the time the step's state was entered, and false when
// the message does not say.
func (s StepInfo) Entered() (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s.EnteredTime)
	return t, err == nil
}

// decodeMessage reads a message body. When the body is not a step message
// it returns the task token it could still read (or "") with the error, so
// that the task can be failed instead of its message retried forever.
func decodeMessage(body string) (Message, string, error) {
	var m Message
	dec := json.NewDecoder(bytes.NewReader([]byte(body)))
	dec.UseNumber()
	err := dec.Decode(&m)
	if err != nil {
		var probe struct {
			TaskToken string `json:"taskToken"`
		}
		_ = json.Unmarshal([]byte(body), &probe)
		return Message{}, probe.TaskToken, fmt.Errorf("reading the step message: %w", err)
	}
	switch {
	case m.TaskToken == "":
		return Message{}, "", errors.New("reading the step message: it has no taskToken")
	case m.Step.ID == "" || m.Step.Kind == "":
		return Message{}, m.TaskToken, errors.New("reading the step message: step.id and step.kind are required")
	}
	return m, m.TaskToken, nil
}

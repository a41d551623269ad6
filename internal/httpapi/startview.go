package httpapi

import "time"

// startedView is the answer to a start. Its fields are in the byte order
// of their JSON names, which is the order encoding/json writes a map's
// keys in: the answer was a map[string]any, whose encoding cost a start
// twenty allocations, and stays byte for byte the same
// (TestStartedViewIsTheMapItReplaced).
type startedView struct {
	ARN       string    `json:"arn"`
	Href      string    `json:"href"`
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	StartedAt time.Time `json:"started_at"`
	Version   int       `json:"version"`
	Workflow  string    `json:"workflow"`
}

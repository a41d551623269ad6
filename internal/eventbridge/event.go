package eventbridge

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Event is an EventBridge event, the envelope EventBridge delivers to a
// Lambda target: aws-lambda-go's events.EventBridgeEvent decodes it.
type Event struct {
	// Version is "0" for every event.
	Version string
	// ID is the event's id, a UUID.
	ID         string
	DetailType string
	Source     string
	// Account and Region are where the event happened.
	Account string
	Time    time.Time
	Region  string
	// Resources are the ARNs the event is about; never null on the wire.
	Resources []string
	// Detail is the event's JSON object; {} when empty.
	Detail json.RawMessage
}

// wireEvent is Event in EventBridge's field order and names.
type wireEvent struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// timeLayout is how EventBridge writes an event's time: UTC, to the
// second, with a Z.
const timeLayout = "2006-01-02T15:04:05Z"

// MarshalJSON writes the event as EventBridge delivers it: version "0"
// when unset, the time in UTC to the second, resources [] when none and
// detail {} when empty. It returns an error when Detail is not a JSON
// object.
func (e Event) MarshalJSON() ([]byte, error) {
	w := wireEvent{
		Version: e.Version, ID: e.ID, DetailType: e.DetailType, Source: e.Source, Account: e.Account,
		Time: e.Time.UTC().Format(timeLayout), Region: e.Region, Resources: e.Resources, Detail: e.Detail,
	}
	if w.Version == "" {
		w.Version = "0"
	}
	if w.Resources == nil {
		w.Resources = []string{}
	}
	if len(bytes.TrimSpace(w.Detail)) == 0 {
		w.Detail = json.RawMessage(`{}`)
	} else if !isObject(w.Detail) {
		return nil, fmt.Errorf("encoding event %s: its detail is not a JSON object", e.ID)
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads an event in EventBridge's shape.
func (e *Event) UnmarshalJSON(b []byte) error {
	var w wireEvent
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	t, err := time.Parse(time.RFC3339, w.Time)
	if err != nil && w.Time != "" {
		return fmt.Errorf("decoding event %s: its time %q is not RFC 3339", w.ID, w.Time)
	}
	*e = Event{Version: w.Version, ID: w.ID, DetailType: w.DetailType, Source: w.Source, Account: w.Account,
		Time: t, Region: w.Region, Resources: w.Resources, Detail: w.Detail}
	return nil
}

func isObject(b []byte) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal(b, &m) == nil && m != nil
}

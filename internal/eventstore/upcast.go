package eventstore

import (
	"encoding/json"
	"fmt"
	"sync"
)

// UpcastFunc turns the data of an event stored at one schema version into
// the data of the next version.
type UpcastFunc func(data json.RawMessage) (json.RawMessage, error)

// Upcasters hold, per event type, the steps from each old schema version to
// the next. Reads apply them in order, so stored events keep their old
// shape on disk and reach code in the current one.
type Upcasters struct {
	mu    sync.RWMutex
	steps map[upcastKey]UpcastFunc
}

type upcastKey struct {
	eventType string
	version   int
}

// NewUpcasters returns an empty set.
func NewUpcasters() *Upcasters { return &Upcasters{steps: map[upcastKey]UpcastFunc{}} }

// Register adds the step that turns eventType's data at version from into
// version from+1. It panics when that step is registered already, which is
// a programming error found at start-up.
func (u *Upcasters) Register(eventType string, from int, fn UpcastFunc) {
	u.mu.Lock()
	defer u.mu.Unlock()
	k := upcastKey{eventType, from}
	if _, dup := u.steps[k]; dup {
		panic(fmt.Sprintf("eventstore: upcaster for %s version %d registered twice", eventType, from))
	}
	u.steps[k] = fn
}

// apply upcasts ev in place through every registered step.
func (u *Upcasters) apply(ev *Event) error {
	u.mu.RLock()
	defer u.mu.RUnlock()
	for {
		fn, ok := u.steps[upcastKey{ev.Type, ev.SchemaVersion}]
		if !ok {
			return nil
		}
		data, err := fn(ev.Data)
		if err != nil {
			return fmt.Errorf("upcasting event %s (%s) from version %d: %w", ev.ID, ev.Type, ev.SchemaVersion, err)
		}
		var probe map[string]json.RawMessage
		if err := json.Unmarshal(data, &probe); err != nil {
			return fmt.Errorf("upcasting event %s (%s) from version %d: the result is not a JSON object", ev.ID, ev.Type, ev.SchemaVersion)
		}
		ev.Data = data
		ev.SchemaVersion++
	}
}

package workflow

import (
	"fmt"
	"strings"
)

// QueueSubstitutions are the compiler's queue substitutions, one per kind
// of task step, in a fixed order.
var QueueSubstitutions = []string{AIQueueSubstitution, MCPQueueSubstitution, ServiceQueueSubstitution, ApprovalQueueSubstitution}

// MissingQueueError is a state machine that sends to a queue the
// deployment has no URL for.
type MissingQueueError struct {
	// Substitution is the queue's, such as AIQueueSubstitution.
	Substitution string
}

func (e *MissingQueueError) Error() string {
	return fmt.Sprintf("this deployment has no queue for the steps that send to %s", e.Substitution)
}

// SubstituteQueues fills the queue substitutions in the text of a
// compiled state machine with the queues' URLs, by substitution. It
// returns a *MissingQueueError when the definition sends to a queue urls
// has no URL for; substitutions it does not use need none.
func SubstituteQueues(definition string, urls map[string]string) (string, error) {
	for _, sub := range QueueSubstitutions {
		if !strings.Contains(definition, sub) {
			continue
		}
		url := urls[sub]
		if url == "" {
			return "", &MissingQueueError{Substitution: sub}
		}
		definition = strings.ReplaceAll(definition, sub, url)
	}
	return definition, nil
}

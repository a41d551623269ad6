package engine

import "github.com/aiflow/aiflow/internal/asl"

// stateEvents are the names of each state type's StateEntered and
// StateExited events, made once instead of concatenated for every state
// an execution enters and leaves.
var stateEvents = func() map[asl.StateType][2]string {
	m := map[asl.StateType][2]string{}
	for _, t := range []asl.StateType{asl.TypePass, asl.TypeTask, asl.TypeChoice, asl.TypeWait, asl.TypeSucceed, asl.TypeFail, asl.TypeParallel, asl.TypeMap} {
		m[t] = [2]string{string(t) + "StateEntered", string(t) + "StateExited"}
	}
	return m
}()

// enteredEvent is the type of a state's StateEntered event: TaskStateEntered.
func enteredEvent(t asl.StateType) string {
	if n, ok := stateEvents[t]; ok {
		return n[0]
	}
	return string(t) + "StateEntered"
}

// exitedEvent is the type of a state's StateExited event: TaskStateExited.
func exitedEvent(t asl.StateType) string {
	if n, ok := stateEvents[t]; ok {
		return n[1]
	}
	return string(t) + "StateExited"
}

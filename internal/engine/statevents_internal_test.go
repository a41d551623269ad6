package engine

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/asl"
)

// TestStateEventNames: the names made once are the concatenated ones,
// for every state type and for one the table does not know.
func TestStateEventNames(t *testing.T) {
	t.Parallel()
	for _, typ := range []asl.StateType{asl.TypePass, asl.TypeTask, asl.TypeChoice, asl.TypeWait, asl.TypeSucceed, asl.TypeFail, asl.TypeParallel, asl.TypeMap, "Other"} {
		require.Equal(t, string(typ)+"StateEntered", enteredEvent(typ))
		require.Equal(t, string(typ)+"StateExited", exitedEvent(typ))
	}
}

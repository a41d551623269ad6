package sfn_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/sfn"
)

func TestTaskTokenExecution(t *testing.T) {
	t.Parallel()
	arn := "arn:aws:states:us-east-1:123456789012:execution:wf:run-1"
	random := []byte("0123456789abcdef|x") // the random part may hold "|"
	token := sfn.NewTaskToken(arn, random)
	got, ok := sfn.TaskTokenExecution(token)
	require.True(t, ok)
	require.Equal(t, arn, got)

	for _, opaque := range []string{
		"", "tok", "AAAAKyAxZ+/=", // not base64url
		sfn.NewTaskToken(arn, make([]byte, 18))[:40], // cut short
	} {
		_, ok := sfn.TaskTokenExecution(opaque)
		require.False(t, ok, opaque)
	}
	require.Panics(t, func() { sfn.NewTaskToken(arn, []byte("short")) })
}

// heartbeater answers heartbeats with err and counts them.
type heartbeater struct {
	err   error
	calls int
}

func (h *heartbeater) SendTaskHeartbeat(context.Context, string) error {
	h.calls++
	return h.err
}

func TestCheckTaskToken(t *testing.T) {
	t.Parallel()
	arn := "arn:aws:states:us-east-1:123456789012:execution:wf:run-1"
	local := sfn.NewTaskToken(arn, make([]byte, 18))
	for _, tc := range []struct {
		name      string
		token     string
		err       error
		refused   bool
		failed    bool
		heartbeat bool
	}{
		{name: "awaited", token: local, heartbeat: true},
		{name: "an opaque token, awaited", token: "AAAAKgAAAAIAAAAA+opaque/", heartbeat: true},
		{name: "another execution's", token: sfn.NewTaskToken(arn+"-other", make([]byte, 18)), refused: true},
		{name: "a closed task's", token: local, err: &sfn.Error{Code: sfn.CodeTaskTimedOut}, refused: true, heartbeat: true},
		{name: "forged", token: "forged", err: &sfn.Error{Code: sfn.CodeInvalidToken}, refused: true, heartbeat: true},
		{name: "too long", token: "forged", err: &sfn.Error{Code: sfn.CodeValidation}, refused: true, heartbeat: true},
		{name: "not checked", token: local, err: errors.New("connection refused"), failed: true, heartbeat: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := &heartbeater{err: tc.err}
			err := sfn.CheckTaskToken(t.Context(), h, tc.token, arn)
			require.Equal(t, tc.refused, errors.Is(err, sfn.ErrTaskTokenRefused), "%v", err)
			require.Equal(t, tc.refused || tc.failed, err != nil)
			if tc.heartbeat {
				require.Equal(t, 1, h.calls, "one heartbeat per check")
			} else {
				require.Zero(t, h.calls)
			}
		})
	}
}

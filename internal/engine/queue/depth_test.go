package queue_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine/queue"
)

func TestDepthsCountMessagesAndAgeTheOldest(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		tb := setup(t)
		busy := tb.createQueue(t, queue.QueueConfig{Name: "busy", VisibilityTimeout: time.Hour})
		tb.createQueue(t, queue.QueueConfig{Name: "alpha"})

		tb.send(t, busy, "first")
		time.Sleep(10 * time.Second)
		tb.send(t, busy, "second")
		time.Sleep(5 * time.Second)
		// The oldest message is received: in flight, it still counts.
		got := tb.receive(t, busy, 1)
		require.Len(t, got, 1)
		require.Equal(t, "first", got[0].Body)

		require.Equal(t, []queue.Depth{
			{Name: "alpha"},
			{Name: "busy", Visible: 1, InFlight: 1, OldestAge: 15 * time.Second},
		}, tb.b.Depths())

		// Deleted, it no longer does: the second message is the oldest.
		require.NoError(t, tb.b.DeleteMessage(busy, got[0].ReceiptHandle))
		require.Equal(t, []queue.Depth{
			{Name: "alpha"},
			{Name: "busy", Visible: 1, OldestAge: 5 * time.Second},
		}, tb.b.Depths())

		require.NoError(t, tb.b.Close())
		require.Nil(t, tb.b.Depths(), "a closed broker has no queues to report")
	})
}

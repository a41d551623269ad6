package stepevent_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/steps/stepevent"
)

func TestBrokerDeliversByExecution(t *testing.T) {
	t.Parallel()
	b := &stepevent.Broker{}
	a1, a2, other := b.Subscribe("a", 0), b.Subscribe("a", 0), b.Subscribe("b", 0)
	require.Equal(t, 2, b.Subscribers("a"))
	b.Publish(stepevent.StreamEvent{ExecutionID: "a", StepID: "s", Text: "hel"})
	b.Publish(stepevent.StreamEvent{ExecutionID: "a", StepID: "s", Text: "lo"})
	for _, s := range []*stepevent.Subscription{a1, a2} {
		require.Equal(t, "hel", (<-s.C).Text)
		require.Equal(t, "lo", (<-s.C).Text)
	}
	require.Empty(t, other.C)
	a1.Close()
	a1.Close()
	_, open := <-a1.C
	require.False(t, open)
	require.Equal(t, 1, b.Subscribers("a"))
	a2.Close()
	other.Close()
	require.Zero(t, b.Subscribers("a"))
}

func TestBrokerNeverBlocksOnASlowSubscriber(t *testing.T) {
	t.Parallel()
	b := &stepevent.Broker{}
	s := b.Subscribe("a", 2)
	defer s.Close()
	for range 5 {
		b.Publish(stepevent.StreamEvent{ExecutionID: "a", Text: "x"})
	}
	require.Len(t, s.C, 2)
	require.Equal(t, 3, s.Missed())
}

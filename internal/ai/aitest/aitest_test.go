package aitest_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/ai"
	"github.com/aiflow/aiflow/internal/ai/aitest"
)

func TestChunks(t *testing.T) {
	t.Parallel()
	require.Nil(t, aitest.Chunks("", 4))
	require.Equal(t, []string{"abcd", "efgh", "i"}, aitest.Chunks("abcdefghi", 4))
	s := "It is 18 °C in Paris — cloudy."
	for n := 1; n < 8; n++ {
		got := aitest.Chunks(s, n)
		require.Equal(t, s, strings.Join(got, ""))
		for _, c := range got {
			require.True(t, utf8.ValidString(c), "chunk %q of size %d", c, n)
		}
	}
}

func TestCasesAreWellFormed(t *testing.T) {
	t.Parallel()
	names := map[string]bool{}
	for _, c := range aitest.Cases("m") {
		require.False(t, names[c.Name], "duplicate case %q", c.Name)
		names[c.Name] = true
		require.True(t, (c.Reply == nil) != (c.Failure == nil), c.Name)
		require.Equal(t, "m", c.Request.Model)
		require.NotEmpty(t, c.Request.Messages)
	}
	conv := aitest.ToolConversation("m")
	require.Equal(t, ai.StopToolUse, conv.ToolUse.StopReason)
	require.Len(t, conv.Second.Messages, 3)
	require.Len(t, conv.First.Messages, 1, "Second does not alias First")
}

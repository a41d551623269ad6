package engine

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSendMessageResultText: the TaskSubmitted output written without the
// map is the map's text.
func TestSendMessageResultText(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ id, body string }{
		{"8f2c1a9e-0000-4000-8000-000000000001", `{"a":1}`},
		{"", ""},
		{`odd "id" \ with <html> & é`, "line\nbreak"},
	} {
		require.Equal(t, text(sendMessageResult(c.id, md5Hex(c.body))), sendMessageResultText(c.id, md5Hex(c.body)), "%q", c.id)
	}
}

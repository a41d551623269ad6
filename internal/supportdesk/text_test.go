package supportdesk_test

import (
	"encoding/json"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"
)

// TestArgumentsTextIsGated: arguments holding a NUL, invalid UTF-8 or a
// lone surrogate (which the SDK's decoding would have replaced with
// U+FFFD) are refused with invalid params naming the JSON pointer, on
// every transport, and no tool runs.
func TestArgumentsTextIsGated(t *testing.T) {
	t.Parallel()
	forEachTransport(t, 0, func(t *testing.T, b *testBundle, cs *mcp.ClientSession) {
		tickets := count(t, b, `SELECT count(*) FROM support.tickets`)
		audits := count(t, b, `SELECT count(*) FROM support.audit`)
		for _, tc := range []struct{ name, args, pointer string }{
			{"NUL in a subject", `{"customer_id": 7, "subject": "Broken\u0000", "description": "y"}`, "/arguments/subject"},
			{"lone surrogate in a description", `{"customer_id": 7, "subject": "x", "description": "\ud83d"}`, "/arguments/description"},
			{"lone low surrogate", `{"customer_id": 7, "subject": "x\udc00y", "description": "z"}`, "/arguments/subject"},
			{"NUL in a key", `{"customer_id": 7, "subject": "x", "description": "y", "n\u0000": 1}`, "a key of /arguments"},
		} {
			_, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "create_ticket", Arguments: json.RawMessage(tc.args)})
			var we *jsonrpc.Error
			require.ErrorAs(t, err, &we, tc.name)
			require.Equal(t, int64(jsonrpc.CodeInvalidParams), we.Code, tc.name)
			require.Contains(t, we.Message, tc.pointer, tc.name)
		}
		require.Equal(t, tickets, count(t, b, `SELECT count(*) FROM support.tickets`), "no ticket was created")
		require.Equal(t, audits, count(t, b, `SELECT count(*) FROM support.audit`))
	})
}

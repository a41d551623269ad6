package apistore_test

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/apistore"
)

// TestApprovalIDIsUnchanged: an approval's id is "apr_" and the first 12
// bytes of its token's SHA-256 in hex, as stored approvals have it.
func TestApprovalIDIsUnchanged(t *testing.T) {
	t.Parallel()
	for _, token := range []string{"", "tok-1", "AAAAKgAAAAIAAAAAAAAAAcaG2bXkF1u8S3+hQ0Bmv0BQxvXTYpz0yEKb1ZrmQ2M9MKpBJLZjAn4="} {
		sum := sha256.Sum256([]byte(token))
		require.Equal(t, "apr_"+hex.EncodeToString(sum[:12]), apistore.ApprovalID(token))
	}
}

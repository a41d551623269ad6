package queue

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMD5OfAttributes(t *testing.T) {
	t.Parallel()
	// The digest the SQS algorithm gives for one String attribute, as
	// published with independent implementations of it.
	require.Equal(t, "19e27d4e946b072f3f58da80d94fd778", md5OfAttributes(map[string]Attribute{"attribName1": {DataType: "String", StringValue: "attribValue 1"}}))
}

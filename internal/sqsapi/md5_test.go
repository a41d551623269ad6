package sqsapi

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine/queue"
)

func TestMD5OfAttributes(t *testing.T) {
	t.Parallel()
	// The digest SQS gives one String attribute, as published with
	// independent implementations of the algorithm.
	require.Equal(t, "19e27d4e946b072f3f58da80d94fd778",
		md5OfAttributes(map[string]Attribute{"attribName1": {DataType: "String", StringValue: "attribValue 1"}}))
	require.Empty(t, md5OfAttributes(nil))
}

// TestMD5OfAttributesAgreesWithTheQueue holds this package's digest equal
// to the one the engine's queue gives Lambda handlers, for every type.
func TestMD5OfAttributesAgreesWithTheQueue(t *testing.T) {
	t.Parallel()
	b := queue.New(queue.Config{})
	t.Cleanup(func() { require.NoError(t, b.Close()) })
	url, err := b.CreateQueue(queue.QueueConfig{Name: "digests"})
	require.NoError(t, err)
	attrs := map[string]Attribute{
		"s":     {DataType: "String", StringValue: "text é"},
		"n":     {DataType: "Number.float", StringValue: "-1.5e3"},
		"bin":   {DataType: "Binary", BinaryValue: []byte{0, 0xfe, 7}},
		"label": {DataType: "Binary.gz", BinaryValue: []byte("zz")},
	}
	qa := map[string]queue.Attribute{}
	for k, v := range attrs {
		qa[k] = queue.Attribute{DataType: v.DataType, StringValue: v.StringValue, BinaryValue: v.BinaryValue}
	}
	res, err := b.Send(t.Context(), queue.SendParams{QueueURL: url, Body: "x", Attributes: qa})
	require.NoError(t, err)
	require.Equal(t, md5OfAttributes(attrs), res.MD5OfAttributes)
	msgs, err := b.ReceiveMessage(t.Context(), url, 1, 0)
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	require.Equal(t, res.MD5OfAttributes, msgs[0].Md5OfMessageAttributes)
}

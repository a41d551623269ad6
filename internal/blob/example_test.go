package blob_test

import (
	"context"
	"fmt"

	"github.com/aiflow/aiflow/internal/blob"
)

// A large result is stored and replaced by a reference; the next step's
// data holds the reference, which Resolve replaces with the value.
func Example() {
	ctx := context.Background()
	store := &blob.Memory{}
	ref, r, err := blob.Offload(ctx, store, blob.OffloadParams{
		Execution: "arn:aws:states:us-east-1:123456789012:execution:report:run-1",
		Step:      "draft",
		Value:     []byte(`{"title":"A long report","pages":120}`),
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(r.URI == blob.LocalScheme+blob.Key("arn:aws:states:us-east-1:123456789012:execution:report:run-1", "draft", r.SHA256), r.Bytes)

	data := []byte(`{"prompt":` + string(ref) + `,"n":1}`)
	resolved, err := blob.Resolve(ctx, store, data, 0)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(resolved))
	// Output:
	// true 37
	// {"prompt":{"title":"A long report","pages":120},"n":1}
}

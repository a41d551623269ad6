package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"testing"
)

// TestMain runs the package's tests with a check of every batch the
// engine hands a MemoryStore as a value (see BatchKeeper): after the
// tests, when its execution has long moved on, the batch must still
// encode to the bytes it encoded to at its transition, and those must
// not exceed the bound the engine checked MaxBatchBytes with.
func TestMain(m *testing.M) {
	var mu sync.Mutex
	type frozen struct {
		data  json.RawMessage
		b     *Batch
		bound int
	}
	var all []frozen
	frozenCheck = func(data json.RawMessage, b *Batch, bound int) {
		mu.Lock()
		all = append(all, frozen{data, b, bound})
		mu.Unlock()
	}
	code := m.Run()
	mu.Lock()
	defer mu.Unlock()
	for _, f := range all {
		if len(f.data) > f.bound {
			fmt.Fprintf(os.Stderr, "a batch of %s encodes to %d bytes, above its bound %d: %s\n", f.b.arn, len(f.data), f.bound, f.data)
			code = 1
		}
		if got := f.b.JSON(); !bytes.Equal(got, f.data) {
			fmt.Fprintf(os.Stderr, "a batch of %s changed after its transition:\nthen %s\nnow  %s\n", f.b.arn, f.data, got)
			code = 1
		}
	}
	os.Exit(code)
}

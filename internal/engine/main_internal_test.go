package engine

import (
	"os"
	"testing"
)

// TestMain runs the package's tests with two checks of every batch the
// engine writes: the hand-written encoder against json.Marshal
// (checkBatchEncodings) and the batches a MemoryStore keeps as values
// against their encoding at their transition (checkFrozenBatches).
func TestMain(m *testing.M) {
	encodings, frozen := checkBatchEncodings(), checkFrozenBatches()
	code := m.Run()
	if ok := encodings(); !ok {
		code = 1
	}
	if ok := frozen(); !ok {
		code = 1
	}
	os.Exit(code)
}

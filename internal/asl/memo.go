package asl

import (
	"encoding/json"
	"slices"
	"sync"
)

// memoLimit bounds each memo: when it is full it starts again empty, so
// a process that sees ever new templates (state machines created and
// deleted) keeps a bounded amount.
const memoLimit = 4096

// memo remembers the parse of a text: state machines run the same
// Parameters, ResultSelector and paths on every execution, and parsing
// them again each time is most of the cost of input and output
// processing. Parsed values are shared, so they must never be changed in
// place; the package only reads them (writes go to copies, see SetResult).
// Its key is the text, or what the value was derived from.
type memo[K comparable, T any] struct {
	mu sync.RWMutex
	m  map[K]T
}

func (c *memo[K, T]) get(key K) (T, bool) {
	c.mu.RLock()
	v, ok := c.m[key]
	c.mu.RUnlock()
	return v, ok
}

// getBytes is get of a text memo by the bytes of its key.
func getBytes[T any](c *memo[string, T], key []byte) (T, bool) {
	c.mu.RLock()
	v, ok := c.m[string(key)] // no allocation for the lookup
	c.mu.RUnlock()
	return v, ok
}

func (c *memo[K, T]) put(key K, v T) {
	c.mu.Lock()
	if c.m == nil || len(c.m) >= memoLimit {
		c.m = make(map[K]T, 64)
	}
	c.m[key] = v
	c.mu.Unlock()
}

var (
	templateMemo  memo[string, any]
	pathMemo      memo[string, Path]
	intrinsicMemo memo[string, Call]
)

// decodeTemplateMemo is decodeTemplate, remembered.
func decodeTemplateMemo(raw json.RawMessage) (any, error) {
	if v, ok := getBytes(&templateMemo, raw); ok {
		return v, nil
	}
	v, err := decodeTemplate(raw)
	if err != nil {
		return nil, err
	}
	templateMemo.put(string(raw), v)
	return v, nil
}

// parsePathMemo is ParsePath, remembered. The Segments of the returned
// Path are shared: an append to them makes a copy (their capacity is
// their length), and nothing writes to them in place.
func parsePathMemo(s string) (Path, error) {
	if p, ok := pathMemo.get(s); ok {
		return p, nil
	}
	p, err := ParsePath(s)
	if err != nil {
		return Path{}, err
	}
	p.Segments = slices.Clip(p.Segments)
	pathMemo.put(s, p)
	return p, nil
}

// ParsePathShared is ParsePath, remembered, for an interpreter that
// resolves the same paths on every execution. The returned Path is
// shared, as parsePathMemo's: the caller only reads it (Lookup does).
func ParsePathShared(s string) (Path, error) { return parsePathMemo(s) }

// ParseIntrinsicShared is ParseIntrinsic, remembered, for an interpreter
// that evaluates the same intrinsic functions on every execution. The
// returned Call, its arguments, their paths and nested calls are shared:
// the caller only reads them (EvalIntrinsic does). An expression that
// does not parse is not remembered.
func ParseIntrinsicShared(s string) (Call, error) {
	if c, ok := intrinsicMemo.get(s); ok {
		return c, nil
	}
	c, err := ParseIntrinsic(s)
	if err != nil {
		return Call{}, err
	}
	intrinsicMemo.put(s, c)
	return c, nil
}

package mcpclient_test

import (
	"encoding/json"
	"testing"

	"github.com/aiflow/aiflow/internal/mcpclient"
	"github.com/aiflow/aiflow/internal/mcpclient/mcpclienttest"
)

// BenchmarkCallInProcess measures a call through the pool to a server in
// process: the pool's own work (cache lookup, validation, breaker,
// result checks) plus the SDK's JSON-RPC over a pipe.
func BenchmarkCallInProcess(b *testing.B) {
	b.ReportAllocs()
	srv := setupBench(b)
	cp := mcpclient.CallParams{Server: "test", Tool: "lookup", Arguments: json.RawMessage(`{"id": 7}`)}
	if _, err := srv.Call(b.Context(), cp); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := srv.Call(b.Context(), cp); err != nil {
			b.Fatal(err)
		}
	}
}

func setupBench(b *testing.B) *mcpclient.Pool {
	b.Helper()
	s := mcpclienttest.New(mcpclienttest.Options{})
	pool, err := mcpclient.New(mcpclient.Options{InProcess: map[string]mcpclient.InProcessServer{
		"test": {Replicas: []mcpclient.ConnectFunc{s.Connect}, Config: mcpclient.ServerConfig{HealthIntervalSeconds: -1}},
	}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = pool.Close() })
	return pool
}

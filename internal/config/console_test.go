package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLoadConsole(t *testing.T) {
	t.Parallel()
	lookup := func(vars map[string]string) LookupFunc {
		return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	}
	cfg, err := LoadConsole(lookup(nil))
	require.NoError(t, err)
	require.Equal(t, Console{APIURL: "http://127.0.0.1:8080", Addr: "127.0.0.1:8090"}, cfg)

	cfg, err = LoadConsole(lookup(map[string]string{"AIFLOW_API_URL": "https://api.example.com", "AIFLOW_CONSOLE_ADDR": "0.0.0.0:9000",
		"AIFLOW_CONSOLE_TRACE_URL": "http://localhost:16686/trace/{trace_id}"}))
	require.NoError(t, err)
	require.Equal(t, Console{APIURL: "https://api.example.com", Addr: "0.0.0.0:9000", TraceURL: "http://localhost:16686/trace/{trace_id}"}, cfg)

	_, err = LoadConsole(lookup(map[string]string{"AIFLOW_API_URL": "api", "AIFLOW_CONSOLE_TRACE_URL": "http://jaeger/trace"}))
	require.ErrorContains(t, err, "AIFLOW_API_URL")
	require.ErrorContains(t, err, "AIFLOW_CONSOLE_TRACE_URL")

	cfg, err = LoadDevConsole(lookup(map[string]string{"AIFLOW_API_URL": "not read by aiflow dev"}))
	require.NoError(t, err)
	require.Empty(t, cfg.TraceURL)
	_, err = LoadDevConsole(lookup(map[string]string{"AIFLOW_CONSOLE_TRACE_URL": "jaeger"}))
	require.ErrorContains(t, err, "aiflow dev")
}

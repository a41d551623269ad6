package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/httpapi"
)

// requests is a RequestObserver that keeps what it hears.
type requests struct {
	mu    sync.Mutex
	heard []heardRequest
}

type heardRequest struct {
	route  string
	status int
}

func (r *requests) ObserveRequest(route string, status int, took time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.heard = append(r.heard, heardRequest{route, status})
}

func (r *requests) all() []heardRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]heardRequest(nil), r.heard...)
}

func TestRequestObserverHearsRoutePatterns(t *testing.T) {
	t.Parallel()
	obs := &requests{}
	srv := httptest.NewServer(httpapi.New(httpapi.Options{Requests: obs}))
	t.Cleanup(srv.Close)
	for _, path := range []string{"/healthz", "/v1/executions/exec-123", "/no/such/route"} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+path, nil)
		require.NoError(t, err)
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
	}
	require.Equal(t, []heardRequest{
		{"GET /healthz", http.StatusOK},
		// The route's pattern, never the raw path: ids make no new series.
		{"GET /v1/executions/{id}", http.StatusUnauthorized},
		{"", http.StatusNotFound},
	}, obs.all())
}

package httpapi

import "time"

// RequestObserver hears every request the API answers: the pattern of the
// route that served it ("POST /v1/workflows/{name}/executions", never the
// raw path, so that ids make no new series), "" when no route matched, its
// status and how long it took. *metrics.Recorder is one. It is called on
// the request's goroutine and must not block.
type RequestObserver interface {
	ObserveRequest(route string, status int, took time.Duration)
}

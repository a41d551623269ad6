package httpapi

import (
	"context"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/aiflow/aiflow/internal/telemetry"
)

// LambdaHandler serves an http.Handler to API Gateway HTTP API events
// (payload format 2.0), so the Lambda and `aiflow dev` run the same code.
type LambdaHandler struct {
	adapter *httpadapter.HandlerAdapterV2
}

// NewLambdaHandler wraps h for Lambda.
func NewLambdaHandler(h http.Handler) *LambdaHandler {
	return &LambdaHandler{adapter: httpadapter.NewV2(h)}
}

// Handle turns one API Gateway event into an HTTP request for the handler
// and its response back into the event API Gateway expects. API Gateway's
// request id becomes the request id in logs and in X-Request-Id.
func (l *LambdaHandler) Handle(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	if ev.RequestContext.RequestID != "" {
		if ev.Headers == nil {
			ev.Headers = map[string]string{}
		}
		if _, set := ev.Headers["x-request-id"]; !set {
			ev.Headers["x-request-id"] = ev.RequestContext.RequestID
		}
		ctx = telemetry.WithRequestID(ctx, ev.RequestContext.RequestID)
	}
	return l.adapter.ProxyWithContext(ctx, ev)
}

package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// Entry is the Lambda handler of an API function that also takes the
// approvals queue's SQS events and a schedule's events: API Gateway events
// go to the API, SQS events to the approvals worker, and EventBridge's
// scheduled events finish the approval decisions a crash left half done
// (control.Service.ResumeDecisions). One function then serves all three,
// as `aiflow dev` does in one process.
type Entry struct {
	API       *LambdaHandler
	Approvals *ApprovalWorker
	// ResumeDecisions is run by a scheduled event; nil refuses one.
	ResumeDecisions func(context.Context) (int, error)
}

// ResumedDecisions is the answer to a scheduled event: how many approval
// decisions it finished.
type ResumedDecisions struct {
	Finished int `json:"finished"`
}

// Handle routes one event by its shape.
func (e *Entry) Handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var probe struct {
		Records []struct {
			EventSource string `json:"eventSource"`
		} `json:"Records"`
		Source     string `json:"source"`
		DetailType string `json:"detail-type"`
	}
	_ = json.Unmarshal(raw, &probe)
	if probe.Source == "aws.events" && probe.DetailType == "Scheduled Event" {
		if e.ResumeDecisions == nil {
			return nil, errors.New("handling a scheduled event: this function does not finish approval decisions")
		}
		n, err := e.ResumeDecisions(ctx)
		if err != nil {
			return nil, fmt.Errorf("finishing approval decisions: %w", err)
		}
		return ResumedDecisions{Finished: n}, nil
	}
	if len(probe.Records) > 0 && probe.Records[0].EventSource == "aws:sqs" {
		if e.Approvals == nil {
			return nil, errors.New("handling an SQS event: this function has no approvals worker")
		}
		var ev events.SQSEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, fmt.Errorf("reading an SQS event: %w", err)
		}
		return e.Approvals.Handle(ctx, ev)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, fmt.Errorf("reading an API Gateway event: %w", err)
	}
	return e.API.Handle(ctx, ev)
}

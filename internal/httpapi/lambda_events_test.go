package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/apistore"
	"github.com/aiflow/aiflow/internal/auth"
	"github.com/aiflow/aiflow/internal/control"
	"github.com/aiflow/aiflow/internal/httpapi"
)

// readEvent reads a sample event of events/.
func readEvent(t *testing.T, name string) json.RawMessage {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	require.NoError(t, err)
	return raw
}

// TestLambdaSampleEvents runs the API's sample events through the Lambda
// entry as API Gateway (with its JWT authorizer's claims) and SQS would
// deliver them: publish, start, the approvals queue's message, a decision
// and a read.
func TestLambdaSampleEvents(t *testing.T) {
	t.Parallel()
	b := setupAPI(t, bundleOptions{authenticator: auth.AuthorizerClaims{Audience: []string{"aiflow"}}})
	entry := &httpapi.Entry{API: httpapi.NewLambdaHandler(b.api), Approvals: b.approvals}
	ctx := context.Background()
	invoke := func(raw json.RawMessage) events.APIGatewayV2HTTPResponse {
		t.Helper()
		out, err := entry.Handle(ctx, raw)
		require.NoError(t, err)
		resp, ok := out.(events.APIGatewayV2HTTPResponse)
		require.True(t, ok, "an API Gateway response, not %T", out)
		return resp
	}

	resp := invoke(readEvent(t, "api-publish-workflow.json"))
	require.Equal(t, http.StatusCreated, resp.StatusCode, resp.Body)

	resp = invoke(readEvent(t, "api-start-execution.json"))
	require.Equal(t, http.StatusCreated, resp.StatusCode, resp.Body)
	var started map[string]any
	require.NoError(t, json.Unmarshal([]byte(resp.Body), &started))
	var get events.APIGatewayV2HTTPRequest
	require.NoError(t, json.Unmarshal(readEvent(t, "api-get-execution.json"), &get))
	require.Equal(t, "/v1/executions/"+started["id"].(string), get.RawPath, "the sample reads the execution the sample started")

	// The queue's sample message is stored as a pending approval; its
	// token is not the engine's, so deciding it finds the step gone.
	out, err := entry.Handle(ctx, readEvent(t, "api-approvals-sqs.json"))
	require.NoError(t, err)
	require.Empty(t, out.(events.SQSEventResponse).BatchItemFailures)
	resp = invoke(readEvent(t, "api-decide-approval.json"))
	require.Equal(t, http.StatusConflict, resp.StatusCode, resp.Body)
	require.Contains(t, resp.Body, "no longer waiting")

	// The engine's own approval message, decided with the sample's body.
	var real apistore.Approval
	for {
		list, err := b.store.Approvals(ctx, apistore.ApprovalFilter{ExecutionARN: started["arn"].(string), Limit: 10})
		require.NoError(t, err)
		if len(list) > 0 {
			real = list[0]
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	decide := strings.Replace(string(readEvent(t, "api-decide-approval.json")), "apr_23237b7802c7d3eb060c1207", real.ID, -1)
	resp = invoke(json.RawMessage(decide))
	require.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)
	require.NoError(t, b.eng.Wait(ctx, started["arn"].(string)))

	resp = invoke(readEvent(t, "api-get-execution.json"))
	require.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(resp.Body), &got))
	require.Equal(t, "SUCCEEDED", got["status"])
	require.Equal(t, "operator-7", got["output"].(map[string]any)["approver"])

	recs := auditRecords(t, b)
	require.Contains(t, recs, "author-3 workflows:publish succeeded")
	require.Contains(t, recs, "operator-7 approvals:decide failed")
	require.Contains(t, recs, "operator-7 approvals:decide succeeded")
}

// TestLambdaScheduledEventResumesDecisions: the template's schedule sends
// the API function a Scheduled Event every minute; the entry runs
// ResumeDecisions on it and answers how many decisions it finished. A
// function without ResumeDecisions refuses the event, and a failure is
// the invocation's error.
func TestLambdaScheduledEventResumesDecisions(t *testing.T) {
	t.Parallel()
	b := setupAPI(t, bundleOptions{authenticator: auth.AuthorizerClaims{Audience: []string{"aiflow"}}})
	raw := readEvent(t, "api-resume-decisions.json")
	calls := 0
	entry := &httpapi.Entry{API: httpapi.NewLambdaHandler(b.api), Approvals: b.approvals,
		ResumeDecisions: func(ctx context.Context) (int, error) {
			calls++
			return b.api.Control().ResumeDecisions(ctx, control.ResumeDecisionsParams{})
		}}
	out, err := entry.Handle(t.Context(), raw)
	require.NoError(t, err)
	require.Equal(t, httpapi.ResumedDecisions{Finished: 0}, out, "nothing was left deciding")
	require.Equal(t, 1, calls)

	entry.ResumeDecisions = func(context.Context) (int, error) { return 0, errors.New("the database is down") }
	_, err = entry.Handle(t.Context(), raw)
	require.ErrorContains(t, err, "finishing approval decisions: the database is down")

	_, err = (&httpapi.Entry{API: httpapi.NewLambdaHandler(b.api)}).Handle(t.Context(), raw)
	require.ErrorContains(t, err, "this function does not finish approval decisions")
}

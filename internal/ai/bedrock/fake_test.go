package bedrock_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/ai/bedrock"
)

// fake is an httptest server in the place of Bedrock Runtime: it keeps every
// request it receives and answers with respond.
type fake struct {
	mu       sync.Mutex
	requests []received
	respond  func(w http.ResponseWriter, r *http.Request)
}

type received struct {
	rawPath   string // as sent, escaped
	operation string // "converse" or "converse-stream"
	modelID   string
	header    http.Header
	body      []byte
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := received{rawPath: r.URL.EscapedPath(), header: r.Header.Clone(), body: body}
	// POST /model/{modelId}/converse and /model/{modelId}/converse-stream.
	rest, _ := strings.CutPrefix(r.URL.EscapedPath(), "/model/")
	if i := strings.LastIndex(rest, "/"); i >= 0 {
		rec.modelID, _ = url.PathUnescape(rest[:i])
		rec.operation = rest[i+1:]
	}
	f.mu.Lock()
	f.requests = append(f.requests, rec)
	f.mu.Unlock()
	if r.Method != http.MethodPost || (rec.operation != "converse" && rec.operation != "converse-stream") {
		exception(w, http.StatusNotFound, "UnknownOperationException", "no such operation: "+r.URL.Path)
		return
	}
	f.respond(w, r)
}

func (f *fake) only(t *testing.T) received {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	require.Len(t, f.requests, 1)
	return f.requests[0]
}

func (f *fake) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

type testBundle struct {
	fake     *fake
	url      string
	provider *bedrock.Provider
}

// testConfig is an AWS configuration with static credentials and a region,
// so no test reads the machine's.
func testConfig() aws.Config {
	return aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""),
	}
}

func setup(t *testing.T, respond func(w http.ResponseWriter, r *http.Request)) *testBundle {
	t.Helper()
	f := &fake{respond: respond}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return &testBundle{
		fake:     f,
		url:      srv.URL,
		provider: bedrock.NewFromConfig(testConfig(), bedrock.Options{Endpoint: srv.URL}),
	}
}

// converseReply answers with a Converse response body.
func converseReply(body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-Requestid", "c7b4a6d2-5d1e-4b8a-9c3f-0e1f2a3b4c5d")
		_, _ = io.WriteString(w, body)
	}
}

// exception answers with Bedrock's error shape: the X-Amzn-ErrorType header
// naming the exception and a JSON body with its message.
func exception(w http.ResponseWriter, status int, name, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Requestid", "c7b4a6d2-5d1e-4b8a-9c3f-0e1f2a3b4c5d")
	w.Header().Set("X-Amzn-ErrorType", name+":http://internal.amazon.com/coral/com.amazon.bedrock/")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"message": message})
	_, _ = w.Write(b)
}

// frame is one message of the binary event stream: an event (its
// :event-type names the ConverseStream member) or an exception (its
// :exception-type names the exception member).
type frame struct {
	exception bool
	kind      string
	payload   any
}

func event(kind string, payload any) frame { return frame{kind: kind, payload: payload} }

func exceptionFrame(kind, message string) frame {
	return frame{exception: true, kind: kind, payload: map[string]string{"message": message}}
}

// encodeFrames encodes frames with the SDK's own event-stream encoder, as
// Bedrock sends them: application/vnd.amazon.eventstream, one prelude, the
// headers, a JSON payload and the CRCs per message.
func encodeFrames(t *testing.T, frames []frame) [][]byte {
	t.Helper()
	enc := eventstream.NewEncoder()
	var out [][]byte
	for _, f := range frames {
		payload, err := json.Marshal(f.payload)
		require.NoError(t, err)
		var msg eventstream.Message
		msg.Headers.Set(":content-type", eventstream.StringValue("application/json"))
		if f.exception {
			msg.Headers.Set(":message-type", eventstream.StringValue("exception"))
			msg.Headers.Set(":exception-type", eventstream.StringValue(f.kind))
		} else {
			msg.Headers.Set(":message-type", eventstream.StringValue("event"))
			msg.Headers.Set(":event-type", eventstream.StringValue(f.kind))
		}
		msg.Payload = payload
		var buf bytes.Buffer
		require.NoError(t, enc.Encode(&buf, msg))
		out = append(out, buf.Bytes())
	}
	return out
}

// streamReply answers ConverseStream with frames, flushing each as Bedrock
// does; with stall it keeps the stream open after them until the client
// goes away.
func streamReply(t *testing.T, frames []frame, stall bool) func(http.ResponseWriter, *http.Request) {
	encoded := encodeFrames(t, frames)
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
		w.Header().Set("X-Amzn-Requestid", "c7b4a6d2-5d1e-4b8a-9c3f-0e1f2a3b4c5d")
		w.WriteHeader(http.StatusOK)
		for _, b := range encoded {
			_, _ = w.Write(b)
			w.(http.Flusher).Flush()
		}
		if stall {
			<-r.Context().Done()
		}
	}
}

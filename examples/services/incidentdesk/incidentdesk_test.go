package incidentdesk_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/examples/services/incidentdesk"
	"github.com/aiflow/aiflow/internal/pathtemplate"
	"github.com/aiflow/aiflow/internal/schema"
)

var now = time.Date(2026, 12, 6, 8, 30, 0, 0, time.UTC)

type bundle struct {
	desk      *incidentdesk.Desk
	srv       *httptest.Server
	responses map[string]*jsonschema.Schema // by operation name
	requests  map[string]*jsonschema.Schema
}

func setup(t *testing.T) *bundle {
	t.Helper()
	desk := incidentdesk.New(incidentdesk.Config{NowFunc: func() time.Time { return now }})
	srv := httptest.NewServer(desk.Handler())
	t.Cleanup(srv.Close)
	b := &bundle{desk: desk, srv: srv, responses: map[string]*jsonschema.Schema{}, requests: map[string]*jsonschema.Schema{}}
	for _, op := range incidentdesk.Service().Operations {
		s, err := schema.Compile(op.Name+".response.json", op.ResponseSchema)
		require.NoError(t, err, op.Name)
		b.responses[op.Name] = s
		if len(op.RequestSchema) > 0 {
			s, err := schema.Compile(op.Name+".request.json", op.RequestSchema)
			require.NoError(t, err, op.Name)
			b.requests[op.Name] = s
		}
	}
	return b
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (b *bundle) do(t *testing.T, method, path, key, body string) answer {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, b.srv.URL+path, r)
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := b.srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return answer{status: resp.StatusCode, header: resp.Header, body: got}
}

// ok calls an operation and expects want, a body fitting the operation's
// response schema (and a request body fitting its request schema), and
// decodes the answer into v.
func (b *bundle) ok(t *testing.T, op, method, path, key, body string, want int, v any) answer {
	t.Helper()
	if s := b.requests[op]; s != nil {
		mismatches, err := schema.Validate(s, []byte(body))
		require.NoError(t, err)
		require.Empty(t, mismatches, "the test's request fits the request schema")
	}
	a := b.do(t, method, path, key, body)
	require.Equal(t, want, a.status, string(a.body))
	require.Equal(t, "application/json", a.header.Get("Content-Type"))
	mismatches, err := schema.Validate(b.responses[op], a.body)
	require.NoError(t, err)
	require.Empty(t, mismatches, string(a.body))
	require.NoError(t, json.Unmarshal(a.body, v))
	return a
}

func (b *bundle) problem(t *testing.T, method, path, key, body string, want int) map[string]any {
	t.Helper()
	a := b.do(t, method, path, key, body)
	require.Equal(t, want, a.status, string(a.body))
	require.Equal(t, "application/problem+json", a.header.Get("Content-Type"))
	var p map[string]any
	require.NoError(t, json.Unmarshal(a.body, &p))
	require.EqualValues(t, want, p["status"])
	require.NotEmpty(t, p["detail"])
	require.Equal(t, path, p["instance"])
	return p
}

const note = `{"title":"sev2: checkout errors","text":"5xx at 4% since 08:10","severity":"sev2","mention":"@oncall-payments"}`

func TestIncidentsAreImplicit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var inc incidentdesk.Incident
	b.ok(t, "get_incident", http.MethodGet, "/v1/incidents/INC-1", "", "", http.StatusOK, &inc)
	require.Equal(t, incidentdesk.Incident{ID: "INC-1", Status: "firing", Notes: 0, Escalated: false}, inc)
}

func TestNotes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var created incidentdesk.NoteCreated
	b.ok(t, "add_note", http.MethodPost, "/v1/incidents/INC-7/notes", "", note, http.StatusCreated, &created)
	require.Equal(t, incidentdesk.NoteCreated{NoteID: "note-000001", IncidentID: "INC-7", CreatedAt: "2026-12-06T08:30:00Z"}, created)
	b.ok(t, "add_note", http.MethodPost, "/v1/incidents/INC-7/notes", "", `{"title":"t","text":"x","severity":"sev3"}`, http.StatusCreated, &created)
	require.Equal(t, "note-000002", created.NoteID, "without a key, each POST is a new note")

	var inc incidentdesk.Incident
	b.ok(t, "get_incident", http.MethodGet, "/v1/incidents/INC-7", "", "", http.StatusOK, &inc)
	require.Equal(t, 2, inc.Notes)
	_, notes, _ := b.desk.Incident("INC-7")
	require.Equal(t, "@oncall-payments", notes[0].Mention)
	require.Empty(t, notes[1].Mention)
}

func TestNotesHonourIdempotencyKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var first, again incidentdesk.NoteCreated
	a := b.ok(t, "add_note", http.MethodPost, "/v1/incidents/INC-9/notes", "step-key-1", note, http.StatusCreated, &first)
	require.Empty(t, a.header.Get("Idempotent-Replayed"))
	a = b.ok(t, "add_note", http.MethodPost, "/v1/incidents/INC-9/notes", "step-key-1", note, http.StatusCreated, &again)
	require.Equal(t, "true", a.header.Get("Idempotent-Replayed"))
	require.Equal(t, first, again, "the same key gives the same note")
	// The same request written differently is the same request.
	spaced := `{ "severity": "sev2", "mention": "@oncall-payments", "text": "5xx at 4% since 08:10", "title": "sev2: checkout errors" }`
	b.ok(t, "add_note", http.MethodPost, "/v1/incidents/INC-9/notes", "step-key-1", spaced, http.StatusCreated, &again)
	require.Equal(t, first, again)

	inc, _, _ := b.desk.Incident("INC-9")
	require.Equal(t, 1, inc.Notes, "the note was added once")

	p := b.problem(t, http.MethodPost, "/v1/incidents/INC-9/notes", "step-key-1", `{"title":"other","text":"x","severity":"sev2"}`, http.StatusUnprocessableEntity)
	require.Contains(t, p["detail"], "step-key-1")
	b.problem(t, http.MethodPost, "/v1/incidents/INC-10/notes", "step-key-1", note, http.StatusUnprocessableEntity)
	b.problem(t, http.MethodPost, "/v1/incidents/INC-9/escalate", "step-key-1", `{"reason":"x"}`, http.StatusUnprocessableEntity)
	inc, _, _ = b.desk.Incident("INC-9")
	require.Equal(t, 1, inc.Notes)
	require.False(t, inc.Escalated)
}

func TestIdempotencyKeyUnderConcurrency(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const n = 16
	answers := make([]answer, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, b.srv.URL+"/v1/incidents/INC-C/escalate", strings.NewReader(`{"reason":"still firing","team":"payments"}`))
			if err != nil {
				return
			}
			req.Header.Set("Idempotency-Key", "race")
			resp, err := b.srv.Client().Do(req)
			if err != nil {
				return
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			answers[i] = answer{status: resp.StatusCode, body: body}
		})
	}
	wg.Wait()
	for _, a := range answers {
		require.Equal(t, http.StatusOK, a.status)
		require.JSONEq(t, string(answers[0].body), string(a.body))
	}
	_, _, pages := b.desk.Incident("INC-C")
	require.Len(t, pages, 1, "one page, however many retries raced")
	require.Equal(t, "payments", pages[0].Team)
}

func TestStatus(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var inc incidentdesk.Incident
	b.ok(t, "set_status", http.MethodPut, "/v1/incidents/INC-2/status", "", `{"status":"acknowledged"}`, http.StatusOK, &inc)
	require.Equal(t, incidentdesk.Incident{ID: "INC-2", Status: "acknowledged"}, inc)
	b.ok(t, "set_status", http.MethodPut, "/v1/incidents/INC-2/status", "", `{"status":"acknowledged"}`, http.StatusOK, &inc)
	require.Equal(t, "acknowledged", inc.Status, "PUT is idempotent")
	b.ok(t, "get_incident", http.MethodGet, "/v1/incidents/INC-2", "", "", http.StatusOK, &inc)
	require.Equal(t, "acknowledged", inc.Status)
	b.ok(t, "set_status", http.MethodPut, "/v1/incidents/INC-2/status", "", `{"status":"resolved"}`, http.StatusOK, &inc)
	require.Equal(t, "resolved", inc.Status)

	b.problem(t, http.MethodPut, "/v1/incidents/INC-2/status", "", `{"status":"closed"}`, http.StatusBadRequest)
	b.problem(t, http.MethodPut, "/v1/incidents/INC-2/status", "", `{}`, http.StatusBadRequest)
}

func TestEscalate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var e incidentdesk.Escalation
	b.ok(t, "escalate", http.MethodPost, "/v1/incidents/INC-3/escalate", "k-esc", `{"reason":"still firing after 15 minutes","team":"payments"}`, http.StatusOK, &e)
	require.Equal(t, incidentdesk.Escalation{IncidentID: "INC-3", Escalated: true, PageID: "page-000001"}, e)
	b.ok(t, "escalate", http.MethodPost, "/v1/incidents/INC-3/escalate", "k-esc", `{"reason":"still firing after 15 minutes","team":"payments"}`, http.StatusOK, &e)
	require.Equal(t, "page-000001", e.PageID)
	var inc incidentdesk.Incident
	b.ok(t, "get_incident", http.MethodGet, "/v1/incidents/INC-3", "", "", http.StatusOK, &inc)
	require.True(t, inc.Escalated)
	_, _, pages := b.desk.Incident("INC-3")
	require.Len(t, pages, 1)

	b.ok(t, "escalate", http.MethodPost, "/v1/incidents/INC-3/escalate", "", `{"reason":"again"}`, http.StatusOK, &e)
	require.Equal(t, "page-000002", e.PageID, "without a key, each POST pages again")
}

func TestErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	path := "/v1/incidents/INC-4/notes"
	b.problem(t, http.MethodPost, path, "", `{"title":`, http.StatusBadRequest)
	b.problem(t, http.MethodPost, path, "", `[]`, http.StatusBadRequest)
	p := b.problem(t, http.MethodPost, path, "", `{"title":5,"text":"x","severity":"s"}`, http.StatusBadRequest)
	require.Contains(t, p["detail"], "/title")
	p = b.problem(t, http.MethodPost, path, "", `{"text":"x","severity":"s"}`, http.StatusBadRequest)
	require.Contains(t, p["detail"], "/title")
	b.problem(t, http.MethodPost, path, "", `{"title":"t","text":"x","severity":"s","extra":1}`, http.StatusBadRequest)
	b.problem(t, http.MethodPost, path, "", `{"title":"t","text":"x","severity":"s"} {}`, http.StatusBadRequest)
	b.problem(t, http.MethodPost, path, "", `{"title":"`+strings.Repeat("x", 70_000)+`","text":"x","severity":"s"}`, http.StatusRequestEntityTooLarge)
	b.problem(t, http.MethodPost, path, "bad key", note, http.StatusBadRequest)
	b.problem(t, http.MethodPost, "/v1/incidents/INC-4/escalate", "", `{"reason":" "}`, http.StatusBadRequest)
	b.problem(t, http.MethodGet, path, "", "", http.StatusMethodNotAllowed)
	b.problem(t, http.MethodDelete, "/v1/incidents/INC-4", "", "", http.StatusMethodNotAllowed)
	b.problem(t, http.MethodGet, "/v1/incidents/"+strings.Repeat("x", 129), "", "", http.StatusBadRequest)
	b.problem(t, http.MethodGet, "/v1/incidents/a%20b", "", "", http.StatusBadRequest)
	b.problem(t, http.MethodGet, "/v1/nothing", "", "", http.StatusNotFound)

	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, b.srv.URL+path, strings.NewReader(note))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "text/plain")
	resp, err := b.srv.Client().Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusUnsupportedMediaType, resp.StatusCode)

	inc, _, _ := b.desk.Incident("INC-4")
	require.Zero(t, inc.Notes, "no refused request had an effect")
}

func TestHealth(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.do(t, http.MethodGet, "/healthz", "", "")
	require.Equal(t, http.StatusOK, a.status)
	require.JSONEq(t, `{"status":"ok"}`, string(a.body))
}

func TestServiceDescription(t *testing.T) {
	t.Parallel()
	s := incidentdesk.Service()
	require.Equal(t, "incident-desk", s.Name)
	require.Equal(t, "1.0.0", s.Version)
	require.Equal(t, []string{"incident.notes", "incident.status", "paging.escalate"}, s.Capabilities)
	require.Equal(t, "/healthz", s.HealthCheck.Path)
	require.Equal(t, 5, s.HealthCheck.IntervalSeconds)
	require.Equal(t, 2, s.HealthCheck.HealthyThreshold)
	require.Equal(t, 3, s.HealthCheck.UnhealthyThreshold)
	idempotent := map[string]bool{}
	for _, op := range s.Operations {
		_, err := pathtemplate.Parse(op.Path)
		require.NoError(t, err, op.Name)
		idempotent[op.Name] = op.IsIdempotent()
	}
	require.Equal(t, map[string]bool{"add_note": false, "get_incident": true, "set_status": true, "escalate": false}, idempotent)

	// The request schemas refuse what the handler refuses.
	b := setup(t)
	for op, body := range map[string]string{
		"add_note":   `{"title":"t","text":"x"}`,
		"set_status": `{"status":"closed"}`,
		"escalate":   `{"reason":"r","extra":true}`,
	} {
		mismatches, err := schema.Validate(b.requests[op], []byte(body))
		require.NoError(t, err)
		require.NotEmpty(t, mismatches, op)
	}
}

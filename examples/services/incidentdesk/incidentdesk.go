// Package incidentdesk is an example service for aiflow's service steps:
// incident-desk 1.0.0, an in-memory incident desk that takes notes on
// incidents, reports and sets their status, and pages a team to escalate
// one. Incidents are implicit: an id never seen reads as firing, with no
// notes and not escalated.
//
// The two POSTs (add a note, escalate) have effects and are not
// idempotent, so they honour the Idempotency-Key header that a service
// step sends with the step's idempotency key: a request repeated with the
// same key gets the first answer again (with Idempotent-Replayed: true)
// and has no second effect; the same key with a different request is
// refused with 422. Only successful answers are remembered, so a request
// that failed may be retried with its key. PUT status is idempotent by
// itself.
//
// New makes a desk; its Handler serves it, and Service describes it to
// the registry. Errors are RFC 9457 problem details. A Desk is safe for
// concurrent use.
package incidentdesk

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aiflow/aiflow/examples/services/internal/reply"
	"github.com/aiflow/aiflow/internal/registry"
)

// Name and Version are the service's registry name and version.
const (
	Name    = "incident-desk"
	Version = "1.0.0"
)

// The statuses of an incident.
const (
	StatusFiring       = "firing"
	StatusAcknowledged = "acknowledged"
	StatusResolved     = "resolved"
)

// maxBody caps a request body.
const maxBody = 64 << 10

// Incident is the answer of GET /v1/incidents/{id} and PUT .../status.
type Incident struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	Notes     int    `json:"notes"`
	Escalated bool   `json:"escalated"`
}

// Note is a note added to an incident.
type Note struct {
	ID         string    `json:"note_id"`
	IncidentID string    `json:"incident_id"`
	Title      string    `json:"title"`
	Text       string    `json:"text"`
	Severity   string    `json:"severity"`
	Mention    string    `json:"mention,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// NoteCreated is the answer of POST /v1/incidents/{id}/notes.
type NoteCreated struct {
	NoteID     string `json:"note_id"`
	IncidentID string `json:"incident_id"`
	CreatedAt  string `json:"created_at"`
}

// Escalation is the answer of POST /v1/incidents/{id}/escalate.
type Escalation struct {
	IncidentID string `json:"incident_id"`
	Escalated  bool   `json:"escalated"`
	PageID     string `json:"page_id"`
}

// Page is one escalation: the team paged and why.
type Page struct {
	ID         string    `json:"page_id"`
	IncidentID string    `json:"incident_id"`
	Reason     string    `json:"reason"`
	Team       string    `json:"team,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// Config configures a Desk.
type Config struct {
	// NowFunc is the desk's clock; nil means time.Now.
	NowFunc func() time.Time
}

// Desk is the in-memory incident desk.
type Desk struct {
	now func() time.Time

	mu        sync.Mutex
	incidents map[string]*incident
	keys      map[string]remembered
	notes     int
	pages     int
}

type incident struct {
	status string
	notes  []Note
	pages  []Page
}

// remembered is the first successful answer to a request with an
// idempotency key, and what that request was.
type remembered struct {
	request string
	status  int
	body    any
}

// New returns an empty desk.
func New(cfg Config) *Desk {
	d := &Desk{now: cfg.NowFunc, incidents: map[string]*incident{}, keys: map[string]remembered{}}
	if d.now == nil {
		d.now = time.Now
	}
	return d
}

// Handler serves a new, empty desk; see (*Desk).Handler.
func Handler() http.Handler { return New(Config{}).Handler() }

// Incident returns what the desk knows of an incident: its status, its
// notes and its pages, for tests and demonstrations.
func (d *Desk) Incident(id string) (Incident, []Note, []Page) {
	d.mu.Lock()
	defer d.mu.Unlock()
	inc := d.incidents[id]
	if inc == nil {
		return Incident{ID: id, Status: StatusFiring, Notes: 0, Escalated: false}, nil, nil
	}
	return d.view(id, inc), append([]Note(nil), inc.notes...), append([]Page(nil), inc.pages...)
}

// Handler serves the desk's operations and GET /healthz.
func (d *Desk) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if reply.Methods(w, r, http.MethodGet) {
			return
		}
		reply.JSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("/v1/incidents/{id}", func(w http.ResponseWriter, r *http.Request) {
		if reply.Methods(w, r, http.MethodGet) {
			return
		}
		id, ok := incidentID(w, r)
		if !ok {
			return
		}
		inc, _, _ := d.Incident(id)
		reply.JSON(w, http.StatusOK, inc)
	})
	mux.HandleFunc("/v1/incidents/{id}/status", func(w http.ResponseWriter, r *http.Request) {
		if reply.Methods(w, r, http.MethodPut) {
			return
		}
		id, ok := incidentID(w, r)
		if !ok {
			return
		}
		var body struct {
			Status string `json:"status"`
		}
		if !decode(w, r, &body) {
			return
		}
		switch body.Status {
		case StatusFiring, StatusAcknowledged, StatusResolved:
		default:
			reply.Problem(w, r, http.StatusBadRequest, fmt.Sprintf("/status: %q is not firing, acknowledged or resolved", body.Status))
			return
		}
		d.mu.Lock()
		inc := d.get(id)
		inc.status = body.Status
		view := d.view(id, inc)
		d.mu.Unlock()
		reply.JSON(w, http.StatusOK, view)
	})
	mux.HandleFunc("/v1/incidents/{id}/notes", func(w http.ResponseWriter, r *http.Request) {
		if reply.Methods(w, r, http.MethodPost) {
			return
		}
		id, ok := incidentID(w, r)
		if !ok {
			return
		}
		var body struct {
			Title    string  `json:"title"`
			Text     string  `json:"text"`
			Severity string  `json:"severity"`
			Mention  *string `json:"mention,omitempty"`
		}
		if !decode(w, r, &body) {
			return
		}
		for _, f := range []struct{ name, value string }{{"title", body.Title}, {"text", body.Text}, {"severity", body.Severity}} {
			if strings.TrimSpace(f.value) == "" {
				reply.Problem(w, r, http.StatusBadRequest, fmt.Sprintf("/%s: a non-empty string is required", f.name))
				return
			}
		}
		d.once(w, r, body, func() (int, any) {
			d.notes++
			n := Note{
				ID: fmt.Sprintf("note-%06d", d.notes), IncidentID: id, Title: body.Title, Text: body.Text,
				Severity: body.Severity, CreatedAt: d.now().UTC(),
			}
			if body.Mention != nil {
				n.Mention = *body.Mention
			}
			inc := d.get(id)
			inc.notes = append(inc.notes, n)
			return http.StatusCreated, NoteCreated{NoteID: n.ID, IncidentID: id, CreatedAt: n.CreatedAt.Format(time.RFC3339Nano)}
		})
	})
	mux.HandleFunc("/v1/incidents/{id}/escalate", func(w http.ResponseWriter, r *http.Request) {
		if reply.Methods(w, r, http.MethodPost) {
			return
		}
		id, ok := incidentID(w, r)
		if !ok {
			return
		}
		var body struct {
			Reason string  `json:"reason"`
			Team   *string `json:"team,omitempty"`
		}
		if !decode(w, r, &body) {
			return
		}
		if strings.TrimSpace(body.Reason) == "" {
			reply.Problem(w, r, http.StatusBadRequest, "/reason: a non-empty string is required")
			return
		}
		d.once(w, r, body, func() (int, any) {
			d.pages++
			p := Page{ID: fmt.Sprintf("page-%06d", d.pages), IncidentID: id, Reason: body.Reason, CreatedAt: d.now().UTC()}
			if body.Team != nil {
				p.Team = *body.Team
			}
			inc := d.get(id)
			inc.pages = append(inc.pages, p)
			return http.StatusOK, Escalation{IncidentID: id, Escalated: true, PageID: p.ID}
		})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		reply.Problem(w, r, http.StatusNotFound, fmt.Sprintf("no operation at %s", r.URL.Path))
	})
	return mux
}

// get returns the incident, making it (firing, no notes) on first use.
// The caller holds d.mu.
func (d *Desk) get(id string) *incident {
	inc := d.incidents[id]
	if inc == nil {
		inc = &incident{status: StatusFiring}
		d.incidents[id] = inc
	}
	return inc
}

// view is the incident's answer. The caller holds d.mu.
func (d *Desk) view(id string, inc *incident) Incident {
	return Incident{ID: id, Status: inc.status, Notes: len(inc.notes), Escalated: len(inc.pages) > 0}
}

// once runs effect (under the desk's lock) and answers with its result,
// unless the request carries an Idempotency-Key already answered: then it
// answers that first answer again when the request is the same (its
// method, path and decoded body), and 422 when it is not.
func (d *Desk) once(w http.ResponseWriter, r *http.Request, body any, effect func() (int, any)) {
	key := r.Header.Get("Idempotency-Key")
	if key != "" && !validKey(key) {
		reply.Problem(w, r, http.StatusBadRequest, "the Idempotency-Key header must be 1 to 255 visible ASCII characters")
		return
	}
	canonical, err := json.Marshal(body)
	if err != nil {
		reply.Problem(w, r, http.StatusInternalServerError, "encoding the request: "+err.Error())
		return
	}
	request := r.Method + " " + r.URL.Path + " " + string(canonical)
	d.mu.Lock()
	if key != "" {
		if prev, ok := d.keys[key]; ok {
			d.mu.Unlock()
			if prev.request != request {
				reply.Problem(w, r, http.StatusUnprocessableEntity, fmt.Sprintf("the Idempotency-Key %q was used for a different request", key))
				return
			}
			w.Header().Set("Idempotent-Replayed", "true")
			reply.JSON(w, prev.status, prev.body)
			return
		}
	}
	status, answer := effect()
	if key != "" {
		d.keys[key] = remembered{request: request, status: status, body: answer}
	}
	d.mu.Unlock()
	reply.JSON(w, status, answer)
}

func validKey(k string) bool {
	if len(k) > 255 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// incidentID reads the {id} of the path: 1 to 128 letters, digits, dots,
// hyphens, underscores and colons. It answers 400 and returns false for
// anything else.
func incidentID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("id")
	ok := id != "" && len(id) <= 128
	for i := 0; ok && i < len(id); i++ {
		c := id[i]
		ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strings.IndexByte("._-:", c) >= 0
	}
	if !ok {
		reply.Problem(w, r, http.StatusBadRequest, fmt.Sprintf("%q is not an incident id (1 to 128 letters, digits, '.', '_', '-', ':')", id))
	}
	return id, ok
}

// decode reads a JSON object body into v, refusing unknown fields, other
// content types and bodies over 64 KiB; it answers the problem and returns
// false when it cannot.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			reply.Problem(w, r, http.StatusUnsupportedMediaType, fmt.Sprintf("the body must be application/json, not %q", ct))
			return false
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			reply.Problem(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d bytes", maxBody))
			return false
		}
		reply.Problem(w, r, http.StatusBadRequest, "the body is not a JSON object of the operation's request: "+describe(err))
		return false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		reply.Problem(w, r, http.StatusBadRequest, "the body has more than one JSON value")
		return false
	}
	return true
}

func describe(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Sprintf("/%s must be a %s", strings.ReplaceAll(te.Field, ".", "/"), te.Type.Kind())
	}
	return err.Error()
}

// The operations' request and response schemas (JSON Schema draft 2020-12).
const (
	incidentSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["id", "status", "notes", "escalated"],
  "properties": {
    "id": {"type": "string"},
    "status": {"type": "string", "enum": ["firing", "acknowledged", "resolved"]},
    "notes": {"type": "integer", "minimum": 0},
    "escalated": {"type": "boolean"}
  }
}`
	noteRequestSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["title", "text", "severity"],
  "additionalProperties": false,
  "properties": {
    "title": {"type": "string", "minLength": 1},
    "text": {"type": "string", "minLength": 1},
    "severity": {"type": "string", "minLength": 1},
    "mention": {"type": "string"}
  }
}`
	noteResponseSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["note_id", "incident_id", "created_at"],
  "properties": {
    "note_id": {"type": "string"},
    "incident_id": {"type": "string"},
    "created_at": {"type": "string", "format": "date-time"}
  }
}`
	statusRequestSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["status"],
  "additionalProperties": false,
  "properties": {
    "status": {"type": "string", "enum": ["firing", "acknowledged", "resolved"]}
  }
}`
	escalateRequestSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["reason"],
  "additionalProperties": false,
  "properties": {
    "reason": {"type": "string", "minLength": 1},
    "team": {"type": "string"}
  }
}`
	escalateResponseSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["incident_id", "escalated", "page_id"],
  "properties": {
    "incident_id": {"type": "string"},
    "escalated": {"type": "boolean", "const": true},
    "page_id": {"type": "string"}
  }
}`
)

// Service is the service's registry description, without instances: the
// registrant adds the instance it runs (an endpoint serving a Handler).
func Service() registry.Service {
	return registry.Service{
		Name:         Name,
		Version:      Version,
		Description:  "An in-memory incident desk: notes on incidents, their status, and escalation by paging a team.",
		Capabilities: []string{"incident.notes", "incident.status", "paging.escalate"},
		Metadata:     map[string]string{"owner": "aiflow examples", "storage": "memory"},
		Operations: []registry.Operation{
			{Name: "add_note", Method: http.MethodPost, Path: "/v1/incidents/{id}/notes", RequestSchema: json.RawMessage(noteRequestSchema), ResponseSchema: json.RawMessage(noteResponseSchema), TimeoutSeconds: 5},
			{Name: "get_incident", Method: http.MethodGet, Path: "/v1/incidents/{id}", ResponseSchema: json.RawMessage(incidentSchema), TimeoutSeconds: 5},
			{Name: "set_status", Method: http.MethodPut, Path: "/v1/incidents/{id}/status", RequestSchema: json.RawMessage(statusRequestSchema), ResponseSchema: json.RawMessage(incidentSchema), TimeoutSeconds: 5},
			{Name: "escalate", Method: http.MethodPost, Path: "/v1/incidents/{id}/escalate", RequestSchema: json.RawMessage(escalateRequestSchema), ResponseSchema: json.RawMessage(escalateResponseSchema), TimeoutSeconds: 5},
		},
		HealthCheck: &registry.HealthCheck{Path: "/healthz", ExpectedStatus: http.StatusOK, IntervalSeconds: 5, TimeoutSeconds: 2, HealthyThreshold: 2, UnhealthyThreshold: 3},
		Balancing:   registry.BalancingRoundRobin,
	}
}

package workflow_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/workflow"
)

// serviceCatalog has a service in two versions whose reputation answers
// differ, a capability both offer, and a notes operation with a body.
const serviceCatalog = `{"servers": {}, "services": {
  "intel": {"versions": [
    {"version": "1.2.0", "capabilities": ["ip.reputation", "ip.geolocation"], "operations": [
      {"name": "reputation", "method": "GET", "path": "/v1/ip/{ip}/reputation",
       "response_schema": {"type": "object", "required": ["ip", "score", "verdict"], "properties": {
         "ip": {"type": "string"}, "score": {"type": "integer"}, "verdict": {"type": "string", "enum": ["malicious", "clean"]},
         "last_seen": {"type": "string"}}}},
      {"name": "geolocation", "method": "GET", "path": "/v1/ip/{ip}/geolocation",
       "response_schema": {"type": "object", "required": ["country_code"], "properties": {"country_code": {"type": "string"}}}},
      {"name": "special", "method": "GET", "path": "/v1/ip/special/reputation",
       "response_schema": {"type": "object", "required": ["special"], "properties": {"special": {"type": "boolean"}}}}]},
    {"version": "2.0.0", "capabilities": ["ip.reputation"], "operations": [
      {"name": "reputation", "method": "GET", "path": "/v1/ip/{ip}/reputation",
       "response_schema": {"type": "object", "required": ["ip", "risk"], "properties": {"ip": {"type": "string"}, "risk": {"type": "number"}}}}]}]},
  "desk": {"versions": [
    {"version": "1.0.0", "capabilities": ["incident.notes"], "operations": [
      {"name": "add_note", "method": "POST", "path": "/v1/incidents/{id}/notes", "idempotent": false,
       "request_schema": {"type": "object", "required": ["title", "text"], "additionalProperties": false, "properties": {
         "title": {"type": "string"}, "text": {"type": "string"}, "mention": {"type": "string"}}},
       "response_schema": {"type": "object", "required": ["note_id"], "properties": {"note_id": {"type": "string"}}}},
      {"name": "get", "method": "GET", "path": "/v1/incidents/{id}"}]}]}}}`

const serviceHead = `name: services
input:
  type: object
  required: [ip, id, n]
  properties:
    ip: {type: string}
    id: {type: string}
    n: {type: integer}
steps:
`

// TestCheckServiceStepsAgainstTheCatalog: a service step's operation is
// found by method and path among the versions it may call; its body is
// checked against the request schema and its output typed by the response
// schema, or its declared output_schema checked against it.
func TestCheckServiceStepsAgainstTheCatalog(t *testing.T) {
	t.Parallel()
	catalog, err := workflow.ParseCatalog([]byte(serviceCatalog))
	require.NoError(t, err)
	for _, tc := range []struct{ name, steps, want string }{
		{"typed by the response schema", `  - id: rep
    service:
      service: intel
      version: "^1.2"
      method: GET
      path: "/v1/ip/{{ input.ip }}/reputation"
  - id: use
    set:
      score: "{{ steps.rep.output.score }}"
`, ""},
		{"a field the response lacks", `  - id: rep
    service:
      service: intel
      version: "~1.2"
      method: GET
      path: "/v1/ip/{{ input.ip }}/reputation"
  - id: use
    set:
      score: "{{ steps.rep.output.scor }}"
`, `cover.yaml:18:18: error: steps.rep.output has no field "scor" (step "use")
    hint: did you mean "score"?`},
		{"most literal segments wins", `  - id: rep
    service:
      service: intel
      version: "1.2.0"
      method: GET
      path: /v1/ip/special/reputation
  - id: use
    set:
      special: "{{ steps.rep.output.special }}"
`, ""},
		{"by capability, one answer", `  - id: geo
    service:
      capability: ip.geolocation
      method: GET
      path: "/v1/ip/{{ input.ip }}/geolocation"
  - id: use
    set:
      cc: "{{ steps.geo.output.country_code }}"
`, ""},
		{"no operation matches", `  - id: rep
    service:
      service: intel
      version: "^1"
      method: GET
      path: "/v1/ip/{{ input.ip }}/reputatoin"
`, `cover.yaml:15:14: error: the service "intel" (version 1.2.0) has no operation matching GET /v1/ip/{{ input.ip }}/reputatoin (step "rep")
    hint: its operations: GET /v1/ip/{ip}/reputation, GET /v1/ip/{ip}/geolocation, GET /v1/ip/special/reputation`},
		{"wrong method", `  - id: rep
    service:
      capability: incident.notes
      method: PUT
      path: "/v1/incidents/{{ input.id }}/notes"
`, `cover.yaml:14:14: error: no service offering "incident.notes" (desk 1.0.0) has an operation matching PUT /v1/incidents/{{ input.id }}/notes (step "rep")
    hint: their operations: POST /v1/incidents/{id}/notes, GET /v1/incidents/{id}`},
		{"a value known at run time is not a literal segment", `  - id: rep
    service:
      service: desk
      method: GET
      path: "/v1/{{ input.id }}/x"
`, `cover.yaml:14:14: error: the service "desk" (version 1.0.0) has no operation matching GET /v1/{{ input.id }}/x (step "rep")
    hint: its operations: POST /v1/incidents/{id}/notes, GET /v1/incidents/{id}`},
		{"no version satisfies", `  - id: rep
    service:
      service: intel
      version: "^3"
      method: GET
      path: "/v1/ip/{{ input.ip }}/reputation"
`, `cover.yaml:13:16: error: the service "intel" has no version satisfying "^3" (step "rep")
    hint: its versions in the catalog: 1.2.0, 2.0.0`},
		{"versions answer differently", `  - id: rep
    service:
      service: intel
      method: GET
      path: "/v1/ip/{{ input.ip }}/reputation"
`, `cover.yaml:12:16: error: the operations the service "intel" may call answer with different response schemas: intel 1.2.0 (GET /v1/ip/{ip}/reputation); intel 2.0.0 (GET /v1/ip/{ip}/reputation) (step "rep")
    hint: declare the output_schema the step relies on, or narrow the version`},
		{"capability answers differently", `  - id: rep
    service:
      capability: ip.reputation
      method: GET
      path: "/v1/ip/{{ input.ip }}/reputation"
`, `cover.yaml:12:19: error: the operations the services offering "ip.reputation" may call answer with different response schemas: intel 1.2.0 (GET /v1/ip/{ip}/reputation); intel 2.0.0 (GET /v1/ip/{ip}/reputation) (step "rep")
    hint: declare the output_schema the step relies on, or name one service and version`},
		{"declared output agrees", `  - id: rep
    service:
      service: intel
      version: "^1.2"
      method: GET
      path: "/v1/ip/{{ input.ip }}/reputation"
      output_schema:
        type: object
        required: [verdict]
        properties:
          verdict: {type: string}
          last_seen: {type: string}
`, ""},
		{"declared output disagrees", `  - id: rep
    service:
      service: intel
      version: "^1.2"
      method: GET
      path: "/v1/ip/{{ input.ip }}/reputation"
      output_schema:
        type: object
        required: [score, last_seen]
        properties:
          score: {type: string}
          last_seen: {type: string}
          reasons: {type: array}
`, `cover.yaml:20:11: error: output_schema gives field "score" as string, but the response schema of intel 1.2.0 (GET /v1/ip/{ip}/reputation) has integer (step "rep")
    hint: make output_schema agree with the service's response, or drop it to use the catalog's
cover.yaml:21:11: error: output_schema requires field "last_seen", which the response schema of intel 1.2.0 (GET /v1/ip/{ip}/reputation) does not require (step "rep")
    hint: make it optional in output_schema
cover.yaml:22:11: error: output_schema declares field "reasons", which the response schema of intel 1.2.0 (GET /v1/ip/{ip}/reputation) does not have (step "rep")
    hint: its fields: ip, last_seen, score, verdict`},
		{"declared output over differing versions", `  - id: rep
    service:
      service: intel
      method: GET
      path: "/v1/ip/{{ input.ip }}/reputation"
      output_schema:
        type: object
        properties:
          ip: {type: string}
`, ""},
		{"body fits", `  - id: note
    service:
      service: desk
      path: "/v1/incidents/{{ input.id }}/notes"
      body:
        title: "Incident {{ input.id }}"
        text: "{{ input.ip }}"
  - id: use
    set:
      id: "{{ steps.note.output.note_id }}"
`, ""},
		{"body does not fit", `  - id: note
    service:
      service: desk
      path: "/v1/incidents/{{ input.id }}/notes"
      body:
        title: "{{ input.n }}"
        txt: hello
`, `cover.yaml:15:9: error: body lacks required text (step "note")
cover.yaml:15:20: error: body.title is integer (input.n), but must be string (step "note")
cover.yaml:16:14: error: body has no field "txt" (step "note")
    hint: did you mean "text"?`},
		{"no body where one is wanted", `  - id: note
    service:
      service: desk
      path: "/v1/incidents/{{ input.id }}/notes"
`, `cover.yaml:10:5: error: body lacks required text, title (step "note")`},
		{"an operation without schemas is untyped", `  - id: get
    service:
      service: desk
      method: GET
      path: "/v1/incidents/{{ input.id }}"
  - id: use
    set:
      s: "{{ steps.get.output.anything }}"
`, ""},
		{"a service the catalog does not know", `  - id: other
    service:
      service: elsewhere
      version: "^2"
      path: /v1/x
      body: {any: thing}
`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := coverCheck(t, serviceHead+tc.steps, catalog)
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Equal(t, tc.want, err.Error())
		})
	}
}

// TestServiceStepVersion: version is read only with service:, checked as
// a constraint, and compiled into the task's spec.
func TestServiceStepVersion(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, version, want string }{
		{"capability", "capability: ip.reputation\n      version: \"^1\"", `cover.yaml:13:7: error: a version constrains a service named by service:, not a capability (step "s")
    hint: name the service (service: name) to ask for a version, or drop the version`},
		{"not a constraint", "service: intel\n      version: latest", `cover.yaml:13:16: error: version "latest" is not a version constraint (step "s")
    hint: a semantic version constraint, like "^1.2", "~1.4", ">=1.2 <2" or "1.x"`},
		{"empty", "service: intel\n      version: \"\"", `cover.yaml:13:16: error: the version constraint must not be empty (step "s")
    hint: a semantic version constraint, like "^1.2", "~1.4", ">=1.2 <2" or "1.x"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := serviceHead + "  - id: s\n    service:\n      " + tc.version + "\n      method: GET\n      path: /v1/x\n"
			_, err := workflow.Parse("cover.yaml", []byte(src))
			require.Error(t, err)
			require.Equal(t, tc.want, err.Error())
		})
	}

	src := serviceHead + "  - id: s\n    service:\n      service: intel\n      version: \">=1.2 <2\"\n      method: GET\n      path: \"/v1/ip/{{ input.ip }}/reputation\"\n"
	checked, err := workflow.Load("cover.yaml", []byte(src), nil)
	require.NoError(t, err)
	m, err := workflow.Compile(checked)
	require.NoError(t, err)
	out, err := m.MarshalIndent()
	require.NoError(t, err)
	var machine struct {
		States map[string]struct {
			Parameters struct{ MessageBody map[string]json.RawMessage }
		}
	}
	require.NoError(t, json.Unmarshal(out, &machine))
	var spec map[string]any
	require.NoError(t, json.Unmarshal(machine.States["s"].Parameters.MessageBody["spec"], &spec))
	require.Equal(t, ">=1.2 <2", spec["version"])
	require.Equal(t, "intel", spec["service"])
}

// TestParseCatalogServices: the catalog's services are read with the
// registry's field names and refused where the registry would refuse them.
func TestParseCatalogServices(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ src, err string }{
		{`{"services": {"a": {"versions": [{"version": "one", "operations": []}]}}}`, `services.a.versions[0].version: "one" is not a semantic version`},
		{`{"services": {"a": {"versions": [{"version": "1.0.0", "operations": [{"name": "x", "method": "FETCH", "path": "/x"}]}]}}}`, `services.a.versions[0].operations[0].method: "FETCH" is not one of GET, POST, PUT, PATCH, DELETE`},
		{`{"services": {"a": {"versions": [{"version": "1.0.0", "operations": [{"name": "x", "method": "GET", "path": "x"}]}]}}}`, `services.a.versions[0].operations[0].path: path template "x" does not start with /`},
		{`{"services": {"a": {"versions": [{"version": "1.0.0", "instances": []}]}}}`, `unknown field "instances"`},
	} {
		_, err := workflow.ParseCatalog([]byte(tc.src))
		require.ErrorContains(t, err, tc.err)
	}
}

// TestMergeCatalogs: servers and service versions of later catalogs win.
func TestMergeCatalogs(t *testing.T) {
	t.Parallel()
	a, err := workflow.ParseCatalog([]byte(`{"servers": {"s": {"tools": [{"name": "a", "inputSchema": {}}]}},
	  "services": {"x": {"versions": [{"version": "1.0.0", "description": "old", "operations": []}, {"version": "1.1.0", "operations": []}]}}}`))
	require.NoError(t, err)
	b, err := workflow.ParseCatalog([]byte(`{"servers": {"s": {"tools": [{"name": "b", "inputSchema": {}}]}, "t": {"tools": []}},
	  "services": {"x": {"versions": [{"version": "1.0.0", "description": "new", "operations": []}]}, "y": {"versions": []}}}`))
	require.NoError(t, err)
	m := workflow.MergeCatalogs(a, nil, b)
	require.Equal(t, "b", m.Servers["s"].Tools[0].Name)
	require.Contains(t, m.Servers, "t")
	require.Len(t, m.Services["x"].Versions, 2)
	require.Equal(t, "new", m.Services["x"].Versions[0].Description)
	require.Contains(t, m.Services, "y")
	require.Equal(t, "old", a.Services["x"].Versions[0].Description, "the inputs are not changed")
}

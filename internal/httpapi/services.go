package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/aiflow/aiflow/internal/auth"
	"github.com/aiflow/aiflow/internal/registry"
	"github.com/aiflow/aiflow/internal/semver"
)

// ServiceRegistry is what the API asks of the service registry: its use
// cases, which decide who may change what. *registry.Registry is one.
type ServiceRegistry interface {
	RegisterService(ctx context.Context, c registry.Caller, s registry.Service) (registry.Service, error)
	RegisterInstance(ctx context.Context, c registry.Caller, in registry.Instance) (registry.Instance, error)
	Heartbeat(ctx context.Context, c registry.Caller, service, instanceID string) (registry.Instance, error)
	Drain(ctx context.Context, c registry.Caller, service, instanceID string) (registry.Instance, error)
	DeregisterInstance(ctx context.Context, c registry.Caller, service, instanceID string) error
	DeregisterService(ctx context.Context, c registry.Caller, name, version string) error
	List(ctx context.Context, f registry.ListFilter) ([]registry.Service, error)
	Get(ctx context.Context, name string) ([]registry.Service, error)
	History(ctx context.Context, name string, after int64, limit int) ([]registry.Event, error)
}

// MaxServiceBytes bounds the body of a service's registration (its
// operations' schemas included).
const MaxServiceBytes = 512 << 10

// Problem type of a registration the registry refuses.
const typeInvalidService = "https://aiflow.dev/problems/invalid-service"

// RegistryCaller is the one place a request's principal becomes the
// registry's caller: an admin manages every service; a principal with the
// service role manages the service its subject names
// ("service:<name>"); anyone else manages none.
func RegistryCaller(p auth.Principal) registry.Caller {
	return registry.Caller{Subject: p.Subject, Admin: p.Has(auth.RoleAdmin), Service: p.Service()}
}

// callerOf is the registry caller of a guarded request.
func callerOf(r *http.Request) registry.Caller {
	p, _ := auth.FromContext(r.Context())
	return RegistryCaller(p)
}

// registryProblem answers the registry's errors through one table:
// a refused registration (422 with the problems' JSON pointers), not
// found, forbidden and conflict. ok is false for any other error. The
// registry writes the texts of its refusals for the caller (who may not
// manage what, which instance clashes with which version), so they are
// shown.
func registryProblem(r *http.Request, err error) (Problem, bool) {
	var ve *registry.ValidationError
	switch {
	case errors.As(err, &ve):
		errs := make([]FieldError, len(ve.Problems))
		for i, p := range ve.Problems {
			errs[i] = FieldError{Pointer: p.Pointer, Detail: p.Detail}
		}
		detail := "the registration has 1 problem, named in errors by its JSON pointer"
		if n := len(errs); n != 1 {
			detail = fmt.Sprintf("the registration has %d problems, each named in errors by its JSON pointer", n)
		}
		return Problem{Status: http.StatusUnprocessableEntity, Type: typeInvalidService, Title: "Invalid service",
			Detail: detail, Extra: map[string]any{"errors": errs}}, true
	case errors.Is(err, registry.ErrNotFound):
		return Problem{Status: http.StatusNotFound, Title: "Not Found", Detail: notFoundDetail(r)}, true
	case errors.Is(err, registry.ErrForbidden):
		return Problem{Status: http.StatusForbidden, Title: "Forbidden", Detail: registryDetail(err, registry.ErrForbidden)}, true
	case errors.Is(err, registry.ErrConflict):
		return Problem{Status: http.StatusConflict, Title: "Conflict", Detail: registryDetail(err, registry.ErrConflict)}, true
	}
	return Problem{}, false
}

// registryDetail is the registry's text of a refusal without the
// sentinel's word at its end.
func registryDetail(err, sentinel error) string {
	return strings.TrimSuffix(err.Error(), ": "+sentinel.Error())
}

// registryTarget is the service and version a request's body named, for
// the details of its errors.
type registryTarget struct{ service, version string }

type targetKey struct{}

// withTarget returns r carrying the service and version its body named.
func withTarget(r *http.Request, service, version string) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), targetKey{}, registryTarget{service, version}))
}

// notFoundDetail names what a registry request asked for.
func notFoundDetail(r *http.Request) string {
	t, _ := r.Context().Value(targetKey{}).(registryTarget)
	name := r.PathValue("name")
	if name == "" {
		name = t.service
	}
	switch {
	case r.PathValue("id") != "":
		return fmt.Sprintf("the service %q has no instance %q", name, r.PathValue("id"))
	case t.version != "":
		return fmt.Sprintf("the service %q has no version %q registered", name, t.version)
	case r.URL.Query().Get("version") != "":
		return fmt.Sprintf("the service %q has no version %q registered", name, r.URL.Query().Get("version"))
	default:
		return fmt.Sprintf("no service is registered as %q", name)
	}
}

// registerService registers a service version, with the instances its
// body lists: 201 when the version is new, 200 when it replaces one.
func (s *Server) registerService(w http.ResponseWriter, r *http.Request) {
	data, err := readJSONBody(w, r, MaxServiceBytes, true)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var svc registry.Service
	if err := decodeStrict(data, &svc); err != nil {
		s.fail(w, r, err)
		return
	}
	auditNote(r, "service", svc.Name)
	auditNote(r, "version", svc.Version)
	r = withTarget(r, svc.Name, svc.Version)
	existed := s.versionExists(r.Context(), svc.Name, svc.Version)
	out, err := s.opts.Registry.RegisterService(r.Context(), callerOf(r), svc)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	status := http.StatusCreated
	if existed {
		status = http.StatusOK
	}
	w.Header().Set("Location", "/v1/services/"+out.Name)
	writeJSON(w, status, out)
}

// versionExists reports whether a service version is registered, to tell
// a new registration (201) from an update (200); it does not decide
// anything, so a read that fails counts as "new".
func (s *Server) versionExists(ctx context.Context, name, version string) bool {
	if name == "" || version == "" {
		return false
	}
	versions, err := s.opts.Registry.Get(ctx, name)
	if err != nil {
		return false
	}
	want, err := semver.Normalize(version)
	if err != nil {
		return false
	}
	for _, v := range versions {
		if v.Version == want {
			return true
		}
	}
	return false
}

// listServices lists every service version with its instances,
// ?name= and ?capability= narrowing the list.
func (s *Server) listServices(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	items, err := s.opts.Registry.List(r.Context(), registry.ListFilter{Name: q.Get("name"), Capability: q.Get("capability")})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if items == nil {
		items = []registry.Service{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// getService shows every version of a service with its instances.
func (s *Server) getService(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	versions, err := s.opts.Registry.Get(r.Context(), name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"name": name, "versions": versions})
}

// deregisterService removes a service: one version with ?version=, or
// every version.
func (s *Server) deregisterService(w http.ResponseWriter, r *http.Request) {
	name, version := r.PathValue("name"), r.URL.Query().Get("version")
	auditNote(r, "service", name)
	if version != "" {
		auditNote(r, "version", version)
	}
	err := s.opts.Registry.DeregisterService(r.Context(), callerOf(r), name, version)
	var ve *registry.ValidationError
	if errors.As(err, &ve) {
		// The version came in the query, not in a body.
		err = &apiError{Status: http.StatusBadRequest, Title: "Invalid request", Detail: "version is a semantic version (1.4.2)",
			Errors: []FieldError{{Location: "query:version", Detail: ve.Error()}}}
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// registerInstance registers (or re-registers) an instance of a
// registered service version; the body names the version.
func (s *Server) registerInstance(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	auditNote(r, "service", name)
	data, err := readJSONBody(w, r, maxSmallBody, true)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var in registry.Instance
	if err := decodeStrict(data, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	if in.Service != "" && in.Service != name {
		s.fail(w, r, &apiError{Status: http.StatusUnprocessableEntity, Type: typeInvalidService, Title: "Invalid service",
			Detail: fmt.Sprintf("the body names the service %q, the path %q", in.Service, name),
			Errors: []FieldError{{Pointer: "/service", Detail: "must be the path's service, or absent"}}})
		return
	}
	in.Service = name
	auditNote(r, "version", in.Version)
	r = withTarget(r, name, in.Version)
	out, err := s.opts.Registry.RegisterInstance(r.Context(), callerOf(r), in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	auditNote(r, "instance", out.ID)
	w.Header().Set("Location", "/v1/services/"+name+"/instances/"+out.ID)
	writeJSON(w, http.StatusCreated, out)
}

// instanceChange runs one change of an instance named by the path and
// answers the instance as it then is.
func (s *Server) instanceChange(change func(ctx context.Context, c registry.Caller, service, id string) (registry.Instance, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name, id := r.PathValue("name"), r.PathValue("id")
		auditNote(r, "service", name)
		auditNote(r, "instance", id)
		out, err := change(r.Context(), callerOf(r), name, id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	}
}

func (s *Server) heartbeat(w http.ResponseWriter, r *http.Request) {
	s.instanceChange(s.opts.Registry.Heartbeat)(w, r)
}

func (s *Server) drainInstance(w http.ResponseWriter, r *http.Request) {
	s.instanceChange(s.opts.Registry.Drain)(w, r)
}

// deregisterInstance removes an instance.
func (s *Server) deregisterInstance(w http.ResponseWriter, r *http.Request) {
	name, id := r.PathValue("name"), r.PathValue("id")
	auditNote(r, "service", name)
	auditNote(r, "instance", id)
	if err := s.opts.Registry.DeregisterInstance(r.Context(), callerOf(r), name, id); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// serviceHistory pages through a service's health and lifecycle events
// in order: ?after= is the sequence number of the last event read (0, the
// default, reads from the start), ?limit= 1 to 100.
func (s *Server) serviceHistory(w http.ResponseWriter, r *http.Request) {
	limit, err := limitParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var after int64
	if v := r.URL.Query().Get("after"); v != "" {
		after, err = strconv.ParseInt(v, 10, 64)
		if err != nil || after < 0 {
			s.fail(w, r, &apiError{Status: http.StatusBadRequest, Title: "Invalid request",
				Detail: "after is the sequence number of the last event read, a number from 0",
				Errors: []FieldError{{Location: "query:after", Detail: fmt.Sprintf("%q is not a number from 0", v)}}})
			return
		}
	}
	name := r.PathValue("name")
	events, err := s.opts.Registry.History(r.Context(), name, after, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page := map[string]any{}
	if events == nil {
		events = []registry.Event{}
	}
	page["items"] = events
	if n := len(events); n == limit {
		page["next"] = fmt.Sprintf("/v1/services/%s/history?after=%d&limit=%d", url.PathEscape(name), events[n-1].Sequence, limit)
	}
	writeJSON(w, http.StatusOK, page)
}

// isRegistryError reports whether err is one of the registry's errors
// that registryProblem answers.
func isRegistryError(err error) bool {
	var ve *registry.ValidationError
	return errors.As(err, &ve) || errors.Is(err, registry.ErrNotFound) ||
		errors.Is(err, registry.ErrForbidden) || errors.Is(err, registry.ErrConflict)
}

// Package threatintel is an example service for aiflow's service steps:
// threat-intel 1.2.0, which answers IP reputation and geolocation from a
// small bundled, illustrative dataset (documentation address ranges only)
// and CVE lookups from a bundled extract of public data (NVD, CISA's Known
// Exploited Vulnerabilities catalog); see README.md beside this file.
//
// Handler serves it; Service describes it to the registry: its
// capabilities (ip.reputation, ip.geolocation, cve.lookup), its
// operations with their response JSON Schemas, and its health check.
// Errors are RFC 9457 problem details.
package threatintel

import (
	"embed"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/aiflow/aiflow/examples/services/internal/reply"
	"github.com/aiflow/aiflow/internal/registry"
)

// Name and Version are the service's registry name and version.
const (
	Name    = "threat-intel"
	Version = "1.2.0"
)

//go:embed data/*.json
var data embed.FS

// Reputation is the answer of GET /v1/ip/{ip}/reputation.
type Reputation struct {
	IP         string   `json:"ip"`
	Score      int      `json:"score"`
	Verdict    string   `json:"verdict"`
	Categories []string `json:"categories"`
	Sources    []string `json:"sources"`
	LastSeen   string   `json:"last_seen,omitempty"`
}

// Geolocation is the answer of GET /v1/ip/{ip}/geolocation.
type Geolocation struct {
	IP           string `json:"ip"`
	CountryCode  string `json:"country_code"`
	Country      string `json:"country"`
	City         string `json:"city,omitempty"`
	ASN          int    `json:"asn"`
	Organization string `json:"organization"`
}

// CVE is the answer of GET /v1/cve/{id}.
type CVE struct {
	ID             string   `json:"id"`
	CVSSScore      float64  `json:"cvss_score"`
	Severity       string   `json:"severity"`
	Summary        string   `json:"summary"`
	Published      string   `json:"published"`
	KnownExploited bool     `json:"known_exploited"`
	References     []string `json:"references"`
}

// Verdicts by score: 70 and over malicious, 30 and over suspicious, under
// that clean; an address not in the data is unknown.
func verdict(score int) string {
	switch {
	case score >= 70:
		return "malicious"
	case score >= 30:
		return "suspicious"
	}
	return "clean"
}

type geoRange struct {
	prefix netip.Prefix
	geo    Geolocation
}

type dataset struct {
	reputation map[netip.Addr]Reputation
	geo        []geoRange
	cves       map[string]CVE
}

var bundled = mustLoad()

func mustLoad() *dataset {
	d, err := load()
	if err != nil {
		panic(fmt.Sprintf("loading the bundled threat-intel data: %v", err))
	}
	return d
}

func load() (*dataset, error) {
	d := &dataset{reputation: map[netip.Addr]Reputation{}, cves: map[string]CVE{}}
	var reps []Reputation
	if err := readJSON("data/reputation.json", &reps); err != nil {
		return nil, err
	}
	for _, r := range reps {
		a, err := netip.ParseAddr(r.IP)
		if err != nil {
			return nil, fmt.Errorf("reading data/reputation.json: %w", err)
		}
		r.IP = a.String()
		r.Verdict = verdict(r.Score)
		d.reputation[a] = r
	}
	var geos []struct {
		Range string `json:"range"`
		Geolocation
	}
	if err := readJSON("data/geolocation.json", &geos); err != nil {
		return nil, err
	}
	for _, g := range geos {
		p, err := netip.ParsePrefix(g.Range)
		if err != nil {
			return nil, fmt.Errorf("reading data/geolocation.json: %w", err)
		}
		d.geo = append(d.geo, geoRange{prefix: p.Masked(), geo: g.Geolocation})
	}
	// The most specific range first.
	slices.SortStableFunc(d.geo, func(a, b geoRange) int { return b.prefix.Bits() - a.prefix.Bits() })
	var cves []struct {
		CVE
		Name string `json:"name"`
	}
	if err := readJSON("data/cves.json", &cves); err != nil {
		return nil, err
	}
	for _, c := range cves {
		if !cveID.MatchString(c.ID) {
			return nil, fmt.Errorf("reading data/cves.json: %q is not a CVE id", c.ID)
		}
		c.CVE.Summary = c.Name + ": " + c.CVE.Summary
		c.CVE.References = []string{"https://nvd.nist.gov/vuln/detail/" + c.ID}
		if c.KnownExploited {
			c.CVE.References = append(c.CVE.References, "https://www.cisa.gov/known-exploited-vulnerabilities-catalog")
		}
		d.cves[c.ID] = c.CVE
	}
	return d, nil
}

func readJSON(name string, v any) error {
	b, err := data.ReadFile(name)
	if err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	return nil
}

var cveID = regexp.MustCompile(`^CVE-[0-9]{4}-[0-9]{4,}$`)

// Handler serves the service: the three operations and GET /healthz.
func Handler() http.Handler {
	d := bundled
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if reply.Methods(w, r, http.MethodGet) {
			return
		}
		reply.JSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("/v1/ip/{ip}/reputation", func(w http.ResponseWriter, r *http.Request) {
		if reply.Methods(w, r, http.MethodGet) {
			return
		}
		a, ok := pathAddr(w, r)
		if !ok {
			return
		}
		rep, found := d.reputation[a]
		if !found {
			rep = Reputation{IP: a.String(), Score: 0, Verdict: "unknown"}
		}
		if rep.Categories == nil {
			rep.Categories = []string{}
		}
		if rep.Sources == nil {
			rep.Sources = []string{}
		}
		reply.JSON(w, http.StatusOK, rep)
	})
	mux.HandleFunc("/v1/ip/{ip}/geolocation", func(w http.ResponseWriter, r *http.Request) {
		if reply.Methods(w, r, http.MethodGet) {
			return
		}
		a, ok := pathAddr(w, r)
		if !ok {
			return
		}
		for _, g := range d.geo {
			if g.prefix.Contains(a) {
				geo := g.geo
				geo.IP = a.String()
				reply.JSON(w, http.StatusOK, geo)
				return
			}
		}
		reply.Problem(w, r, http.StatusNotFound, fmt.Sprintf("no range in the data covers %s", a))
	})
	mux.HandleFunc("/v1/cve/{id}", func(w http.ResponseWriter, r *http.Request) {
		if reply.Methods(w, r, http.MethodGet) {
			return
		}
		id := strings.ToUpper(r.PathValue("id"))
		if !cveID.MatchString(id) {
			reply.Problem(w, r, http.StatusBadRequest, fmt.Sprintf("%q is not a CVE id (CVE-YYYY-NNNN, four or more digits)", r.PathValue("id")))
			return
		}
		c, ok := d.cves[id]
		if !ok {
			reply.Problem(w, r, http.StatusNotFound, fmt.Sprintf("%s is not in the bundled extract", id))
			return
		}
		reply.JSON(w, http.StatusOK, c)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		reply.Problem(w, r, http.StatusNotFound, fmt.Sprintf("no operation at %s", r.URL.Path))
	})
	return mux
}

// pathAddr reads the {ip} of the path: an IPv4 or IPv6 address without a
// zone (an IPv4-mapped IPv6 address reads as its IPv4 address). It answers
// 400 and returns false for anything else.
func pathAddr(w http.ResponseWriter, r *http.Request) (netip.Addr, bool) {
	raw := r.PathValue("ip")
	a, err := netip.ParseAddr(raw)
	if err != nil || a.Zone() != "" {
		reply.Problem(w, r, http.StatusBadRequest, fmt.Sprintf("%q is not an IPv4 or IPv6 address", raw))
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// The operations' response schemas (JSON Schema draft 2020-12).
const (
	reputationSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["ip", "score", "verdict", "categories", "sources"],
  "properties": {
    "ip": {"type": "string"},
    "score": {"type": "integer", "minimum": 0, "maximum": 100},
    "verdict": {"type": "string", "enum": ["malicious", "suspicious", "clean", "unknown"]},
    "categories": {"type": "array", "items": {"type": "string"}},
    "sources": {"type": "array", "items": {"type": "string"}},
    "last_seen": {"type": "string", "format": "date-time"}
  }
}`
	geolocationSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["ip", "country_code", "country", "asn", "organization"],
  "properties": {
    "ip": {"type": "string"},
    "country_code": {"type": "string", "pattern": "^[A-Z]{2}$"},
    "country": {"type": "string"},
    "city": {"type": "string"},
    "asn": {"type": "integer", "minimum": 0},
    "organization": {"type": "string"}
  }
}`
	cveSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["id", "cvss_score", "severity", "summary", "published", "known_exploited", "references"],
  "properties": {
    "id": {"type": "string", "pattern": "^CVE-[0-9]{4}-[0-9]{4,}$"},
    "cvss_score": {"type": "number", "minimum": 0, "maximum": 10},
    "severity": {"type": "string", "enum": ["none", "low", "medium", "high", "critical"]},
    "summary": {"type": "string"},
    "published": {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
    "known_exploited": {"type": "boolean"},
    "references": {"type": "array", "items": {"type": "string", "format": "uri"}}
  }
}`
)

// Service is the service's registry description, without instances: the
// registrant adds the instance it runs (an endpoint serving Handler).
func Service() registry.Service {
	return registry.Service{
		Name:         Name,
		Version:      Version,
		Description:  "IP reputation and geolocation (illustrative data, documentation ranges only) and CVE lookups (a bundled extract of public NVD and CISA KEV data).",
		Capabilities: []string{"ip.reputation", "ip.geolocation", "cve.lookup"},
		Metadata:     map[string]string{"owner": "aiflow examples", "data": "bundled"},
		Operations: []registry.Operation{
			{Name: "ip_reputation", Method: http.MethodGet, Path: "/v1/ip/{ip}/reputation", ResponseSchema: json.RawMessage(reputationSchema), TimeoutSeconds: 5},
			{Name: "ip_geolocation", Method: http.MethodGet, Path: "/v1/ip/{ip}/geolocation", ResponseSchema: json.RawMessage(geolocationSchema), TimeoutSeconds: 5},
			{Name: "cve_lookup", Method: http.MethodGet, Path: "/v1/cve/{id}", ResponseSchema: json.RawMessage(cveSchema), TimeoutSeconds: 5},
		},
		HealthCheck: &registry.HealthCheck{Path: "/healthz", ExpectedStatus: http.StatusOK, IntervalSeconds: 5, TimeoutSeconds: 2, HealthyThreshold: 2, UnhealthyThreshold: 3},
		Balancing:   registry.BalancingRoundRobin,
	}
}

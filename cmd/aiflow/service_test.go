package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/auth"
	"github.com/aiflow/aiflow/internal/httpapi"
	"github.com/aiflow/aiflow/internal/registry"
)

var serviceTestKey = []byte("the service CLI tests' key of 32")

// serviceAPI is the real API handler with the registry on its memory
// store, and the variables that point aiflow service at it: the API's
// URL, and a data folder holding an admin's development token.
type serviceAPI struct {
	url     string
	reg     *registry.Registry
	dataDir string
	vars    map[string]string
}

func setupServiceAPI(t *testing.T) *serviceAPI {
	t.Helper()
	reg, err := registry.New(registry.Config{Store: registry.NewMemoryStore()})
	require.NoError(t, err)
	verifier, err := auth.NewVerifier(auth.VerifierOptions{Issuer: auth.DevIssuer, Audience: []string{auth.DevAudience}, HMACKey: serviceTestKey})
	require.NoError(t, err)
	srv := httptest.NewServer(httpapi.New(httpapi.Options{Authenticator: verifier, Registry: reg}))
	t.Cleanup(srv.Close)
	dataDir := t.TempDir()
	tok, err := auth.MintDevToken(serviceTestKey, "dev", []auth.Role{auth.RoleAdmin}, time.Hour)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dataDir, "dev-token"), []byte(tok+"\n"), 0o600))
	return &serviceAPI{url: srv.URL, reg: reg, dataDir: dataDir,
		vars: map[string]string{"AIFLOW_API_URL": srv.URL, "AIFLOW_DATA_DIR": dataDir}}
}

// service runs `aiflow service args...` and returns its exit code,
// stdout and stderr.
func (s *serviceAPI) service(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	te := newTestEnv(s.vars)
	code := run(context.Background(), append([]string{"service"}, args...), te.env())
	return code, te.stdout.String(), te.stderr.String()
}

// servicesDoc returns docs/services.md.
func servicesDoc(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, "docs", "services.md"))
	require.NoError(t, err)
	return string(raw)
}

// docSection returns the text of a "## " section of the doc.
func docSection(t *testing.T, doc, heading string) string {
	t.Helper()
	_, rest, ok := strings.Cut(doc, "\n## "+heading+"\n")
	require.True(t, ok, "docs/services.md has the section %q", heading)
	if i := strings.Index(rest, "\n## "); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

// codeBlocks returns the contents of the section's fenced blocks of a
// language.
func codeBlocks(section, lang string) []string {
	var out []string
	for _, m := range regexp.MustCompile("(?s)```"+lang+"\n(.*?)```").FindAllStringSubmatch(section, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestServicesDocCLIExamples runs the CLI section of docs/services.md:
// its registration file, then every command it shows, in order.
func TestServicesDocCLIExamples(t *testing.T) {
	t.Parallel()
	s := setupServiceAPI(t)
	section := docSection(t, servicesDoc(t), "CLI")
	yamls := codeBlocks(section, "yaml")
	require.Len(t, yamls, 1)
	file := filepath.Join(t.TempDir(), "threat-intel.yaml")
	require.NoError(t, os.WriteFile(file, []byte(yamls[0]), 0o644))
	catalog := filepath.Join(t.TempDir(), "services.json")

	var commands []string
	for _, block := range codeBlocks(section, "sh") {
		for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
			if strings.HasPrefix(line, "aiflow service ") {
				commands = append(commands, line)
			}
		}
	}
	require.GreaterOrEqual(t, len(commands), 8, "the doc shows the commands")
	outputs := map[string]string{}
	for _, line := range commands {
		args := strings.Fields(line)[2:]
		for i, a := range args {
			switch a {
			case "threat-intel.yaml":
				args[i] = file
			case "services.json":
				args[i] = catalog
			}
		}
		code, out, errOut := s.service(t, args...)
		require.Equal(t, 0, code, "%s\nstdout: %s\nstderr: %s", line, out, errOut)
		outputs[args[0]] += out
	}
	require.Contains(t, outputs["register"], "registered threat-intel 1.2.0\n  instance ti-1 https://ti-1.example.com starting\n", "a health check to pass first")
	require.Regexp(t, `(?m)^threat-intel\s+1\.2\.0\s+0/1\s+ip\.reputation,ip\.geolocation,cve\.lookup$`, outputs["list"])
	require.Contains(t, outputs["show"], "GET    /v1/ip/{ip}/reputation  (reputation)")
	require.Contains(t, outputs["show"], "ti-1")
	require.Contains(t, outputs["history"], "ServiceRegistered")
	require.Contains(t, outputs["drain"], "threat-intel instance ti-1 is draining")
	require.Contains(t, outputs["deregister"], "deregistered threat-intel instance ti-1\n")
	require.Contains(t, outputs["deregister"], "deregistered threat-intel 1.2.0\n")

	// The catalog the doc shows the shape of.
	raw, err := os.ReadFile(catalog)
	require.NoError(t, err)
	require.NotContains(t, string(raw), `"servers"`, "the MCP servers' part is the MCP catalog's")
	var cat struct {
		Services map[string]struct {
			Versions []struct {
				Version      string            `json:"version"`
				Capabilities []string          `json:"capabilities"`
				Operations   []json.RawMessage `json:"operations"`
			} `json:"versions"`
		} `json:"services"`
	}
	require.NoError(t, json.Unmarshal(raw, &cat))
	v := cat.Services["threat-intel"].Versions
	require.Len(t, v, 1)
	require.Equal(t, "1.2.0", v[0].Version)
	require.Len(t, v[0].Operations, 2)
	require.JSONEq(t, `{"name": "lookup_cve", "method": "GET", "path": "/v1/cve/{id}"}`, string(v[0].Operations[1]))

	_, err = s.reg.Get(t.Context(), "threat-intel")
	require.ErrorIs(t, err, registry.ErrNotFound, "the last command deregistered the version")
}

// TestServicesDocCurlExamples runs the API section's curl commands
// against the API, with API and TOKEN as the doc says; each must answer
// below 400.
func TestServicesDocCurlExamples(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("the curl examples need curl")
	}
	s := setupServiceAPI(t)
	section := docSection(t, servicesDoc(t), "API")
	blocks := codeBlocks(section, "sh")
	require.Len(t, blocks, 2)
	script := strings.Join(blocks, "\n")
	require.Equal(t, 7, strings.Count(script, "curl -sS "))
	script = strings.ReplaceAll(script, "curl -sS ", "curl -sS --fail-with-body ")
	tok, err := os.ReadFile(filepath.Join(s.dataDir, "dev-token"))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script)
	cmd.Env = append(os.Environ(), "API="+s.url, "TOKEN="+strings.TrimSpace(string(tok)))
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "the doc's curl examples failed:\n%s", out)
	require.Contains(t, string(out), `"status":"draining"`)
	require.Contains(t, string(out), `"type":"InstanceDeregistered"`)
}

func TestServiceCommandErrors(t *testing.T) {
	t.Parallel()
	s := setupServiceAPI(t)
	dir := t.TempDir()

	// The registry's refusal names each field by its pointer into the file.
	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("name: Threat Intel\nversion: \"1\"\noperations:\n  - {name: x, method: FETCH, path: /x}\n"), 0o644))
	code, _, errOut := s.service(t, "register", bad)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "aiflow service register: "+bad+": registering the service Threat Intel 1: 422 Unprocessable Entity: the registration has 3 problems")
	require.Contains(t, errOut, "\n  /name: ")
	require.Contains(t, errOut, "\n  /operations/0/method: ")

	// A field the registry does not know is refused before any call.
	typo := filepath.Join(dir, "typo.yaml")
	require.NoError(t, os.WriteFile(typo, []byte("name: x\nversoin: 1.0.0\n"), 0o644))
	code, _, errOut = s.service(t, "register", typo)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, typo+`: unknown field "versoin"`)

	code, _, errOut = s.service(t, "show", "nothing")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `aiflow service show: reading the service nothing: 404 Not Found: no service is registered as "nothing"`)

	// Bad command lines.
	code, _, errOut = s.service(t, "drain", "only-a-name")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, `aiflow service drain: expected NAME and ID, got ["only-a-name"]`)
	code, _, errOut = s.service(t, "deregister", "x", "id", "--version", "1.0.0")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "give an instance ID or --version, not both")
	code, _, errOut = s.service(t, "frob")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, `unknown subcommand "frob"`)
	code, out, _ := s.service(t, "--help")
	require.Equal(t, 0, code)
	require.Contains(t, out, "aiflow service catalog [-o FILE]")

	// No token anywhere.
	te := newTestEnv(map[string]string{"AIFLOW_API_URL": s.url, "AIFLOW_DATA_DIR": dir})
	require.Equal(t, 1, run(context.Background(), []string{"service", "list"}, te.env()))
	require.Contains(t, te.stderr.String(), "no token: pass --token, set AIFLOW_TOKEN, or run aiflow dev, which writes "+filepath.Join(dir, "dev-token"))

	// A token that may not: the problem's detail.
	viewer, err := auth.MintDevToken(serviceTestKey, "vera", []auth.Role{auth.RoleViewer}, time.Hour)
	require.NoError(t, err)
	code, _, errOut = s.service(t, "drain", "threat-intel", "ti-1", "--token", viewer)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "403 Forbidden: services:manage requires the admin role or a higher one, or the service role; the caller has the roles viewer")

	// A bad AIFLOW_API_URL is a configuration problem: exit 2.
	te = newTestEnv(map[string]string{"AIFLOW_API_URL": "localhost:8080"})
	require.Equal(t, 2, run(context.Background(), []string{"service", "list"}, te.env()))
	require.Contains(t, te.stderr.String(), `AIFLOW_API_URL: "localhost:8080" is not an http or https URL`)
}

// TestServiceRegisterInstances: --instance adds instances with or
// without ids, with the flags' zone, weight and internal; --json prints
// the API's JSON.
func TestServiceRegisterInstances(t *testing.T) {
	t.Parallel()
	s := setupServiceAPI(t)
	file := filepath.Join(t.TempDir(), "svc.json")
	require.NoError(t, os.WriteFile(file, []byte(`{"name": "incident-desk", "version": "1.0.0", "capabilities": ["incident.notes"],
		"operations": [{"name": "add_note", "method": "POST", "path": "/v1/incidents/{id}/notes"}]}`), 0o644))
	code, out, errOut := s.service(t, "register", file, "--instance", "desk-a=http://127.0.0.1:9001", "--instance", "http://127.0.0.1:9002/a=b",
		"--internal", "--zone", "local", "--weight", "7")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "registered incident-desk 1.0.0\n")
	require.Contains(t, out, "instance desk-a http://127.0.0.1:9001 healthy")

	code, out, errOut = s.service(t, "show", "incident-desk", "--json")
	require.Equal(t, 0, code, errOut)
	var shown struct {
		Versions []registry.Service `json:"versions"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &shown))
	ins := shown.Versions[0].Instances
	require.Len(t, ins, 2)
	for _, in := range ins {
		require.True(t, in.Internal)
		require.Equal(t, "local", in.Zone)
		require.Equal(t, 7, in.Weight)
	}
	require.Contains(t, []string{ins[0].Endpoint, ins[1].Endpoint}, "http://127.0.0.1:9002/a=b")

	code, out, _ = s.service(t, "list", "--capability", "nothing", "--json")
	require.Equal(t, 0, code)
	require.JSONEq(t, `{"items": []}`, out)
	code, out, _ = s.service(t, "history", "incident-desk", "--after", "1", "--limit", "1", "--json")
	require.Equal(t, 0, code)
	require.Contains(t, out, `"sequence": 2`)

	code, out, _ = s.service(t, "deregister", "incident-desk")
	require.Equal(t, 0, code)
	require.Equal(t, "deregistered every version of incident-desk\n", out)
}

package archtest_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

const module = "github.com/aiflow/aiflow"

// Third-party libraries that talk to the world (SDKs, drivers, servers).
var (
	awsSDK    = []string{"github.com/aws/aws-sdk-go-v2", "github.com/aws/smithy-go"}
	lambdaSDK = []string{"github.com/aws/aws-lambda-go", "github.com/awslabs/aws-lambda-go-api-proxy"}
	pgx       = []string{"github.com/jackc/pgx"}
	mcpSDK    = []string{"github.com/modelcontextprotocol/go-sdk"}
	openaiSDK = []string{"github.com/openai/openai-go"}
	claudeSDK = []string{"github.com/anthropics/anthropic-sdk-go"}
	bedrock   = []string{"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"}
	s3SDK     = []string{"github.com/aws/aws-sdk-go-v2/service/s3"}
	otherSDKs = []string{"go.opentelemetry.io", "github.com/pressly/goose", "github.com/golang-jwt/jwt"}
	// modelSDKs are the model APIs' clients: the SDKs, and the providers
	// that speak OpenAI's and Anthropic's wire formats in their place.
	modelSDKs = join(openaiSDK, claudeSDK, bedrock, mod("internal/ai/openai", "internal/ai/anthropic"))
	sdks      = join(awsSDK, lambdaSDK, pgx, mcpSDK, openaiSDK, claudeSDK, otherSDKs)
)

// m is the prefix of the module's packages.
const m = module + "/"

// The packages of the rules.
var (
	// core does no I/O and imports no SDK.
	core = mod("internal/asl", "internal/workflow", "internal/workflow/expr", "internal/sfn", "internal/clock", "internal/task", "internal/schema", "internal/textgate", "internal/pathtemplate", "internal/semver", "internal/jsonvalid", "internal/jsoncanon")
	// adapters each wrap one library (the values) and never import each
	// other, but for the port one implements (ports).
	adapters = map[string][]string{
		m + "internal/eventstore":   pgx,
		m + "internal/awssfn":       awsSDK,
		m + "internal/awslambda":    awsSDK,
		m + "internal/secrets":      awsSDK,
		m + "internal/archivesink":  awsSDK,
		m + "internal/ai/anthropic": claudeSDK,
		m + "internal/ai/bedrock":   awsSDK,
		m + "internal/ai/openai":    openaiSDK,
		m + "internal/mcpclient":    mcpSDK,
		m + "internal/blob/pgblob":  pgx,
		m + "internal/blob/s3blob":  awsSDK,
	}
	ports = map[string][]string{
		m + "internal/archivesink": mod("internal/eventstore"),
	}
	// engineImporters are the wiring that may import internal/engine: the
	// command, the functions, the engine's own store, test and benchmark
	// packages, the adapter of its queue to the SQS wire API, the stack
	// (which runs the template on it), and the decorator of its store that
	// traces it from outside.
	engineImporters = mod("cmd", "functions", "internal/engine", "internal/enginestore", "internal/enginebench", "internal/enginecrash", "internal/sqsapi/sqsqueue", "internal/stack", "internal/enginetrace")
	// s3Importers are the archive package, the blob store on S3, and
	// what wires them.
	s3Importers = mod("internal/archivesink", "internal/blob/s3blob", "cmd/aiflow")
)

// importRule forbids some imports of some packages.
type importRule struct {
	name string
	// packages names the packages the rule is about (each with its
	// subpackages when sub is set); nil means every package of the module.
	packages []string
	sub      bool
	// except are packages (with their subpackages) the rule leaves out.
	except []string
	// transitive checks every dependency, not only the direct imports.
	transitive bool
	// forbidden reports whether pkg may not import imp.
	forbidden func(pkg, imp string) bool
}

var importRules = []importRule{
	{
		name:     "asl, workflow, sfn, clock, task, schema, textgate, pathtemplate, semver, jsonvalid and jsoncanon do no I/O and import no SDK",
		packages: core, transitive: true,
		forbidden: func(_, imp string) bool {
			return (isModule(imp) && !slices.Contains(core, imp)) || under(imp, sdks...) || isIOStd(imp)
		},
	},
	{
		name:     "awsjson is a pure HTTP helper: it imports no aiflow package and no SDK",
		packages: mod("internal/awsjson"), transitive: true,
		forbidden: func(_, imp string) bool {
			return isModule(imp) || under(imp, sdks...)
		},
	},
	{
		name:     "the engine knows asl, sfn, clock, jsonvalid and its own packages, never pgx, net/http or AWS",
		packages: mod("internal/engine"), transitive: true,
		forbidden: func(_, imp string) bool {
			return engineForbids(imp) || under(imp, lambdaSDK...)
		},
	},
	{
		name:     "the engine's packages know asl, sfn, clock, jsonvalid and the engine, never pgx, net/http or the AWS SDK (the queue delivers aws-lambda-go's SQS events)",
		packages: mod("internal/engine"), sub: true, except: mod("internal/engine/enginetest"),
		forbidden: func(_, imp string) bool { return engineForbids(imp) },
	},
	{
		name:     "adapters import their one library and never each other",
		packages: keys(adapters),
		forbidden: func(pkg, imp string) bool {
			if _, ok := adapters[imp]; ok && imp != pkg {
				return !slices.Contains(ports[pkg], imp)
			}
			return under(imp, sdks...) && !under(imp, adapters[pkg]...)
		},
	},
	{
		name:     "no package under functions/ imports another",
		packages: mod("functions"), sub: true,
		forbidden: func(_, imp string) bool { return under(imp, mod("functions")...) },
	},
	{
		name:   "nothing but wiring imports internal/engine (or its queue)",
		except: engineImporters,
		forbidden: func(_, imp string) bool {
			return under(imp, m+"internal/engine")
		},
	},
	{
		name: "production code never imports an xxxtest package",
		forbidden: func(pkg, imp string) bool {
			return isModule(imp) && isTestHelper(imp) && !isTestHelper(pkg)
		},
	},
	{
		name:     "the step workers' shared wiring, the mcp worker's and the service worker's link no model SDK",
		packages: mod("internal/stepworker", "internal/stepworker/mcpworker", "internal/stepworker/serviceworker"), transitive: true,
		forbidden: func(_, imp string) bool { return under(imp, modelSDKs...) },
	},
	{
		name:      "the ai worker's wiring makes no MCP client of its own: its agents' tools run on the pool stepworker builds for both workers",
		packages:  mod("internal/stepworker/aiworker"),
		forbidden: func(_, imp string) bool { return imp == m+"internal/mcpclient" },
	},
	{
		name:   "no S3 client outside the archive package and what wires it",
		except: s3Importers,
		forbidden: func(_, imp string) bool {
			return under(imp, s3SDK...)
		},
	},
}

// linkRule forbids some packages in the binaries of some functions.
type linkRule struct {
	name string
	// functions are folders under functions/; nil means every function.
	functions []string
	forbidden []string
	// pending marks a rule expected to fail, saying why and what makes it
	// hold. The rule is checked all the same: its breaches are logged, and
	// the test fails once it holds, so that the mark is removed and the
	// rule enforced from then on.
	pending string
}

var linkRules = []linkRule{
	{name: "no function links the engine: none runs it", forbidden: mod("internal/engine")},
	{name: "no function links OpenAI's or Anthropic's Go SDK: the providers speak their wire formats (the SDKs linked their whole APIs, 8.3 MB of aistep)", forbidden: join(openaiSDK, claudeSDK)},
	{name: "no function links the protobuf runtime or the generated OTLP messages: the OTLP exporter writes its requests with protowire alone", forbidden: []string{"go.opentelemetry.io/proto", "google.golang.org/protobuf/proto", "google.golang.org/protobuf/reflect", "google.golang.org/protobuf/internal/impl"}},
	{name: "no function links the Prometheus client: functions write their metrics as EMF (metrics/prommetrics is aiflow dev's)", forbidden: []string{"github.com/prometheus/client_golang", m + "internal/metrics/prommetrics"}},
	{name: "only the API links the workflow compiler: the workers route service calls without the checker's catalog (registry/catalog)", functions: []string{"aistep", "mcpstep", "servicestep", "mcpserver", "recorder", "migrate", "healthcheck"}, forbidden: mod("internal/workflow", "internal/asl", "internal/registry/catalog")},
	{name: "only the step workers and the API link the S3 client: for the large step results of the blob store (blob/s3blob); none archives", functions: []string{"recorder", "mcpserver", "migrate", "healthcheck"}, forbidden: s3SDK},
	{name: "the API function links no MCP SDK and no model SDK", functions: []string{"api"}, forbidden: join(mcpSDK, modelSDKs)},
	{name: "the recorder links no MCP SDK and no model SDK", functions: []string{"recorder"}, forbidden: join(mcpSDK, modelSDKs)},
	{name: "the MCP server links no model SDK", functions: []string{"mcpserver"}, forbidden: modelSDKs},
	{name: "the MCP step worker links no model SDK", functions: []string{"mcpstep"}, forbidden: modelSDKs},
	{name: "the service step worker links no model SDK", functions: []string{"servicestep"}, forbidden: modelSDKs},
	{name: "the migrate function links no model SDK and no Step Functions client", functions: []string{"migrate"}, forbidden: join(modelSDKs, []string{"github.com/aws/aws-sdk-go-v2/service/sfn"})},
	{
		name: "the migrate function links no MCP SDK", functions: []string{"migrate"}, forbidden: mcpSDK,
		pending: "the support desk's seed (supportdesk.Seed) lives in a package of its own, apart from the desk's MCP server",
	},
}

func TestImportRules(t *testing.T) {
	t.Parallel()
	g := hostGraph(t)
	var mods []string
	for p := range g {
		if isModule(p) {
			mods = append(mods, p)
		}
	}
	slices.Sort(mods)
	for _, r := range importRules {
		for _, p := range r.packages {
			require.True(t, slices.ContainsFunc(mods, func(q string) bool { return q == p || (r.sub && under(q, p)) }),
				"rule %q names %s, which is not a package: update the rule", r.name, rel(p))
		}
		for _, p := range mods {
			if !r.applies(p) {
				continue
			}
			imports := g[p].Imports
			if r.transitive {
				imports = g[p].Deps
			}
			for _, imp := range imports {
				if !r.forbidden(p, imp) {
					continue
				}
				if !r.transitive {
					t.Errorf("%s imports %s, which breaks the rule %q", rel(p), rel(imp), r.name)
					continue
				}
				for _, by := range importers(g, p, imp, func(q string) bool { return r.forbidden(p, q) }) {
					if by == p {
						t.Errorf("%s imports %s, which breaks the rule %q", rel(p), rel(imp), r.name)
					} else {
						t.Errorf("%s imports %s (through %s, which imports it), which breaks the rule %q", rel(p), rel(imp), rel(by), r.name)
					}
				}
			}
		}
	}
}

func TestFunctionLinks(t *testing.T) {
	t.Parallel()
	g := functionGraph(t)
	var functions []string
	for p, pkg := range g {
		if under(p, mod("functions")...) && pkg.Name == "main" {
			functions = append(functions, strings.TrimPrefix(p, m+"functions/"))
		}
	}
	slices.Sort(functions)
	require.NotEmpty(t, functions)
	for _, r := range linkRules {
		var breaches []string
		for _, fn := range r.functions {
			require.Contains(t, functions, fn, "rule %q names functions/%s, which is not a function: update the rule", r.name, fn)
		}
		for _, fn := range functions {
			if r.functions != nil && !slices.Contains(r.functions, fn) {
				continue
			}
			p := m + "functions/" + fn
			// The forbidden packages each importer brings in, in order.
			var entries []string
			linked := map[string][]string{}
			for _, dep := range g[p].Deps {
				if !under(dep, r.forbidden...) {
					continue
				}
				for _, by := range importers(g, p, dep, func(q string) bool { return under(q, r.forbidden...) }) {
					if linked[by] == nil {
						entries = append(entries, by)
					}
					linked[by] = append(linked[by], rel(dep))
				}
			}
			for _, by := range entries {
				them := "it"
				if len(linked[by]) > 1 {
					them = "them"
				}
				breaches = append(breaches, "functions/"+fn+" links "+strings.Join(linked[by], ", ")+": "+rel(by)+" imports "+them+
					" ("+strings.Join(path(g, p, by), " -> ")+"), which breaks the rule \""+r.name+"\"")
			}
		}
		switch {
		case r.pending == "":
			for _, b := range breaches {
				t.Error(b)
			}
		case len(breaches) == 0:
			t.Errorf("the rule %q holds now: remove its pending mark (%q) so that it is enforced", r.name, r.pending)
		default:
			for _, b := range breaches {
				t.Logf("expected to fail until %s: %s", r.pending, b)
			}
		}
	}
}

func TestPackageComments(t *testing.T) {
	t.Parallel()
	for p, pkg := range hostGraph(t) {
		if !isModule(p) || len(pkg.GoFiles) == 0 {
			continue
		}
		switch {
		case pkg.Doc == "":
			t.Errorf("%s has no package comment, which breaks the rule \"every package has a package comment saying what it owns\"", rel(p))
		case pkg.Name != "main" && !strings.HasPrefix(pkg.Doc, "Package "+pkg.Name+" "):
			t.Errorf("%s: the package comment starts %q, not \"Package %s\", which breaks the rule \"every package has a package comment saying what it owns\"", rel(p), pkg.Doc, pkg.Name)
		}
	}
}

// importers returns the packages that import imp and that p reaches
// without going through a forbidden package: where a forbidden import
// enters, and not what is forbidden only because another forbidden
// package needs it.
func importers(g graph, p, imp string, forbidden func(string) bool) []string {
	var out []string
	seen := map[string]bool{p: true}
	queue := []string{p}
	for len(queue) > 0 {
		q := queue[0]
		queue = queue[1:]
		pkg, ok := g[q]
		if !ok {
			continue
		}
		if slices.Contains(pkg.Imports, imp) {
			out = append(out, q)
		}
		for _, next := range pkg.Imports {
			if !seen[next] && !forbidden(next) {
				seen[next] = true
				queue = append(queue, next)
			}
		}
	}
	slices.Sort(out)
	return out
}

// path returns the shortest chain of imports from p to q, relative to the
// module.
func path(g graph, p, q string) []string {
	prev := map[string]string{p: ""}
	queue := []string{p}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		if cur == q {
			var out []string
			for ; cur != ""; cur = prev[cur] {
				out = append(out, rel(cur))
			}
			slices.Reverse(out)
			return out
		}
		if g[cur] == nil {
			continue
		}
		for _, next := range g[cur].Imports {
			if _, seen := prev[next]; !seen {
				prev[next] = cur
				queue = append(queue, next)
			}
		}
	}
	return []string{rel(p), "...", rel(q)}
}

func (r importRule) applies(pkg string) bool {
	if under(pkg, r.except...) {
		return false
	}
	if r.packages == nil {
		return true
	}
	if r.sub {
		return under(pkg, r.packages...)
	}
	return slices.Contains(r.packages, pkg)
}

func engineForbids(imp string) bool {
	if isModule(imp) {
		return !under(imp, mod("internal/asl", "internal/sfn", "internal/clock", "internal/jsonvalid", "internal/engine")...)
	}
	return under(imp, awsSDK...) || under(imp, pgx...) || under(imp, mcpSDK...) || under(imp, "net/http") || imp == "database/sql"
}

// isIOStd reports whether p is a standard package that reaches outside
// the process: the network, other programs, databases, plugins.
func isIOStd(p string) bool {
	return p == "net" || p == "database/sql" || under(p, "net/http", "net/rpc", "net/smtp", "os/exec", "plugin")
}

// pkg is what go list -json says of a package.
type pkg struct {
	ImportPath string
	Name       string
	Doc        string
	GoFiles    []string
	Imports    []string
	Deps       []string
}

type graph map[string]*pkg

var (
	hostOnce, fnOnce sync.Once
	hostG, fnG       graph
	hostErr, fnErr   error
)

// hostGraph is every package of the module and its dependencies, for
// this machine.
func hostGraph(t *testing.T) graph {
	t.Helper()
	hostOnce.Do(func() { hostG, hostErr = goList(nil, "./...") })
	require.NoError(t, hostErr)
	return hostG
}

// functionGraph is the functions and their dependencies, built as make
// build builds them.
func functionGraph(t *testing.T) graph {
	t.Helper()
	fnOnce.Do(func() {
		fnG, fnErr = goList([]string{"GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0"}, "-tags", "lambda.norpc", "./functions/...")
	})
	require.NoError(t, fnErr)
	return fnG
}

func goList(env []string, args ...string) (graph, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("go", append([]string{"list", "-deps", "-json=ImportPath,Name,Doc,GoFiles,Imports,Deps"}, args...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, errors.New("running go list: " + err.Error() + ": " + stderr.String())
	}
	g := graph{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			return g, nil
		} else if err != nil {
			return nil, errors.New("reading go list's output: " + err.Error())
		}
		g[p.ImportPath] = &p
	}
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", errors.New("running go env GOMOD: " + err.Error())
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not in a module")
	}
	return filepath.Dir(gomod), nil
}

// rel is p relative to the module for the module's packages, else p.
func rel(p string) string {
	return strings.TrimPrefix(p, m)
}

// mod returns the import paths of the module's packages at rel.
func mod(rel ...string) []string {
	out := make([]string, len(rel))
	for i, r := range rel {
		out[i] = m + r
	}
	return out
}

// isModule reports whether p is a package of the module.
func isModule(p string) bool { return p == module || strings.HasPrefix(p, m) }

// isTestHelper reports whether p is a test helper: an xxxtest package.
func isTestHelper(p string) bool {
	return strings.HasSuffix(p[strings.LastIndex(p, "/")+1:], "test") && p != m+"internal/archtest"
}

// under reports whether p is one of prefixes or below one.
func under(p string, prefixes ...string) bool {
	for _, x := range prefixes {
		if p == x || strings.HasPrefix(p, x+"/") {
			return true
		}
	}
	return false
}

func join(lists ...[]string) []string { return slices.Concat(lists...) }

func keys(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

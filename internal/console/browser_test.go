package console_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/aiflow/aiflow/internal/ai"
	"github.com/aiflow/aiflow/internal/ai/scripted"
	"github.com/aiflow/aiflow/internal/apistore"
	"github.com/aiflow/aiflow/internal/auth"
	"github.com/aiflow/aiflow/internal/console"
	"github.com/aiflow/aiflow/internal/control"
	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/engine/queue"
	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/httpapi"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
	"github.com/aiflow/aiflow/internal/registry"
	"github.com/aiflow/aiflow/internal/registry/registrytest"
	"github.com/aiflow/aiflow/internal/steps"
	"github.com/aiflow/aiflow/internal/steps/detailstore"
	"github.com/aiflow/aiflow/internal/workflow"
)

// update makes the browser test write its screenshots to docs/console,
// where docs/console.md shows them.
var update = flag.Bool("update", false, "write the screenshots docs/console.md shows")

// screenshotsEnv names a folder that keeps the browser test's screenshots
// (CI keeps it as an artifact); without it they go to the test's
// temporary folder.
const screenshotsEnv = "CONSOLE_SCREENSHOTS"

// chromium finds the browser, or skips the test saying how to get it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("the console's browser tests need Chromium: apt-get install chromium (Debian's package)")
	return ""
}

// testKey signs the browser test's development token.
var testKey = []byte("the console tests' key of 32 b..")

// fakeMCP is an MCP client pool of one server, as the API shows it.
type fakeMCP struct{}

func (fakeMCP) MCPServers(context.Context) []httpapi.MCPServer {
	return []httpapi.MCPServer{{
		Name:      "support",
		Endpoints: []httpapi.MCPEndpoint{{Endpoint: "in-process", Connected: true, Healthy: true, Breaker: "closed", ProtocolVersion: "2025-11-25"}},
		Tools: []httpapi.MCPTool{
			{Name: "find_customer", Description: "Finds a customer by email.", ReadOnly: true, Idempotent: true, Status: "pinned"},
			{Name: "issue_refund", Description: "Refunds an order, once per request id.", Idempotent: true, Status: "pinned"},
		},
	}}
}

// site is the API with the engine, its workers and the console on one
// origin, as aiflow dev serves them.
type site struct {
	url   string
	token string
}

// setupSite runs the API in process: a fresh PostgreSQL database, the
// in-memory engine with in-process queues, the ai worker on the scripted
// provider (streaming its tokens), the approvals worker, a registry with
// one service, and refund-review published.
func setupSite(t *testing.T) site {
	t.Helper()
	ctx := context.Background()
	pool := pgclustertest.Pool(t)
	store := apistore.New(pool)
	qb := queue.New(queue.Config{})
	t.Cleanup(func() { _ = qb.Close() })
	eng, err := engine.New(engine.Config{Store: engine.NewMemoryStore(), Queues: qb})
	require.NoError(t, err)
	require.NoError(t, eng.Start(ctx))
	t.Cleanup(func() { _ = eng.Close() })
	events, err := eventstore.Open(ctx, pool, eventstore.Options{})
	require.NoError(t, err)
	details := detailstore.New(events, "aistep")
	src, err := os.ReadFile("testdata/refund-review.script.yaml")
	require.NoError(t, err)
	script, err := scripted.Parse(src)
	require.NoError(t, err)
	broker := &steps.Broker{}
	rt, err := steps.NewRuntime(steps.RuntimeConfig{Callbacks: eng, Handlers: map[string]steps.Handler{
		"ai": steps.NewAI(steps.AIConfig{
			Providers: map[string]ai.Provider{"scripted": scripted.New(script, scripted.Options{})},
			Broker:    broker, Details: details,
			// The worker gives up on the first throttled call, so the
			// state's own retry shows on the graph.
			Retrier: ai.Retrier{MaxAttempts: 1},
			Prices:  steps.PriceTable{"scripted/demo": {InputPerMillion: 3, OutputPerMillion: 15}},
		}),
	}})
	require.NoError(t, err)
	approvals := &httpapi.ApprovalWorker{Store: store, Tokens: eng}
	urls := map[string]string{}
	for sub, h := range map[string]queue.Handler{workflow.AIQueueSubstitution: rt.Handle, workflow.ApprovalQueueSubstitution: approvals.Handle} {
		url, err := qb.CreateQueue(queue.QueueConfig{Name: strings.Trim(sub, "${}"), VisibilityTimeout: 2 * time.Minute})
		require.NoError(t, err)
		stop, err := qb.Subscribe(url, h, queue.MappingConfig{ReportBatchItemFailures: true, MaxConcurrency: 4, FunctionTimeout: time.Minute})
		require.NoError(t, err)
		t.Cleanup(stop)
		urls[sub] = url
	}
	reg, err := registry.New(registry.Config{Store: registry.NewMemoryStore(), CheckEndpointFunc: func(string, bool) error { return nil }})
	require.NoError(t, err)
	svc := registrytest.Unchecked("threat-intel", "1.2.0")
	svc.Instances = []registry.Instance{registrytest.Endpoint("threat-intel", "1.2.0", "ti-1")}
	_, err = reg.RegisterService(ctx, registrytest.Admin, svc)
	require.NoError(t, err)

	verifier, err := auth.NewVerifier(auth.VerifierOptions{Issuer: auth.DevIssuer, Audience: []string{auth.DevAudience}, HMACKey: testKey})
	require.NoError(t, err)
	// Tracing on (spans kept nowhere): executions run in a sampled trace,
	// whose id the console links to the trace viewer.
	tp := sdktrace.NewTracerProvider()
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	api := httpapi.New(httpapi.Options{
		TracerProvider: tp, Propagator: propagation.TraceContext{},
		DB: pool, Store: store, Machines: eng, Details: details, Tokens: httpapi.BrokerStream{Broker: broker},
		Authenticator: verifier, QueueURLs: urls, StreamPoll: 50 * time.Millisecond, Registry: reg, MCP: fakeMCP{},
	})
	def, err := os.ReadFile("testdata/refund-review.yaml")
	require.NoError(t, err)
	_, err = api.Control().Publish(ctx, control.PublishParams{Definition: def, Principal: "dev"})
	require.NoError(t, err)
	// An example with a Map state, to draw.
	def, err = os.ReadFile("../../examples/document-summary.yaml")
	require.NoError(t, err)
	_, err = api.Control().Publish(ctx, control.PublishParams{Definition: def, Principal: "dev"})
	require.NoError(t, err)

	files, err := console.New(console.Options{TraceURL: "http://localhost:16686/trace/{trace_id}"})
	require.NoError(t, err)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, console.Prefix) {
			files.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	token, err := auth.MintDevToken(testKey, "dev", []auth.Role{auth.RoleAdmin}, time.Hour)
	require.NoError(t, err)
	return site{url: srv.URL, token: token}
}

// shots writes screenshots to the folder the run keeps them in.
type shots struct {
	t   *testing.T
	dir string
}

func newShots(t *testing.T) shots {
	t.Helper()
	dir := t.TempDir()
	switch {
	case *update:
		dir = filepath.Join("..", "..", "docs", "console")
	case os.Getenv(screenshotsEnv) != "":
		dir = os.Getenv(screenshotsEnv)
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	t.Logf("screenshots in %s", dir)
	return shots{t: t, dir: dir}
}

// take is an action that saves the page as name.png.
func (s shots) take(name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		buf, err := chromedp.FullScreenshot(100)(ctx, t)
		if err != nil {
			return err
		}
		if !bytes.HasPrefix(buf, []byte("\x89PNG")) {
			return errors.New("the screenshot " + name + " is not a PNG")
		}
		return os.WriteFile(filepath.Join(s.dir, name+".png"), buf, 0o644)
	})
}

// waitFor polls the page until the expression is true (the console
// draws what the API and its stream say, asynchronously).
func waitFor(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond))(ctx, t)
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", expr, err)
		}
		return nil
	})
}

// inside is an expression that is true when the box of the state inner
// is drawn within the box of the state outer.
func inside(inner, outer string) string {
	return fmt.Sprintf(`(() => {
		const box = (n) => document.querySelector('g.node[data-state="' + n + '"] > rect').getBBox();
		const i = box(%q), o = box(%q);
		return i.x > o.x && i.y > o.y && i.x + i.width < o.x + o.width && i.y + i.height < o.y + o.height;
	})()`, inner, outer)
}

// value runs an action that reads a value, failing the test on an error.
func value[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	require.NoError(t, err)
	return v
}

// TestBrowserRunsAWorkflow is the console in Chromium, as a person uses
// it: sign in with the token aiflow dev hands over in the URL's fragment,
// open the workflow and its graph, start it, watch it run on the live
// graph (the model's throttled first answer retried), approve its
// approval from the inbox with a comment in a second tab, and see it
// succeed with the model's reply streamed in, its tokens and cost.
func TestBrowserRunsAWorkflow(t *testing.T) {
	t.Parallel()
	exe := chromium(t)
	s := setupSite(t)
	shot := newShots(t)

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.WindowSize(1280, 900), chromedp.Flag("hide-scrollbars", true))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	t.Cleanup(cancelBrowser)
	// The browser starts on the first run, without a deadline (one would
	// stop it); every step after it has one.
	require.NoError(t, chromedp.Do(browser), "starting %s", exe)
	ctx, cancelTimeout := context.WithTimeout(browser, 2*time.Minute)
	t.Cleanup(cancelTimeout)
	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		require.NoError(t, chromedp.Do(ctx, steps...))
	}

	// Signed in from the fragment, which the console then clears.
	do(chromedp.Navigate(s.url+"/console/#token="+s.token),
		chromedp.WaitVisible(`//table/caption[text()="Published workflows"]`))
	require.Equal(t, "#/workflows", value(t, ctx, chromedp.Evaluate[string](`location.hash`)), "the token left the address bar")
	require.Equal(t, s.token, value(t, ctx, chromedp.Evaluate[string](`sessionStorage.getItem("aiflow.token")`)))
	require.Equal(t, "dev (admin)", value(t, ctx, chromedp.TextContent(chromedp.CSS(`.top .who`))))
	// The keyboard's first stop is the skip link, then the screens.
	var focused []string
	for range 3 {
		do(chromedp.KeyEvent(kb.Tab))
		focused = append(focused, value(t, ctx, chromedp.Evaluate[string](`document.activeElement.textContent`)))
	}
	require.Equal(t, []string{"Skip to content", "Workflows", "Executions"}, focused)
	do(shot.take("workflows"))

	// The workflow's graph: Choice, Parallel with its branches nested.
	do(chromedp.Click(`//a[text()="refund-review"]`),
		chromedp.WaitReady(chromedp.CSS(`svg.graph g.node[data-state="draft"]`)),
		chromedp.WaitReady(chromedp.CSS(`svg.graph g.node.type-parallel[data-state="reply"]`)),
		chromedp.WaitReady(chromedp.CSS(`svg.graph g.node.type-choice[data-state="decide"]`)),
		shot.take("workflow"))

	require.True(t, value(t, ctx, chromedp.Evaluate[bool](inside("draft", "reply"))), "the Parallel's branches are drawn in its box")

	// A Map state holds its item processor.
	do(chromedp.Navigate(s.url+"/console/#/workflows/document-summary"),
		chromedp.WaitReady(chromedp.CSS(`svg.graph g.node.type-map[data-state="summarize_chunks"]`)))
	require.True(t, value(t, ctx, chromedp.Evaluate[bool](inside("summarize_chunk", "summarize_chunks"))), "the Map's states are drawn in its box")
	do(shot.take("workflow-map"))
	do(chromedp.Navigate(s.url+"/console/#/workflows/refund-review"),
		chromedp.WaitReady(chromedp.CSS(`svg.graph g.node[data-state="draft"]`)))

	// Start it from the form; the console shows the new execution.
	do(chromedp.SetValue(chromedp.CSS(`#start-input`), `{"message": "My parcel arrived broken. I would like a refund."}`),
		chromedp.Click(`//button[text()="Start execution"]`),
		waitFor(`location.hash.startsWith("#/executions/")`))
	execHash := value(t, ctx, chromedp.Evaluate[string](`location.hash`))
	// The live graph: classify failed once (AI.Throttled), was retried
	// and succeeded; the approval waits.
	do(waitFor(`document.querySelector('g.node[data-state="approve"]')?.dataset.status === "running"`),
		waitFor(`document.querySelector('g.node[data-state="classify"]')?.dataset.status === "succeeded"`))
	require.Equal(t, "1 failure", value(t, ctx, chromedp.TextContent(chromedp.CSS(`g.node[data-state="classify"] .badge`))))
	do(chromedp.Click(chromedp.CSS(`g.node[data-state="classify"]`)),
		chromedp.WaitVisible(`//div[@id="state-detail"]//strong[text()="AI.Throttled"]`))
	// The summary is read again after the events: the current step, and
	// the first model call's tokens.
	do(waitFor(`[...document.querySelectorAll(".exec-head dd")].some((d) => d.textContent === "approve")`),
		waitFor(`[...document.querySelectorAll(".exec-head dd")].some((d) => d.textContent.includes("(2 model calls)"))`))
	timeline := value(t, ctx, chromedp.TextContent(chromedp.CSS(`details.timeline tbody`)))
	require.Contains(t, timeline, "TaskFailed")
	require.Contains(t, timeline, "AI.Throttled")
	do(shot.take("execution-waiting"))

	// A second tab (which signs in on its own: sessionStorage is the
	// tab's): the approvals inbox. Approve with a comment, from the
	// keyboard.
	inbox, cancelInbox := chromedp.NewContext(ctx)
	t.Cleanup(cancelInbox)
	for i, step := range []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(s.url + "/console/#token=" + s.token),
		chromedp.WaitVisible(`//table/caption[text()="Published workflows"]`),
		chromedp.Click(`//nav//a[text()="Approvals"]`),
		chromedp.WaitVisible(chromedp.CSS(`article[data-approval]`)),
		chromedp.SendKeys(chromedp.CSS(`article[data-approval] textarea`), "Photos attached; refund approved."),
		shot.take("approvals"),
		chromedp.Focus(chromedp.CSS(`article[data-approval] button[data-decision="approve"]`)),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(`//p[text()="No pending approval."]`),
		chromedp.Navigate(s.url + "/console/#/approvals?status=approved"),
		chromedp.WaitVisible(`//article[@data-approval]//p[contains(., "Photos attached; refund approved.")]`),
	} {
		require.NoError(t, chromedp.Do(inbox, step), "step %d in the inbox", i)
	}

	// Back in the first tab, still streaming: the reply's tokens came in
	// as the model wrote them, and the execution succeeded.
	do(waitFor(`document.querySelector(".exec-head .status-succeeded") !== null`),
		waitFor(`document.querySelector('g.node[data-state="done"]')?.dataset.status === "succeeded"`))
	require.Equal(t, execHash, value(t, ctx, chromedp.Evaluate[string](`location.hash`)))
	reply := value(t, ctx, chromedp.TextContent(chromedp.CSS(`.tokens`)))
	require.Contains(t, reply, "draft")
	require.Contains(t, reply, "Your refund is approved and will reach your card within five working days.")
	do(chromedp.Click(chromedp.CSS(`g.node[data-state="draft"]`)),
		chromedp.WaitVisible(`//div[@id="state-detail"]//h3[text()="Output"]`),
		shot.take("execution"))
	head := value(t, ctx, chromedp.TextContent(chromedp.CSS(`.exec-head`)))
	require.Contains(t, head, "SUCCEEDED")
	require.Regexp(t, `\d+ in, \d+ out \(3 model calls\)`, head, "tokens")
	require.Contains(t, head, "$0.", "cost")
	trace := value(t, ctx, chromedp.AttributeValue(chromedp.CSS(`.exec-head a[href^="http://localhost:16686/trace/"]`), "href"))
	require.Regexp(t, `^http://localhost:16686/trace/[0-9a-f]{32}$`, trace.Value, "the trace id, linked to the trace viewer")

	// The executions list, filtered and searched.
	do(chromedp.Navigate(s.url+"/console/#/executions?status=SUCCEEDED&workflow=refund-review"),
		chromedp.WaitVisible(`//table/caption[contains(., "1 execution")]`),
		shot.take("executions"))
	require.Len(t, value(t, ctx, chromedp.Nodes(chromedp.CSSAll(`table tbody tr`))), 1)
	do(chromedp.Navigate(s.url+"/console/#/executions?q=no-such-execution"),
		chromedp.WaitVisible(`//p[text()="No execution matches."]`))

	// The MCP servers and the service registry.
	do(chromedp.Navigate(s.url+"/console/#/mcp"),
		chromedp.WaitVisible(`//td/code[text()="issue_refund"]`),
		shot.take("mcp"),
		chromedp.Navigate(s.url+"/console/#/services"),
		chromedp.WaitVisible(`//h2[text()="threat-intel 1.2.0"]`),
		chromedp.WaitVisible(`//td/code[text()="ti-1"]`),
		shot.take("services"))

	// Signing out forgets the token.
	do(chromedp.Click(`//button[text()="Sign out"]`),
		chromedp.WaitVisible(chromedp.CSS(`#token`)))
	require.Empty(t, value(t, ctx, chromedp.Evaluate[string](`sessionStorage.getItem("aiflow.token") || ""`)))
}

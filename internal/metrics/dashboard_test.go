package metrics_test

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/metrics"
	"github.com/aiflow/aiflow/internal/samtemplate"
)

// defsByName are the metrics the code defines.
func defsByName() map[string]*metrics.Def {
	out := map[string]*metrics.Def{}
	for _, d := range metrics.Defs() {
		out[d.Name] = d
	}
	return out
}

// awsMetrics are the AWS metrics the CloudWatch dashboard may show, by
// namespace, with their dimension.
var awsMetrics = map[string]struct {
	dimension string
	names     []string
}{
	"AWS/States": {"StateMachineArn", []string{"ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted", "ExecutionTime", "ExecutionThrottled"}},
	"AWS/Lambda": {"FunctionName", []string{"Errors", "Duration", "Invocations", "Throttles", "ConcurrentExecutions"}},
	"AWS/SQS":    {"QueueName", []string{"ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage", "NumberOfMessagesSent", "NumberOfMessagesDeleted"}},
}

var searchRE = regexp.MustCompile(`^SEARCH\('\{([^}]*)\} MetricName="([^"]+)"[^']*', '(Sum|Average|Maximum|Minimum|SampleCount|p\d+)', (\d+)\)$`)

// TestCloudWatchDashboard reads the template's dashboard as CloudWatch
// would after CloudFormation substituted it: JSON whose widgets are of
// known types on the 24-column grid, whose metrics name our namespace and
// the metrics the code defines with their exact dimensions (an EMF metric
// is found only with all of them), or the AWS metrics of the stack's
// state machines, functions and queues.
func TestCloudWatchDashboard(t *testing.T) {
	t.Parallel()
	tmpl, err := samtemplate.ParseFile("../../template.yaml")
	require.NoError(t, err)
	res, ok := tmpl.Resources["Dashboard"]
	require.True(t, ok, "the template has a Dashboard")
	require.Equal(t, "AWS::CloudWatch::Dashboard", res.Type)
	require.Empty(t, res.Condition, "every stack has the dashboard")
	sub, ok := res.Properties["DashboardBody"].(map[string]any)["Fn::Sub"].(string)
	require.True(t, ok, "DashboardBody is a !Sub string")
	for _, v := range samtemplate.SubVariables(sub) {
		name, _, _ := strings.Cut(v, ".")
		_, isResource := tmpl.Resources[name]
		require.True(t, isResource || slices.Contains(samtemplate.PseudoParameters, v), "${%s} resolves", v)
		require.Empty(t, tmpl.Resources[name].Condition, "${%s} names a resource every stack has", v)
	}
	body := regexp.MustCompile(`\$\{[^}]+\}`).ReplaceAllString(sub, "x")

	var raw struct {
		Widgets []map[string]any `json:"widgets"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &raw), "the DashboardBody is JSON")
	require.NotEmpty(t, raw.Widgets)
	defs := defsByName()
	shown := map[string]bool{}
	for i, w := range raw.Widgets {
		typ, _ := w["type"].(string)
		require.Contains(t, []string{"metric", "text", "log", "alarm"}, typ, "widget %d", i)
		x, _ := w["x"].(float64)
		width, _ := w["width"].(float64)
		require.Positive(t, width)
		require.LessOrEqual(t, x+width, 24.0, "widget %d fits the grid", i)
		props, _ := w["properties"].(map[string]any)
		require.NotNil(t, props, "widget %d has properties", i)
		if typ == "text" {
			require.NotEmpty(t, props["markdown"])
			continue
		}
		require.NotEmpty(t, props["region"], "widget %d names its region", i)
		require.NotEmpty(t, props["title"])
		rows, _ := props["metrics"].([]any)
		require.NotEmpty(t, rows, "widget %d shows metrics", i)
		for _, r := range rows {
			row := r.([]any)
			if e, ok := row[0].(map[string]any); ok {
				expr, _ := e["expression"].(string)
				m := searchRE.FindStringSubmatch(expr)
				require.NotNil(t, m, "widget %d: %q is a SEARCH of one metric", i, expr)
				schema := strings.Split(m[1], ",")
				ns, dims, name := schema[0], schema[1:], m[2]
				if ns == metrics.Namespace {
					d, ok := defs[name]
					require.True(t, ok, "widget %d: %s is a metric the code defines", i, name)
					require.Equal(t, d.Labels, dims, "widget %d: %s's dimensions are its labels", i, name)
					shown[name] = true
					continue
				}
				aws, ok := awsMetrics[ns]
				require.True(t, ok, "widget %d: namespace %s", i, ns)
				require.Equal(t, []string{aws.dimension}, dims)
				require.Contains(t, aws.names, name)
				continue
			}
			ns, name := row[0].(string), row[1].(string)
			aws, ok := awsMetrics[ns]
			require.True(t, ok, "widget %d: namespace %s", i, ns)
			require.Contains(t, aws.names, name, "widget %d", i)
			require.Equal(t, aws.dimension, row[2], "widget %d: %s by %s", i, name, aws.dimension)
		}
	}
	for _, want := range []string{"aiflow_model_calls_total", "aiflow_model_tokens_total", "aiflow_model_cost_usd_total", "aiflow_step_duration_seconds", "aiflow_mcp_calls_total", "aiflow_service_calls_total", "aiflow_api_requests_total"} {
		require.True(t, shown[want], "the dashboard shows %s", want)
	}
}

var (
	// metricRE finds the metric names of a PromQL expression: aiflow's
	// are all prefixed.
	metricRE = regexp.MustCompile(`\baiflow_[a-z0-9_]+\b`)
	byRE     = regexp.MustCompile(`\bby \(([^)]*)\)`)
	labelRE  = regexp.MustCompile(`\b([a-z_]+)\s*(=~|!=|=)\s*"`)
)

// series returns the Def a Prometheus series name belongs to: the name,
// or a histogram's _bucket, _sum or _count.
func series(defs map[string]*metrics.Def, name string) (*metrics.Def, bool) {
	if d, ok := defs[name]; ok {
		return d, d.Kind != metrics.Histogram
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if d, ok := defs[strings.TrimSuffix(name, suffix)]; ok && strings.HasSuffix(name, suffix) {
			return d, d.Kind == metrics.Histogram
		}
	}
	return nil, false
}

// checkPromQL checks that expr names metrics the code registers, and
// groups and filters by their labels.
func checkPromQL(t *testing.T, where, expr string) {
	t.Helper()
	defs := defsByName()
	names := metricRE.FindAllString(expr, -1)
	require.NotEmpty(t, names, "%s: %q names an aiflow metric", where, expr)
	labels := map[string]bool{}
	for _, n := range names {
		d, ok := series(defs, n)
		require.True(t, ok, "%s: %s is a series of a metric the code registers", where, n)
		for _, l := range d.Labels {
			labels[l] = true
		}
		if strings.HasSuffix(n, "_bucket") {
			labels["le"] = true
		}
	}
	for _, m := range byRE.FindAllStringSubmatch(expr, -1) {
		for _, l := range strings.Split(m[1], ",") {
			require.True(t, labels[strings.TrimSpace(l)], "%s: %q groups by %s, a label of its metrics", where, expr, l)
		}
	}
	for _, m := range labelRE.FindAllStringSubmatch(expr, -1) {
		require.True(t, labels[m[1]], "%s: %q filters on %s, a label of its metrics", where, expr, m[1])
	}
	require.Equal(t, strings.Count(expr, "("), strings.Count(expr, ")"), "%s: %q balances its parentheses", where, expr)
}

// TestGrafanaDashboard reads infra/dashboards/grafana.json as Grafana's
// import would: a dashboard model with its schema's fields, panels on the
// 24-column grid with unique ids, each target's PromQL naming metrics the
// code registers (and grouping by their labels).
func TestGrafanaDashboard(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../infra/dashboards/grafana.json")
	require.NoError(t, err)
	var d struct {
		Title         string `json:"title"`
		UID           string `json:"uid"`
		SchemaVersion int    `json:"schemaVersion"`
		Time          struct {
			From, To string
		} `json:"time"`
		Templating struct {
			List []struct {
				Name       string `json:"name"`
				Type       string `json:"type"`
				Query      any    `json:"query"`
				Definition string `json:"definition"`
			} `json:"list"`
		} `json:"templating"`
		Panels []struct {
			ID         int    `json:"id"`
			Type       string `json:"type"`
			Title      string `json:"title"`
			Datasource *struct {
				Type, UID string
			} `json:"datasource"`
			GridPos struct {
				X, Y, W, H int
			} `json:"gridPos"`
			Targets []struct {
				RefID string `json:"refId"`
				Expr  string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(raw, &d), "grafana.json is JSON")
	require.NotEmpty(t, d.Title)
	require.Regexp(t, `^[a-zA-Z0-9_-]{1,40}$`, d.UID, "a Grafana uid")
	require.GreaterOrEqual(t, d.SchemaVersion, 36)
	require.NotEmpty(t, d.Time.From)
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
		if v.Type == "query" {
			checkPromQL(t, "variable "+v.Name, v.Definition)
		}
	}
	require.True(t, vars["datasource"], "the data source is chosen on import")
	ids := map[int]bool{}
	shown := map[string]bool{}
	for _, p := range d.Panels {
		require.False(t, ids[p.ID], "panel id %d is unique", p.ID)
		ids[p.ID] = true
		require.Contains(t, []string{"row", "timeseries", "stat", "gauge", "table", "bargauge"}, p.Type, p.Title)
		require.NotEmpty(t, p.Title)
		require.Positive(t, p.GridPos.W)
		require.Positive(t, p.GridPos.H)
		require.LessOrEqual(t, p.GridPos.X+p.GridPos.W, 24, p.Title)
		if p.Type == "row" {
			continue
		}
		require.NotNil(t, p.Datasource, p.Title)
		require.Equal(t, "prometheus", p.Datasource.Type)
		require.Equal(t, "${datasource}", p.Datasource.UID)
		require.NotEmpty(t, p.Targets, p.Title)
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			require.False(t, refs[tg.RefID], "%s: refId %s is unique", p.Title, tg.RefID)
			refs[tg.RefID] = true
			checkPromQL(t, p.Title, tg.Expr)
			for _, n := range metricRE.FindAllString(tg.Expr, -1) {
				def, _ := series(defsByName(), n)
				shown[def.Name] = true
			}
		}
	}
	for _, def := range metrics.Defs() {
		require.True(t, shown[def.Name], "the Grafana dashboard shows %s", def.Name)
	}
}

// TestDocsListEveryMetric keeps docs/observability.md's table in step with
// the code: every metric is documented with its labels.
func TestDocsListEveryMetric(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../docs/observability.md")
	require.NoError(t, err)
	doc := string(raw)
	for _, d := range metrics.Defs() {
		i := strings.Index(doc, "| `"+d.Name+"` |")
		require.GreaterOrEqual(t, i, 0, "docs/observability.md documents %s", d.Name)
		row, _, _ := strings.Cut(doc[i:], "\n")
		cells := strings.Split(row, "|")
		for _, l := range d.Labels {
			require.Contains(t, cells[3], "`"+l+"`", "the row of %s names its label %s", d.Name, l)
		}
	}
}

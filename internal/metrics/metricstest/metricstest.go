// Package metricstest reads what package metrics writes, for tests: a
// /metrics page scraped and parsed (Scrape), and EMF log lines parsed and
// checked against the CloudWatch Embedded Metric Format specification
// (ParseEMF).
package metricstest

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"regexp"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

// Families are the metric families of a scrape, by name.
type Families map[string]*dto.MetricFamily

// Scrape gets url (a /metrics page) and parses its text exposition.
func Scrape(t testing.TB, url string) Families {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return Parse(t, resp.Body)
}

// Parse parses a text exposition.
func Parse(t testing.TB, r io.Reader) Families {
	t.Helper()
	fams, err := Read(r)
	require.NoError(t, err)
	return fams
}

// Read parses a text exposition as Parse does, returning its error, for
// a goroutine that may not fail the test itself.
func Read(r io.Reader) (Families, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(r)
}

// Value sums the series of the metric name whose labels include labels:
// a counter's or a gauge's value, a histogram's count of observations.
// It is 0 when there is none.
func (f Families) Value(name string, labels map[string]string) float64 {
	fam, ok := f[name]
	if !ok {
		return 0
	}
	var sum float64
	for _, m := range fam.GetMetric() {
		if !matches(m, labels) {
			continue
		}
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		case m.Untyped != nil:
			sum += m.Untyped.GetValue()
		}
	}
	return sum
}

func matches(m *dto.Metric, want map[string]string) bool {
	have := map[string]string{}
	for _, l := range m.GetLabel() {
		have[l.GetName()] = l.GetValue()
	}
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// EMFLine is one EMF log line, checked: its directive and its root
// members.
type EMFLine struct {
	Timestamp  int64
	Namespace  string
	Dimensions [][]string
	// Units are the metrics' units, by name.
	Units map[string]string
	// Root are the line's top-level members but _aws.
	Root map[string]any
}

// Value returns the metric's value in the line: its number, or the sum of
// its array of values.
func (l EMFLine) Value(name string) float64 {
	switch v := l.Root[name].(type) {
	case float64:
		return v
	case []any:
		var s float64
		for _, x := range v {
			s += x.(float64)
		}
		return s
	}
	return math.NaN()
}

// The CloudWatch units a MetricDefinition may name.
var emfUnits = map[string]bool{
	"Seconds": true, "Microseconds": true, "Milliseconds": true, "Bytes": true, "Kilobytes": true, "Megabytes": true,
	"Gigabytes": true, "Terabytes": true, "Bits": true, "Kilobits": true, "Megabits": true, "Gigabits": true, "Terabits": true,
	"Percent": true, "Count": true, "Bytes/Second": true, "Kilobytes/Second": true, "Megabytes/Second": true,
	"Gigabytes/Second": true, "Terabytes/Second": true, "Bits/Second": true, "Kilobits/Second": true, "Megabits/Second": true,
	"Gigabits/Second": true, "Terabits/Second": true, "Count/Second": true, "None": true,
}

var namespaceRE = regexp.MustCompile(`^[a-zA-Z0-9._#:/-]{1,255}$`)

// ParseEMF parses out, lines of a log, and checks each line that holds an
// "_aws" member against the specification: a JSON object whose _aws has a
// Timestamp in milliseconds and CloudWatchMetrics, each directive a
// Namespace, Dimensions (sets of at most 30 keys, each a string member of
// the root) and at most 100 Metrics (a Name, a known Unit) whose values
// are root members, numbers or arrays of at most 100 numbers. Other lines
// are skipped.
func ParseEMF(t testing.TB, out []byte) []EMFLine {
	t.Helper()
	var lines []EMFLine
	for _, raw := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if !strings.Contains(raw, `"_aws"`) {
			continue
		}
		lines = append(lines, checkEMF(t, raw))
	}
	return lines
}

func checkEMF(t testing.TB, raw string) EMFLine {
	t.Helper()
	var root map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(raw), &root), "an EMF line is one JSON object: %s", raw)
	var meta struct {
		Timestamp         *int64 `json:"Timestamp"`
		CloudWatchMetrics []struct {
			Namespace  string     `json:"Namespace"`
			Dimensions [][]string `json:"Dimensions"`
			Metrics    []struct {
				Name string `json:"Name"`
				Unit string `json:"Unit"`
			} `json:"Metrics"`
		} `json:"CloudWatchMetrics"`
	}
	dec := json.NewDecoder(strings.NewReader(string(root["_aws"])))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&meta), "the _aws member: %s", raw)
	require.NotNil(t, meta.Timestamp, "_aws.Timestamp is required: %s", raw)
	require.Positive(t, *meta.Timestamp)
	require.Len(t, meta.CloudWatchMetrics, 1, "one directive per line: %s", raw)
	dir := meta.CloudWatchMetrics[0]
	require.Regexp(t, namespaceRE, dir.Namespace)
	line := EMFLine{Timestamp: *meta.Timestamp, Namespace: dir.Namespace, Dimensions: dir.Dimensions, Units: map[string]string{}, Root: map[string]any{}}
	for k, v := range root {
		if k == "_aws" {
			continue
		}
		var x any
		require.NoError(t, json.Unmarshal(v, &x))
		line.Root[k] = x
	}
	require.NotNil(t, dir.Dimensions, "Dimensions is required: %s", raw)
	for _, set := range dir.Dimensions {
		require.LessOrEqual(t, len(set), 30, "a dimension set has at most 30 keys")
		for _, k := range set {
			v, ok := line.Root[k].(string)
			require.True(t, ok, "dimension %s is a string member of the root: %s", k, raw)
			require.NotEmpty(t, v, "dimension %s has a value", k)
			require.LessOrEqual(t, len(v), 1024)
		}
	}
	require.NotEmpty(t, dir.Metrics, "a directive names metrics: %s", raw)
	require.LessOrEqual(t, len(dir.Metrics), 100)
	for _, m := range dir.Metrics {
		require.NotEmpty(t, m.Name)
		require.LessOrEqual(t, len(m.Name), 1024)
		if m.Unit != "" {
			require.True(t, emfUnits[m.Unit], "unit %q of %s is a CloudWatch unit", m.Unit, m.Name)
		}
		line.Units[m.Name] = m.Unit
		switch v := line.Root[m.Name].(type) {
		case float64:
		case []any:
			require.NotEmpty(t, v, "metric %s has values", m.Name)
			require.LessOrEqual(t, len(v), 100, "metric %s has at most 100 values", m.Name)
			for _, x := range v {
				_, ok := x.(float64)
				require.True(t, ok, "metric %s's values are numbers", m.Name)
			}
		default:
			require.Fail(t, fmt.Sprintf("metric %s has no number at the root: %s", m.Name, raw))
		}
	}
	return line
}

// Find returns the lines that carry the metric name with the dimension
// values dims.
func Find(lines []EMFLine, name string, dims map[string]string) []EMFLine {
	var out []EMFLine
	for _, l := range lines {
		if _, ok := l.Units[name]; !ok {
			continue
		}
		ok := true
		for k, v := range dims {
			if l.Root[k] != v {
				ok = false
			}
		}
		if ok {
			out = append(out, l)
		}
	}
	return out
}

package faultsuite_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/pgcluster"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
	"github.com/aiflow/aiflow/internal/task"
)

// terminal are the statuses an execution ends in.
var terminal = map[string]bool{"SUCCEEDED": true, "FAILED": true, "TIMED_OUT": true, "ABORTED": true}

// suite is one run: the database cluster, the aiflow dev child and the
// acknowledged starts.
type suite struct {
	t        *testing.T
	root     string
	bin      string
	dataDir  string
	logPath  string
	httpAddr string
	engAddr  string
	bins     pgcluster.Binaries
	pgDir    string
	pgPort   int

	mu      sync.Mutex
	cluster *pgcluster.Cluster
	dev     *exec.Cmd
	devDone chan struct{}
	token   string

	acked  map[string]string // idempotency key -> execution id
	faults []string
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// startPG starts (or starts again) the persistent cluster on its port.
func (s *suite) startPG() {
	s.t.Helper()
	c, err := pgcluster.Start(context.Background(), pgcluster.Options{Binaries: s.bins, Dir: s.pgDir, Port: s.pgPort})
	require.NoError(s.t, err)
	s.mu.Lock()
	s.cluster, s.pgPort = c, c.Port()
	s.mu.Unlock()
}

// startDev starts aiflow dev and waits until it is ready.
func (s *suite) startDev() {
	s.t.Helper()
	log, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	require.NoError(s.t, err)
	cmd := exec.Command(s.bin, "dev")
	cmd.Dir = s.root
	cmd.Env = append(os.Environ(),
		"DATABASE_URL="+s.cluster.URL("aiflow"),
		"AIFLOW_HTTP_ADDR="+s.httpAddr, "AIFLOW_ENGINE_ADDR="+s.engAddr,
		"AIFLOW_DATA_DIR="+s.dataDir, "AIFLOW_LOG_LEVEL=warn",
		"AIFLOW_AI_SCRIPT="+filepath.Join(s.root, "examples", "scripts", "scripted.yaml"),
	)
	cmd.Stdout, cmd.Stderr = log, log
	require.NoError(s.t, cmd.Start())
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		log.Close()
		close(done)
	}()
	s.mu.Lock()
	s.dev, s.devDone = cmd, done
	s.mu.Unlock()
	require.Eventually(s.t, func() bool {
		select {
		case <-done:
			require.FailNow(s.t, "aiflow dev exited while starting", s.logTail())
		default:
		}
		resp, err := http.Get("http://" + s.httpAddr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 3*time.Minute, 50*time.Millisecond, "aiflow dev never became ready:\n%s", s.logTail())
	raw, err := os.ReadFile(filepath.Join(s.dataDir, "dev-token"))
	require.NoError(s.t, err)
	s.mu.Lock()
	s.token = strings.TrimSpace(string(raw))
	s.mu.Unlock()
}

func (s *suite) logTail() string {
	raw, _ := os.ReadFile(s.logPath)
	if len(raw) > 4000 {
		raw = raw[len(raw)-4000:]
	}
	return string(raw)
}

// signalDev sends sig to aiflow dev.
func (s *suite) signalDev(sig syscall.Signal) {
	s.mu.Lock()
	p := s.dev.Process
	s.mu.Unlock()
	_ = p.Signal(sig)
}

// request sends a request to the HTTP API with the development token.
func (s *suite) request(method, path string, body []byte, header map[string]string) (int, []byte, error) {
	s.mu.Lock()
	token := s.token
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, "http://"+s.httpAddr+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, err
}

// start starts one support-triage execution under key, retrying with the
// same key until it is acknowledged or the deadline passes; it records
// what was acknowledged.
func (s *suite) start(key string, deadline time.Time) {
	body := fmt.Appendf(nil, `{"input": {"message": "Where is my order? It has been a week. (ref %s)", "customer_email": "ada@example.com", "order_id": 1042, "channel": "web"}}`, key)
	for time.Now().Before(deadline) {
		status, raw, err := s.request(http.MethodPost, "/v1/workflows/support-triage/executions", body, map[string]string{"Idempotency-Key": key})
		if err == nil && status == http.StatusCreated {
			var e struct {
				ID string `json:"id"`
			}
			if json.Unmarshal(raw, &e) == nil && e.ID != "" {
				s.mu.Lock()
				s.acked[key] = e.ID
				s.mu.Unlock()
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func duration(t *testing.T) time.Duration {
	if v := os.Getenv("AIFLOW_FAULT_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		require.NoError(t, err, "AIFLOW_FAULT_DURATION")
		return d
	}
	return 20 * time.Second
}

func TestFaultSuite(t *testing.T) {
	if testing.Short() {
		t.Skip("the fault suite runs aiflow dev and PostgreSQL through faults")
	}
	bins, err := pgcluster.FindBinaries(os.Getenv("AIFLOW_PG_BINDIR"))
	if err != nil {
		t.Skipf("no PostgreSQL binaries: %v", err)
	}
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	tmp := pgclustertest.ReachableTempDir(t)
	s := &suite{
		t: t, root: root, bins: bins, pgDir: filepath.Join(tmp, "pg"),
		bin: filepath.Join(tmp, "aiflow"), dataDir: filepath.Join(tmp, "data"), logPath: filepath.Join(tmp, "dev.log"),
		httpAddr: freeAddr(t), engAddr: freeAddr(t), acked: map[string]string{},
	}
	build := exec.Command("go", "build", "-o", s.bin, "./cmd/aiflow")
	build.Dir = root
	out, err := build.CombinedOutput()
	require.NoError(t, err, "building aiflow: %s", out)

	s.startPG()
	require.NoError(t, s.cluster.EnsureDatabase(context.Background(), "aiflow"))
	s.startDev()
	t.Cleanup(func() {
		s.signalDev(syscall.SIGKILL)
		<-s.devDone
		s.mu.Lock()
		c := s.cluster
		s.mu.Unlock()
		_ = c.Stop(context.Background())
		if t.Failed() {
			t.Logf("aiflow dev's log, its end:\n%s", s.logTail())
			// AIFLOW_FAULT_LOG_DIR keeps the whole log of a failed run.
			if dir := os.Getenv("AIFLOW_FAULT_LOG_DIR"); dir != "" {
				if raw, err := os.ReadFile(s.logPath); err == nil {
					f, err := os.CreateTemp(dir, "dev-*.log")
					if err == nil {
						_, _ = f.Write(raw)
						_ = f.Close()
						t.Logf("aiflow dev's whole log: %s", f.Name())
					}
				}
			}
		}
	})

	// The load: a start every 250 ms, each retried under its key until
	// acknowledged, while the faults run.
	total := duration(t)
	loadEnd := time.Now().Add(total)
	var load sync.WaitGroup
	load.Go(func() {
		for n := 0; time.Now().Before(loadEnd); n++ {
			key := "fault-" + strconv.Itoa(n)
			load.Go(func() { s.start(key, loadEnd.Add(time.Minute)) })
			time.Sleep(250 * time.Millisecond)
		}
	})

	// The faults, in turn, with a breath between them, until the load ends.
	faults := []struct {
		name string
		run  func()
	}{
		{"SIGKILL of aiflow dev, then a restart", func() {
			s.signalDev(syscall.SIGKILL)
			<-s.devDone
			s.startDev()
		}},
		{"PostgreSQL stopped at once (immediate shutdown), then started", func() {
			s.mu.Lock()
			c := s.cluster
			s.mu.Unlock()
			require.NoError(t, c.Crash(context.Background()))
			time.Sleep(2 * time.Second)
			s.startPG()
		}},
		{"a storm of terminated backends", func() {
			for range 5 {
				conn, err := pgx.Connect(context.Background(), s.cluster.URL("postgres"))
				if err == nil {
					_, _ = conn.Exec(context.Background(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'aiflow' AND pid <> pg_backend_pid()`)
					_ = conn.Close(context.Background())
				}
				time.Sleep(200 * time.Millisecond)
			}
		}},
		{"SIGSTOP of aiflow dev for 3 s, then SIGCONT", func() {
			s.signalDev(syscall.SIGSTOP)
			time.Sleep(3 * time.Second)
			s.signalDev(syscall.SIGCONT)
		}},
	}
	for i := 0; i < len(faults) || time.Now().Add(5*time.Second).Before(loadEnd); i++ {
		time.Sleep(2 * time.Second)
		f := faults[i%len(faults)]
		t.Logf("fault: %s", f.name)
		s.faults = append(s.faults, f.name)
		f.run()
	}
	load.Wait()

	s.mu.Lock()
	acked := make(map[string]string, len(s.acked))
	for k, v := range s.acked {
		acked[k] = v
	}
	s.mu.Unlock()
	require.NotEmpty(t, acked, "no start was acknowledged")
	t.Logf("%d starts acknowledged through %d faults", len(acked), len(s.faults))
	s.check(acked)
}

// check asserts what must hold after recovery.
func (s *suite) check(acked map[string]string) {
	t := s.t
	// Every acknowledged start exists and ends, within a bound. The API's
	// rate limit (per principal) paces the polling: a 429 or a 503 is
	// asked again later.
	statuses := map[string]string{}
	running := func() []string {
		var ids []string
		for _, id := range acked {
			if !terminal[statuses[id]] {
				ids = append(ids, id)
			}
		}
		return ids
	}
	require.Eventually(t, func() bool {
		for _, id := range running() {
			status, raw, err := s.request(http.MethodGet, "/v1/executions/"+id, nil, nil)
			if err != nil || status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests {
				return false
			}
			require.Equal(t, http.StatusOK, status, "an acknowledged execution %s: %s", id, raw)
			var e struct {
				Status string `json:"status"`
			}
			require.NoError(t, json.Unmarshal(raw, &e))
			statuses[id] = e.Status
		}
		return len(running()) == 0
	}, 5*time.Minute, 500*time.Millisecond, "executions not ended after recovery")
	counts := map[string]int{}
	for _, st := range statuses {
		counts[st]++
	}
	t.Logf("statuses: %v", counts)

	// Every history is well formed: ids from 1, in order, started first,
	// ended last.
	histories := map[string][]json.RawMessage{}
	for _, id := range acked {
		var types []string
		cursor := ""
		for {
			path := "/v1/executions/" + id + "/events?limit=100"
			if cursor != "" {
				path += "&cursor=" + cursor
			}
			status, raw, err := s.request(http.MethodGet, path, nil, nil)
			for attempt := 0; err == nil && status == http.StatusTooManyRequests && attempt < 50; attempt++ {
				time.Sleep(200 * time.Millisecond)
				status, raw, err = s.request(http.MethodGet, path, nil, nil)
			}
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, status, "%s: %s", path, raw)
			var page struct {
				Items []struct {
					ID   int64  `json:"id"`
					Type string `json:"type"`
				} `json:"items"`
				NextCursor string `json:"next_cursor"`
			}
			require.NoError(t, json.Unmarshal(raw, &page))
			var rawPage struct {
				Items []json.RawMessage `json:"items"`
			}
			require.NoError(t, json.Unmarshal(raw, &rawPage))
			histories[id] = append(histories[id], rawPage.Items...)
			for _, ev := range page.Items {
				require.Equal(t, int64(len(types)+1), ev.ID, "the history of %s numbers its events in order", id)
				types = append(types, ev.Type)
			}
			if page.NextCursor == "" {
				break
			}
			cursor = page.NextCursor
		}
		require.NotEmpty(t, types, id)
		require.Equal(t, "ExecutionStarted", types[0], id)
		last := types[len(types)-1]
		require.True(t, strings.HasPrefix(last, "Execution") && last != "ExecutionStarted", "the history of %s ends with %s", id, last)
	}

	// No support-desk effect happened twice, and every acknowledged start
	// is audited.
	conn, err := pgx.Connect(context.Background(), s.cluster.URL("aiflow"))
	require.NoError(t, err)
	defer conn.Close(context.Background())
	var dupTickets int
	require.NoError(t, conn.QueryRow(context.Background(), `SELECT count(*) FROM (
		SELECT description FROM support.tickets WHERE description LIKE '%(ref fault-%' GROUP BY description HAVING count(*) > 1) d`).Scan(&dupTickets))
	if dupTickets > 0 {
		s.explainDuplicates(conn, acked, histories, `SELECT id FROM support.tickets WHERE description IN (
			SELECT description FROM support.tickets WHERE description LIKE '%(ref fault-%' GROUP BY description HAVING count(*) > 1)`)
	}
	require.Zero(t, dupTickets, "tickets created twice for one execution")
	var dupComments int
	require.NoError(t, conn.QueryRow(context.Background(), `SELECT count(*) FROM (
		SELECT ticket_id, kind, body FROM support.ticket_comments GROUP BY ticket_id, kind, body HAVING count(*) > 1) d`).Scan(&dupComments))
	if dupComments > 0 {
		s.explainDuplicates(conn, acked, histories, `SELECT ticket_id FROM support.ticket_comments WHERE (ticket_id, kind, body) IN (
			SELECT ticket_id, kind, body FROM support.ticket_comments GROUP BY ticket_id, kind, body HAVING count(*) > 1)`)
	}
	require.Zero(t, dupComments, "the same comment added twice to a ticket")

	rows, err := conn.Query(context.Background(), `SELECT DISTINCT details->>'execution' FROM api.audit_log WHERE action = 'executions:start' AND outcome = 'succeeded'`)
	require.NoError(t, err)
	audited := map[string]bool{}
	for rows.Next() {
		var id *string
		require.NoError(t, rows.Scan(&id))
		if id != nil {
			audited[*id] = true
		}
	}
	require.NoError(t, rows.Err())
	var missing []string
	for _, id := range acked {
		if !audited[id] {
			missing = append(missing, id)
		}
	}
	require.Empty(t, missing, "acknowledged starts without an audit record")
}

// explainDuplicates logs what a failure of the effect checks needs to be
// understood: for each ticket the query selects, its comments, the
// idempotency keys its changes were made under (each matched with the
// task message of its execution's history that carries it, if any), the
// executions whose input names its start, and their histories.
func (s *suite) explainDuplicates(conn *pgx.Conn, acked map[string]string, histories map[string][]json.RawMessage, ticketsQuery string) {
	t := s.t
	ctx := context.Background()
	rows, err := conn.Query(ctx, ticketsQuery)
	if err != nil {
		t.Logf("selecting the tickets to explain: %v", err)
		return
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Logf("selecting the tickets to explain: %v", err)
		return
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	// The key of every task message in the histories read, by key.
	messages := map[string]string{}
	for id, events := range histories {
		for _, raw := range events {
			var ev struct {
				ID            int64  `json:"id"`
				Type          string `json:"type"`
				TaskScheduled *struct {
					Parameters string `json:"parameters"`
				} `json:"taskScheduledEventDetails"`
			}
			if json.Unmarshal(raw, &ev) != nil || ev.TaskScheduled == nil {
				continue
			}
			var params struct {
				MessageBody json.RawMessage `json:"MessageBody"`
			}
			if json.Unmarshal([]byte(ev.TaskScheduled.Parameters), &params) != nil {
				continue
			}
			body := string(params.MessageBody)
			var str string
			if json.Unmarshal(params.MessageBody, &str) == nil {
				body = str
			}
			m, err := task.Decode(body)
			if err != nil {
				continue
			}
			messages[m.IdempotencyKey()] = fmt.Sprintf("%s event %d (%s, attempt %d, entered %s)", id, ev.ID, m.Step.ID, m.Step.Attempt, m.Step.EnteredTime)
		}
	}
	for _, ticket := range ids {
		var description string
		var created time.Time
		if err := conn.QueryRow(ctx, `SELECT description, created_at FROM support.tickets WHERE id = $1`, ticket).Scan(&description, &created); err != nil {
			t.Logf("reading ticket %d: %v", ticket, err)
			continue
		}
		t.Logf("ticket %d, created at %s: %q", ticket, created.Format(time.RFC3339Nano), description)
		comments, err := conn.Query(ctx, `SELECT id, kind, author, created_at, left(body, 60) FROM support.ticket_comments WHERE ticket_id = $1 ORDER BY id`, ticket)
		if err == nil {
			for comments.Next() {
				var id int64
				var kind, author, body string
				var at time.Time
				if comments.Scan(&id, &kind, &author, &at, &body) == nil {
					t.Logf("  comment %d: %s by %s at %s: %q", id, kind, author, at.Format(time.RFC3339Nano), body)
				}
			}
			comments.Close()
		}
		keys, err := conn.Query(ctx, `SELECT actor, key, tool, created_at, result::text FROM support.idempotency_keys
			WHERE result->>'ticket_id' = $1 ORDER BY created_at`, strconv.FormatInt(ticket, 10))
		if err == nil {
			for keys.Next() {
				var actor, key, tool, result string
				var at time.Time
				if keys.Scan(&actor, &key, &tool, &at, &result) == nil {
					from := messages[key]
					if from == "" {
						from = "no task message of the histories read"
					}
					t.Logf("  key %s of %s (%s) at %s, from %s: %s", key, actor, tool, at.Format(time.RFC3339Nano), from, result)
				}
			}
			keys.Close()
		}
		ref := description[strings.LastIndex(description, "(ref ")+len("(ref ") : len(description)-1]
		execs, err := conn.Query(ctx, `SELECT arn, status, start_date FROM engine.executions WHERE input LIKE '%' || $1 || '%' ORDER BY start_date`, "(ref "+ref+")")
		if err == nil {
			for execs.Next() {
				var arn, status string
				var start time.Time
				if execs.Scan(&arn, &status, &start) == nil {
					t.Logf("  execution %s (%s, started %s); acknowledged as %s", arn, status, start.Format(time.RFC3339Nano), acked[ref])
				}
			}
			execs.Close()
		}
		if id := acked[ref]; id != "" {
			for _, ev := range histories[id] {
				t.Logf("    %s", ev)
			}
		}
	}
}

package ai

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"
)

// readAll reads every event of stream, through a reader that hands over
// one byte at a time when oneByte is set, so every event and line is split
// across reads.
func readAll(t *testing.T, stream string, oneByte bool) ([]Event, error) {
	t.Helper()
	var r io.Reader = strings.NewReader(stream)
	if oneByte {
		r = iotest.OneByteReader(r)
	}
	events := NewEventReader(r)
	var out []Event
	for {
		ev, err := events.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return out, err
		}
		out = append(out, Event{Name: ev.Name, Data: append([]byte(nil), ev.Data...)})
		require.Equal(t, len(out), events.Events())
	}
}

func TestEventReader(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		stream string
		want   []Event
	}{
		"named events": {
			"event: message_start\ndata: {\"a\":1}\n\nevent: ping\ndata: {}\n\n",
			[]Event{{"message_start", []byte(`{"a":1}`)}, {"ping", []byte(`{}`)}},
		},
		"data lines joined with a newline": {
			"data: first\ndata: second\ndata:third\n\n",
			[]Event{{"", []byte("first\nsecond\nthird")}},
		},
		"CRLF and lone CR line endings": {
			"event: a\r\ndata: 1\r\n\r\nevent: b\rdata: 2\r\rdata: 3\n\n",
			[]Event{{"a", []byte("1")}, {"b", []byte("2")}, {"", []byte("3")}},
		},
		"comments, ids, retries and unknown fields are skipped": {
			": keep-alive\nid: 7\nretry: 1000\nfoo: bar\ndata: x\n\n",
			[]Event{{"", []byte("x")}},
		},
		"an event without data is not dispatched, and its name is forgotten": {
			"event: lonely\n\ndata: [DONE]\n\n",
			[]Event{{"", []byte("[DONE]")}},
		},
		"only the first space after the colon is dropped": {
			"data:  two spaces\n\n",
			[]Event{{"", []byte(" two spaces")}},
		},
		"an event cut short by the end is dropped": {
			"data: whole\n\ndata: cut",
			[]Event{{"", []byte("whole")}},
		},
		"an event without its blank line at the end is dropped": {
			"data: whole\n\ndata: almost\n",
			[]Event{{"", []byte("whole")}},
		},
		"blank lines between events": {
			"\n\n\ndata: a\n\n\n\ndata: b\n\n",
			[]Event{{"", []byte("a")}, {"", []byte("b")}},
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, oneByte := range []bool{false, true} {
				got, err := readAll(t, tc.stream, oneByte)
				require.NoError(t, err)
				require.Equal(t, tc.want, got, "one byte a read: %v", oneByte)
			}
		})
	}
}

func TestEventReaderReadError(t *testing.T) {
	t.Parallel()
	broken := errors.New("connection reset by peer")
	events := NewEventReader(io.MultiReader(strings.NewReader("data: a\n\ndata: b"), iotest.ErrReader(broken)))
	ev, err := events.Next()
	require.NoError(t, err)
	require.Equal(t, "a", string(ev.Data))
	_, err = events.Next()
	require.ErrorIs(t, err, broken)
}

func TestEventReaderTooLarge(t *testing.T) {
	t.Parallel()
	read := func(stream string) error {
		events := NewEventReader(strings.NewReader(stream))
		events.max = 1024
		for {
			if _, err := events.Next(); err != nil {
				return err
			}
		}
	}
	line := "data: " + strings.Repeat("x", 300) + "\n"
	require.ErrorIs(t, read(strings.Repeat(line, 4)+"\n"), ErrEventTooLarge, "data lines that add up past the limit")
	require.ErrorIs(t, read("data: "+strings.Repeat("y", 1025)+"\n\n"), ErrEventTooLarge, "one line past the limit")
	require.ErrorIs(t, read(strings.Repeat(line, 3)+"\n"+strings.Repeat(line, 3)+"\n"), io.EOF, "events under the limit, one after the other")
}

func TestStreamError(t *testing.T) {
	t.Parallel()
	e := StreamError("openai", 3, "event %d is not JSON", 3)
	require.Equal(t, CodeUnavailable, e.Code)
	require.Equal(t, "AI.Unavailable: openai: reading the answer stream (after 3 events): event 3 is not JSON", e.Error())
}

func TestEndpoint(t *testing.T) {
	t.Parallel()
	for base, want := range map[string]string{
		"https://api.openai.com/v1/":     "https://api.openai.com/v1/chat/completions",
		"https://api.openai.com/v1":      "https://api.openai.com/v1/chat/completions",
		"http://127.0.0.1:8080":          "http://127.0.0.1:8080/chat/completions",
		"http://127.0.0.1:8080/":         "http://127.0.0.1:8080/chat/completions",
		"http://proxy/openai/v1?x=1":     "http://proxy/openai/v1/chat/completions",
		"https://gateway.example/a%2Fb/": "https://gateway.example/a%2Fb/chat/completions",
	} {
		got, err := Endpoint(base, "chat/completions")
		require.NoError(t, err, base)
		require.Equal(t, want, got, base)
	}
	for _, base := range []string{"api.openai.com/v1", "://nope", "/v1"} {
		_, err := Endpoint(base, "chat/completions")
		require.Error(t, err, base)
	}
}

func TestAddCustomHeaders(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	AddCustomHeaders(h, "X-Gateway-Key: abc\n  Helicone-Auth :  Bearer k  \nno colon here\n: empty name\n")
	require.Equal(t, http.Header{"X-Gateway-Key": {"abc"}, "Helicone-Auth": {"Bearer k"}}, h)
	AddCustomHeaders(h, "")
	require.Len(t, h, 2)
}

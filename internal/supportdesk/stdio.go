package supportdesk

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// StdioParams configure NewStdioTransport.
type StdioParams struct {
	// In carries the client's messages, one JSON-RPC message a line
	// (os.Stdin).
	In io.ReadCloser
	// Out carries the server's messages (os.Stdout). The transport never
	// closes it: its owner does.
	Out io.Writer
	// MaxMessageBytes bounds one line; a longer line is answered with an
	// Invalid Request error and skipped. 0 means mcp.DefaultMaxLineLength.
	MaxMessageBytes int
	// Logger receives a line for each message refused; nil discards them.
	Logger *slog.Logger
}

// NewStdioTransport returns the MCP stdio transport (newline-delimited
// JSON-RPC on p.In and p.Out) with a gate in front of the SDK's reader: the
// SDK ends the session on a line it cannot take (a JSON-RPC batch under
// protocol 2025-06-18 and later, text that is not JSON, JSON that is not a
// JSON-RPC message, a line over its limit), so every such line is answered
// here with the JSON-RPC 2.0 error the specification gives (-32700 Parse
// error, -32600 Invalid Request) and the server keeps serving. Batches are
// refused under every protocol version: MCP removed them in 2025-06-18 and
// never allowed initialize in one; a refused batch is answered with an
// array holding an Invalid Request error for each request in it (none for
// its notifications), and nothing in it runs.
func NewStdioTransport(p StdioParams) *mcp.IOTransport {
	limit := p.MaxMessageBytes
	if limit <= 0 {
		limit = mcp.DefaultMaxLineLength
	}
	logger := p.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	out := &lockedWriter{w: p.Out}
	return &mcp.IOTransport{
		Reader: &gatedReader{
			in:     p.In,
			lines:  bufio.NewReaderSize(p.In, 64*1024),
			out:    out,
			limit:  limit,
			logger: logger,
		},
		Writer: out,
		// The gate bounds a line; the SDK's own bound only has to let
		// every line the gate passes through.
		MaxLineLength: -1,
	}
}

// lockedWriter makes each Write whole: the SDK writes one message per call
// from its goroutines, and the gate writes its answers from the reading
// one. Its Close leaves the writer open, as the SDK's own stdio transport
// leaves stdout.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lockedWriter) Close() error { return nil }

// gatedReader hands the SDK only lines it decodes as one JSON-RPC message,
// answering the others itself. It runs on the SDK's reading goroutine and
// starts none of its own.
type gatedReader struct {
	in     io.Closer
	lines  *bufio.Reader
	out    io.Writer
	limit  int
	logger *slog.Logger

	pending []byte // the rest of the line being handed over
	err     error  // the input's error, returned once pending is empty
}

func (g *gatedReader) Close() error { return g.in.Close() }

func (g *gatedReader) Read(p []byte) (int, error) {
	for len(g.pending) == 0 {
		if g.err != nil {
			return 0, g.err
		}
		line, tooLong, err := g.readLine()
		if err != nil {
			g.err = err
		}
		if tooLong {
			g.answer(invalidRequest(nullID, fmt.Sprintf("the message is longer than %d bytes", g.limit)))
			continue
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		answer, refused := screen(line)
		if !refused {
			g.pending = append(line, '\n')
			break
		}
		if answer != nil {
			g.answer(answer)
		}
	}
	n := copy(p, g.pending)
	g.pending = g.pending[n:]
	return n, nil
}

// readLine returns the next line without its newline; tooLong reports a
// line over the limit, which is read to its end and dropped. err is the
// input's error after the last line (io.EOF at the end).
func (g *gatedReader) readLine() (line []byte, tooLong bool, err error) {
	var buf []byte
	for {
		chunk, err := g.lines.ReadSlice('\n')
		if !tooLong {
			if len(buf)+len(chunk) > g.limit+1 { // +1: the newline
				tooLong, buf = true, nil
			} else {
				buf = append(buf, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return bytes.TrimSuffix(buf, []byte("\n")), tooLong, err
	}
}

func (g *gatedReader) answer(msg []byte) {
	g.logger.Warn("mcp stdio: refused a message", "answer", string(msg))
	// A failed write surfaces on the SDK's next write, which ends the
	// session; the gate has nothing to add.
	_, _ = g.out.Write(append(msg, '\n'))
}

// nullID is the id of an answer to a message whose id cannot be read.
var nullID = json.RawMessage("null")

// screen decides one line: refused is false when the SDK can take it, else
// answer is what the client gets (nil for a batch of notifications only,
// which the specification answers with nothing).
func screen(line []byte) (answer []byte, refused bool) {
	if !json.Valid(line) {
		return parseError(), true
	}
	if line[0] == '[' {
		return refuseBatch(line), true
	}
	if _, err := jsonrpc.DecodeMessage(line); err != nil {
		return invalidRequest(idOf(line), fmt.Sprintf("not a JSON-RPC 2.0 message: %v", err)), true
	}
	return nil, false
}

const batchRefused = "JSON-RPC batches are not supported (MCP removed them in 2025-06-18): send each message on its own line"

func refuseBatch(line []byte) []byte {
	var elems []json.RawMessage
	if err := json.Unmarshal(line, &elems); err != nil || len(elems) == 0 {
		// An empty array gets one error, not an empty array (JSON-RPC 2.0,
		// section 6).
		return invalidRequest(nullID, batchRefused)
	}
	var answers []json.RawMessage
	for _, elem := range elems {
		msg, err := jsonrpc.DecodeMessage(elem)
		if err != nil {
			answers = append(answers, invalidRequest(idOf(elem), batchRefused))
			continue
		}
		if req, ok := msg.(*jsonrpc.Request); ok && req.IsCall() {
			answers = append(answers, invalidRequest(idOf(elem), batchRefused))
		}
	}
	if len(answers) == 0 {
		return nil
	}
	out, err := json.Marshal(answers)
	if err != nil {
		return invalidRequest(nullID, batchRefused)
	}
	return out
}

// idOf returns a message's id when it is one JSON-RPC allows (a string or
// a number), else null.
func idOf(msg []byte) json.RawMessage {
	var m struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(msg, &m) != nil || len(m.ID) == 0 {
		return nullID
	}
	var v any
	if json.Unmarshal(m.ID, &v) != nil {
		return nullID
	}
	switch v.(type) {
	case string, float64:
		return m.ID
	}
	return nullID
}

type wireError struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Error   struct {
		Code    int64  `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func errorResponse(id json.RawMessage, code int64, message string) []byte {
	w := wireError{JSONRPC: "2.0", ID: id}
	w.Error.Code, w.Error.Message = code, message
	out, err := json.Marshal(w)
	if err != nil {
		// Only the id can fail to marshal, and idOf returns valid JSON.
		w.ID = nullID
		out, _ = json.Marshal(w)
	}
	return out
}

func parseError() []byte {
	return errorResponse(nullID, jsonrpc.CodeParseError, "Parse error: the line is not JSON")
}

func invalidRequest(id json.RawMessage, detail string) []byte {
	return errorResponse(id, jsonrpc.CodeInvalidRequest, "Invalid Request: "+detail)
}

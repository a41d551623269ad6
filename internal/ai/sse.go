package ai

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// MaxEventSize bounds one server-sent event (its data lines together), so
// a stream that never ends an event cannot take the function's memory.
const MaxEventSize = 16 << 20

// Event is one server-sent event: its name (the "event" field, empty when
// the server named none) and its data (the "data" lines joined with "\n").
type Event struct {
	Name string
	Data []byte
}

// EventReader reads server-sent events from a text/event-stream body, as the
// HTML standard's event stream format defines them: lines end with "\r\n",
// "\n" or "\r"; a line starting with ":" is a comment; "data" lines are
// joined with "\n"; a blank line ends an event, and an event without data is
// not dispatched. The providers' streaming answers are read with it, whatever
// size the pieces the network delivers them in.
type EventReader struct {
	r      *bufio.Reader
	line   []byte
	data   []byte
	name   string
	hasCR  bool
	events int
	// max is MaxEventSize; tests lower it.
	max int
}

// NewEventReader returns a reader of the events in r.
func NewEventReader(r io.Reader) *EventReader {
	return &EventReader{r: bufio.NewReaderSize(r, 4096), max: MaxEventSize}
}

// ErrEventTooLarge is returned by Next for an event larger than
// MaxEventSize.
var ErrEventTooLarge = errors.New("a server-sent event is larger than 16 MiB")

// Next returns the next event. It returns io.EOF when the stream ends
// cleanly (an event cut short by the end is dropped, as the standard says),
// and the reader's error otherwise. The event's Data is valid until the next
// call.
func (e *EventReader) Next() (Event, error) {
	e.data = e.data[:0]
	e.name = ""
	hasData := false
	for {
		line, err := e.readLine()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return Event{}, io.EOF
			}
			return Event{}, err
		}
		if len(line) == 0 {
			if !hasData {
				e.name = ""
				continue
			}
			e.events++
			data := e.data
			if n := len(data); n > 0 && data[n-1] == '\n' {
				data = data[:n-1]
			}
			return Event{Name: e.name, Data: data}, nil
		}
		if line[0] == ':' {
			continue
		}
		field, value, found := bytes.Cut(line, []byte(":"))
		if found && len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
		switch string(field) {
		case "event":
			e.name = string(value)
		case "data":
			if len(e.data)+len(value)+1 > e.max {
				return Event{}, ErrEventTooLarge
			}
			e.data = append(e.data, value...)
			e.data = append(e.data, '\n')
			hasData = true
		}
		// "id", "retry" and unknown fields mean nothing to a model's answer.
	}
}

// readLine returns the next line without its ending. A line ends at "\n",
// "\r\n" or a lone "\r". The line is valid until the next call.
func (e *EventReader) readLine() ([]byte, error) {
	e.line = e.line[:0]
	for {
		b, err := e.r.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) && len(e.line) > 0 {
				// A last line without its ending still ends no event.
				return nil, io.EOF
			}
			return nil, err
		}
		if e.hasCR {
			e.hasCR = false
			if b == '\n' {
				continue
			}
		}
		switch b {
		case '\n':
			return e.line, nil
		case '\r':
			e.hasCR = true
			return e.line, nil
		}
		if len(e.line) >= e.max {
			return nil, ErrEventTooLarge
		}
		e.line = append(e.line, b)
	}
}

// Events reports how many events Next has returned, for error messages
// that say where in a stream something went wrong.
func (e *EventReader) Events() int { return e.events }

// StreamError is a stream that could not be read as its provider documents
// it: what was wrong, and after how many events.
func StreamError(provider string, events int, format string, args ...any) *Error {
	return &Error{
		Code:     CodeUnavailable,
		Provider: provider,
		Message:  fmt.Sprintf("reading the answer stream (after %d events): %s", events, fmt.Sprintf(format, args...)),
	}
}

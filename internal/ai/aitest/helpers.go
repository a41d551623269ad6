package aitest

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// PassingDeadline is a context whose deadline passes when Pass is called,
// so a test lets it pass at a chosen point of a stream rather than at a
// time.
type PassingDeadline struct {
	context.Context
	done chan struct{}
	once sync.Once
}

// NewPassingDeadline returns a PassingDeadline that has not passed yet.
func NewPassingDeadline() *PassingDeadline {
	return &PassingDeadline{Context: context.Background(), done: make(chan struct{})}
}

// Pass lets the deadline pass.
func (c *PassingDeadline) Pass() { c.once.Do(func() { close(c.done) }) }

// Done is closed once the deadline has passed.
func (c *PassingDeadline) Done() <-chan struct{} { return c.done }

// Err is context.DeadlineExceeded once the deadline has passed.
func (c *PassingDeadline) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

// DocSection returns the section of the Markdown file doc under heading
// (a whole heading line, such as "## Anthropic"), up to the next "## "
// heading, so a provider's tests can check the tables its docs give.
func DocSection(t *testing.T, doc, heading string) string {
	t.Helper()
	raw, err := os.ReadFile(doc)
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(raw), "\n"+heading+"\n")
	require.True(t, ok, "%s has no %q", doc, heading)
	section, _, _ = strings.Cut(section, "\n## ")
	return section
}

// TableRows returns the cells of the rows of the Markdown table in section
// whose header line starts with header; it fails the test when there are
// none.
func TableRows(t *testing.T, section, header string) [][]string {
	t.Helper()
	_, table, ok := strings.Cut(section, "\n"+header)
	require.True(t, ok, "no table headed %q", header)
	var rows [][]string
	for _, line := range strings.Split(table, "\n")[2:] { // the rest of the header, the |---| line
		if !strings.HasPrefix(line, "|") {
			break
		}
		rows = append(rows, strings.Split(strings.Trim(line, "|"), " | "))
	}
	require.NotEmpty(t, rows)
	return rows
}

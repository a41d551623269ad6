package expr

import (
	"strings"
)

// Template is a string with embedded paths, like
// "Classify this message: {{ input.message }}".
type Template struct {
	// Parts are the literal texts and paths in order. Adjacent texts are
	// merged, so no two text parts follow each other.
	Parts []Part
}

// Part is a piece of a Template: literal Text, or a Path when IsPath is
// set.
type Part struct {
	// Text is the literal text with \{{ unescaped to {{.
	Text   string
	Path   Path
	IsPath bool
	// Start and End are the byte offsets of the part in the source,
	// braces and escapes included.
	Start, End int
}

// ParseTemplate parses a template: literal text with paths in {{ }}.
// Inside the braces there is exactly one path, with optional spaces around
// it; operators and functions belong in conditions. \{{ stands for a
// literal {{; a backslash escapes nothing else. It returns a *SyntaxError
// for an unclosed or empty {{ }} and for a malformed path.
func ParseTemplate(src string) (Template, error) {
	p := &parser{src: src}
	var t Template
	var text strings.Builder
	textStart := 0
	flush := func() {
		if p.pos > textStart {
			t.Parts = append(t.Parts, Part{Text: text.String(), Start: textStart, End: p.pos})
		}
		text.Reset()
	}
	for !p.eof() {
		switch {
		case p.has(`\{{`):
			text.WriteString("{{")
			p.pos += 3
		case p.has("{{"):
			flush()
			part, err := p.parseTemplatePath()
			if err != nil {
				return Template{}, err
			}
			t.Parts = append(t.Parts, part)
			textStart = p.pos
		default:
			text.WriteByte(p.src[p.pos])
			p.pos++
		}
	}
	flush()
	return t, nil
}

const templateHint = "a template holds only a path, like {{ input.name }}; operators and functions belong in conditions"

// parseTemplatePath parses {{ path }} at the position.
func (p *parser) parseTemplatePath() (Part, error) {
	open := p.pos
	if !strings.Contains(p.src[open+2:], "}}") {
		return Part{}, p.errorf(open, `close it with "}}", or write \{{ for literal braces`, `unclosed "{{"`)
	}
	p.pos += 2
	p.skipSpace()
	if p.has("}}") {
		return Part{}, p.errorf(open, "put a path inside, like {{ input.name }}", `empty "{{ }}"`)
	}
	switch w := p.word(); w {
	case RootInput, RootSteps, RootContext:
	case "":
		return Part{}, p.errorf(p.pos, templateHint, "expected a path, got %s", p.token())
	default:
		if lookupFunc(w) != 0 || w == "true" || w == "false" || w == "null" {
			return Part{}, p.errorf(p.pos, templateHint, "expected a path, got %q", w)
		}
		return Part{}, p.unknownRoot(w)
	}
	path, err := p.parsePath()
	if err != nil {
		return Part{}, err
	}
	p.skipSpace()
	if !p.has("}}") {
		return Part{}, p.errorf(p.pos, templateHint, `expected "}}" after %s, got %s`, path, p.token())
	}
	p.pos += 2
	return Part{Path: path, IsPath: true, Start: open, End: p.pos}, nil
}

// Single returns the path when the template is exactly one {{ path }},
// with no text around the braces. The compiler then passes the value
// through with its own type instead of rendering a string.
func (t Template) Single() (Path, bool) {
	if len(t.Parts) == 1 && t.Parts[0].IsPath {
		return t.Parts[0].Path, true
	}
	return Path{}, false
}

// Literal returns the text when the template has no paths at all.
func (t Template) Literal() (string, bool) {
	var b strings.Builder
	for _, part := range t.Parts {
		if part.IsPath {
			return "", false
		}
		b.WriteString(part.Text)
	}
	return b.String(), true
}

// Paths returns the paths the template reads, in order, once per
// occurrence.
func (t Template) Paths() []Path {
	var out []Path
	for _, part := range t.Parts {
		if part.IsPath {
			out = append(out, part.Path)
		}
	}
	return out
}

// String renders t in canonical form: text with {{ escaped as \{{ and
// paths as {{ path }}. Parsing it gives the same parts.
func (t Template) String() string {
	var b strings.Builder
	for _, part := range t.Parts {
		if part.IsPath {
			b.WriteString("{{ ")
			b.WriteString(part.Path.String())
			b.WriteString(" }}")
		} else {
			b.WriteString(strings.ReplaceAll(part.Text, "{{", `\{{`))
		}
	}
	return b.String()
}

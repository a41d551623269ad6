package workflow

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Limits on a definition, checked before and while it is read.
const (
	// MaxDefinitionBytes bounds a definition file (1 MiB).
	MaxDefinitionBytes = 1 << 20
	// MaxDepth bounds the nesting of mappings and sequences.
	MaxDepth = 64
)

// plainTags are the only YAML tags a definition may use; they are the ones
// a parser gives plain scalars, mappings and sequences on its own.
var plainTags = map[string]bool{
	"!!str": true, "!!int": true, "!!float": true, "!!bool": true, "!!null": true,
	"!!map": true, "!!seq": true,
}

var yamlErrLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// loadYAML parses one YAML (or JSON) document and refuses what a definition
// must not hold: more than one document, anchors and aliases, tags of its
// own, duplicate keys, nesting deeper than MaxDepth, more than
// MaxDefinitionBytes. It returns the document's top node.
func loadYAML(r *reporter, src []byte) *yaml.Node {
	if len(src) > MaxDefinitionBytes {
		r.errorf(Pos{1, 1}, "", "", "the definition is %d bytes, more than the %d-byte limit", len(src), MaxDefinitionBytes)
		return nil
	}
	if depth := bracketDepth(src); depth > MaxDepth {
		// Checked before parsing, so a hostile file cannot make the parser
		// itself recurse deeply.
		r.errorf(Pos{1, 1}, "", "", "the definition nests %d levels deep, more than %d", depth, MaxDepth)
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			r.errorf(Pos{1, 1}, "", "a definition starts with name:, input: and steps:", "the definition is empty")
			return nil
		}
		r.errorf(yamlErrPos(err), "", "", "%s", yamlErrMsg(err))
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		r.errorf(Pos{extra.Line, extra.Column}, "", "put each workflow in a file of its own", "the file holds more than one YAML document")
		return nil
	} else if !errors.Is(err, io.EOF) {
		r.errorf(yamlErrPos(err), "", "", "%s", yamlErrMsg(err))
		return nil
	}
	if len(doc.Content) == 0 {
		r.errorf(Pos{1, 1}, "", "", "the definition is empty")
		return nil
	}
	ok := checkNodes(r, doc.Content[0], 1)
	if !ok {
		return nil
	}
	return doc.Content[0]
}

// checkNodes walks the tree once for what the parser accepts and a
// definition must not hold.
func checkNodes(r *reporter, n *yaml.Node, depth int) bool {
	pos := Pos{n.Line, n.Column}
	if depth > MaxDepth {
		r.errorf(pos, "", "", "the definition nests more than %d levels deep", MaxDepth)
		return false
	}
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		r.errorf(pos, "", "repeat the value instead", "anchors and aliases (&, *) are not allowed in a definition")
		return false
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!timestamp" && n.Style&yaml.TaggedStyle == 0 {
		// Plain text YAML reads as a date, like until: 2026-12-01T09:00:00Z.
		r.errorf(pos, "", fmt.Sprintf("quote it: %q", n.Value), "YAML reads %s as a timestamp, and a definition holds text, numbers, booleans and null", n.Value)
		return false
	}
	if n.Tag != "" && !plainTags[n.ShortTag()] {
		r.errorf(pos, "", "remove the tag; values are plain YAML", "the tag %s is not allowed in a definition", n.Tag)
		return false
	}
	if n.Kind == yaml.ScalarNode {
		// An explicit tag can claim what the text is not, like !!int abc;
		// the decoder reads numbers and booleans as YAML does, so each
		// must read. Fix: such a value silently became 0 or false.
		var v any
		if err := n.Decode(&v); err != nil {
			r.errorf(pos, "", "remove the tag", "the value %q is not a %s", n.Value, n.ShortTag())
			return false
		}
		if strings.ContainsRune(n.Value, 0) {
			// Written as an escape ("\0", "\x00"): PostgreSQL stores no NUL,
			// in a version's definition or in the values of an execution.
			r.errorf(pos, "", "remove it", "the text holds a NUL character (\\0), which no text of a workflow may hold")
			return false
		}
		if sub := queueSubstitutionIn(n.Value); sub != "" {
			r.errorf(pos, "", "write it another way, with the $ and the { apart",
				"the text %s is reserved: the deployment replaces it with a queue's URL in the compiled state machine", sub)
			return false
		}
	}
	ok := true
	if n.Kind == yaml.MappingNode {
		seen := map[string]Pos{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				r.errorf(Pos{k.Line, k.Column}, "", "", "a key must be a plain string")
				ok = false
				continue
			}
			if first, dup := seen[k.Value]; dup {
				r.errorf(Pos{k.Line, k.Column}, "", fmt.Sprintf("the first is at line %d", first.Line), "duplicate key %q", k.Value)
				ok = false
			}
			seen[k.Value] = Pos{k.Line, k.Column}
		}
	}
	for _, c := range n.Content {
		if !checkNodes(r, c, depth+1) {
			ok = false
		}
	}
	return ok
}

// bracketDepth estimates the nesting of a document from its brackets and
// indentation without parsing it: flow collections ([ { ) and block
// indentation steps both count.
func bracketDepth(src []byte) int {
	maxDepth, depth := 0, 0
	inQuote := byte(0)
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case inQuote != 0:
			if c == '\\' && inQuote == '"' {
				i++
			} else if c == inQuote {
				inQuote = 0
			}
		case c == '"' || c == '\'':
			inQuote = c
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '[' || c == '{':
			depth++
			maxDepth = max(maxDepth, depth)
		case c == ']' || c == '}':
			depth--
		}
	}
	// Block nesting: count indentation levels by leading spaces / 2.
	indent := 0
	for _, line := range bytes.Split(src, []byte("\n")) {
		n := len(line) - len(bytes.TrimLeft(line, " -"))
		indent = max(indent, n/2)
	}
	return max(maxDepth, indent)
}

// queueSubstitutionIn returns the queue substitution text holds, if any:
// the compiler puts them in the state machine where task steps send their
// messages, and the deployment replaces every one, so text of the
// definition's own must not hold one.
func queueSubstitutionIn(text string) string {
	if !strings.Contains(text, "${") {
		return ""
	}
	for _, sub := range QueueSubstitutions {
		if strings.Contains(text, sub) {
			return sub
		}
	}
	return ""
}

func yamlErrPos(err error) Pos {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return Pos{1, 1}
	}
	if m := yamlErrLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return Pos{line, 1}
	}
	return Pos{1, 1}
}

func yamlErrMsg(err error) string {
	if m := yamlErrLine.FindStringSubmatch(err.Error()); m != nil {
		return "YAML: " + m[2]
	}
	return "YAML: " + err.Error()
}

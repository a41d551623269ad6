package control

import (
	"errors"

	"github.com/aiflow/aiflow/internal/textgate"
	"github.com/aiflow/aiflow/internal/workflow"
)

// checkBuiltText runs the text gate over what a definition compiled to.
// The definition's text passed the gate as sent, but its escapes (YAML's
// "\0" and "\x00", JSON's "\u0000") become a NUL, or a lone surrogate,
// once parsed: the state machine, its graph and its input schema must not
// carry them to the engine, Step Functions or PostgreSQL. The error is a
// CodeInvalidDefinition naming the definition's file and the JSON pointer
// of the compiled state machine that holds it.
func checkBuiltText(b *workflow.Built) error {
	docs := []struct {
		what, text string
		json       bool
	}{
		{"the compiled state machine", b.ASL, true},
		{"the workflow's graph", b.Graph, false},
	}
	if b.Checked != nil && b.Checked.Workflow.Input != nil {
		docs = append(docs, struct {
			what, text string
			json       bool
		}{"the input schema", string(b.Checked.Workflow.Input.Raw), true})
	}
	for _, d := range docs {
		var err error
		if d.json {
			err = textgate.JSON([]byte(d.text))
		} else {
			err = textgate.String(d.text)
		}
		var te *textgate.Error
		if errors.As(err, &te) {
			return &Error{Code: CodeInvalidDefinition,
				Detail: "a string of the definition holds text that is refused once its escapes are read: a NUL, invalid UTF-8 or a lone surrogate",
				Fields: []Field{{Param: ParamDefinition, Location: DefinitionFile, Detail: "in " + d.what + ", " + te.Error()}}}
		}
	}
	return nil
}

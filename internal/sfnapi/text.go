package sfnapi

import (
	"errors"
	"strings"

	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/textgate"
)

// jsonMembers are the string members whose text is itself a JSON document,
// by operation, and the error code a flaw in them answers with, as Step
// Functions does for a document it cannot take.
var jsonMembers = map[string]map[string]jsonMember{
	"StartExecution":     {"input": {sfn.CodeInvalidExecutionInput, "Invalid State Machine Execution Input"}},
	"StartSyncExecution": {"input": {sfn.CodeInvalidExecutionInput, "Invalid State Machine Execution Input"}},
	"SendTaskSuccess":    {"output": {sfn.CodeInvalidOutput, "Invalid Output"}},
	"TestState":          {"input": {sfn.CodeInvalidExecutionInput, "Invalid State Input"}},
}

type jsonMember struct {
	code, title string
}

// checkText runs the text gate over a request body, and over the JSON
// documents its string members hold (an execution's input, a task's
// output): a NUL, invalid UTF-8 or a lone surrogate, raw or escaped, never
// reaches the engine. A flaw in a document member answers with that
// member's code (InvalidExecutionInput, InvalidOutput); any other with
// ValidationException naming the member. A body that is not JSON passes,
// for the members' parser to report.
func checkText(op string, body []byte) error {
	var te *textgate.Error
	if errors.As(textgate.JSON(body), &te) {
		member, rest := splitPointer(te.Pointer)
		if jm, ok := jsonMembers[op][member]; ok && !te.InKey && rest == "" {
			return badRequest(jm.code, "%s: %s", jm.title, flawText(te))
		}
		if member == "" {
			return badRequest(sfn.CodeValidation, "1 validation error detected: %s", flawText(te))
		}
		return badRequest(sfn.CodeValidation,
			"1 validation error detected: Value at '%s' failed to satisfy constraint: %s", member, flawText(te))
	}
	return nil
}

// checkDocument runs the text gate over a member holding a JSON document,
// once the body has been read.
func checkDocument(m *members, name, doc string) {
	jm, ok := jsonMembers[m.Op()][name]
	if !ok || doc == "" {
		return
	}
	var te *textgate.Error
	if errors.As(textgate.JSON([]byte(doc)), &te) {
		m.Fail(badRequest(jm.code, "%s: %s", jm.title, flawText(te)))
	}
}

// splitPointer splits a JSON pointer into its first token (unescaped) and
// the rest.
func splitPointer(p string) (first, rest string) {
	p = strings.TrimPrefix(p, "/")
	first, rest, _ = strings.Cut(p, "/")
	first = strings.ReplaceAll(strings.ReplaceAll(first, "~1", "/"), "~0", "~")
	return first, rest
}

// flawText says what the gate found, and where, in the words of a
// validation message.
func flawText(te *textgate.Error) string {
	return te.Error() + "; text may not hold NUL, invalid UTF-8 or lone surrogates"
}

package eventstore

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode/utf8"
)

// ExecutionStreamID is the stream of an execution's history, which the
// local engine writes and the recorder copies from Step Functions. For an
// execution ARN arn:PARTITION:states:REGION:ACCOUNT:execution:REST it is
// "execution-REGION:ACCOUNT:REST" (REST is "stateMachine:name"); for any
// other ARN, or when that would be longer than a stream id may be, it is
// "execution-" and the hex SHA-256 of the ARN. The first form always holds
// a colon and the second never does, so two ARNs never share a stream.
func ExecutionStreamID(executionARN string) string {
	return "execution-" + executionStreamSuffix(executionARN)
}

// DetailStreamID is the stream of an execution's detail events (what step
// workers record beside its history: model, tokens, cost, attempts): the
// execution's stream with the category "details" instead of "execution",
// so that both sort together and neither is mistaken for the other.
func DetailStreamID(executionARN string) string {
	return "details-" + executionStreamSuffix(executionARN)
}

// executionStreamSuffix is what follows the category in the streams of
// an execution: "REGION:ACCOUNT:REST" when "execution-" and it make a
// valid stream id, otherwise the hex SHA-256 of the ARN.
func executionStreamSuffix(executionARN string) string {
	parts := strings.SplitN(executionARN, ":", 7)
	if len(parts) == 7 && parts[0] == "arn" && parts[2] == "states" && parts[5] == "execution" &&
		parts[3] != "" && parts[4] != "" && parts[6] != "" {
		suffix := parts[3] + ":" + parts[4] + ":" + parts[6]
		if len("execution-")+len(suffix) <= MaxStreamIDBytes && utf8.ValidString(suffix) && !strings.ContainsFunc(suffix, isControl) {
			return suffix
		}
	}
	sum := sha256.Sum256([]byte(executionARN))
	return hex.EncodeToString(sum[:])
}

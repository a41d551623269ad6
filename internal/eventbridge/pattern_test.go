package eventbridge_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/eventbridge"
)

// statusEvent is the example "Step Functions Execution Status Change"
// event of the Step Functions documentation, with a few fields of our own
// for the operators.
const statusEvent = `{
  "version": "0",
  "id": "315c1398-40ff-a850-213b-158f73e60175",
  "detail-type": "Step Functions Execution Status Change",
  "source": "aws.states",
  "account": "123456789012",
  "time": "2019-02-26T19:42:21Z",
  "region": "us-east-1",
  "resources": ["arn:aws:states:us-east-1:123456789012:execution:aiflow-summary:run-1"],
  "detail": {
    "executionArn": "arn:aws:states:us-east-1:123456789012:execution:aiflow-summary:run-1",
    "stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:aiflow-summary",
    "name": "run-1",
    "status": "FAILED",
    "startDate": 1551225271984,
    "stopDate": 1551225273000,
    "input": "{}",
    "inputDetails": {"included": true},
    "output": null,
    "outputDetails": null,
    "error": "States.TaskFailed",
    "cause": "boom",
    "c-count": 5,
    "d-count": 3.018e2,
    "x-limit": 301.8,
    "source-ip": "10.0.0.123",
    "FilePath": "/usr/lib/libc.so",
    "tags": ["blue", "green"],
    "flag": false,
    "empty": "",
    "location": {"city": "New York", "day": "Monday"},
    "items": [{"kind": "a", "n": 1}, {"kind": "b", "n": 2}]
  }
}`

func TestPatternMatches(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		pattern string
		want    bool
	}{
		{"source and detail-type", `{"source":["aws.states"],"detail-type":["Step Functions Execution Status Change"]}`, true},
		{"other source", `{"source":["aws.ec2"]}`, false},
		{"arrays are OR", `{"source":["aws.ec2","aws.states"]}`, true},
		{"nested", `{"detail":{"status":["FAILED","TIMED_OUT"]}}`, true},
		{"nested, other value", `{"detail":{"status":["SUCCEEDED"]}}`, false},
		{"fields are AND", `{"source":["aws.states"],"detail":{"status":["SUCCEEDED"]}}`, false},
		{"deeper", `{"detail":{"location":{"city":["New York"],"day":["Monday"]}}}`, true},
		{"null matches null", `{"detail":{"output":[null]}}`, true},
		{"null does not match a missing field", `{"detail":{"missing":[null]}}`, false},
		{"null does not match a string", `{"detail":{"name":[null]}}`, false},
		{"empty string", `{"detail":{"empty":[""]}}`, true},
		{"boolean", `{"detail":{"flag":[false]}}`, true},
		{"boolean, other", `{"detail":{"flag":[true]}}`, false},
		{"number", `{"detail":{"c-count":[5]}}`, true},
		{"number written otherwise", `{"detail":{"d-count":[301.8]}}`, true},
		{"number is not a string", `{"detail":{"c-count":["5"]}}`, false},
		{"string is not a number", `{"detail":{"name":[1]}}`, false},
		{"event array: one element is enough", `{"detail":{"tags":["green","red"]}}`, true},
		{"event array: none", `{"detail":{"tags":["red"]}}`, false},
		{"prefix", `{"time":[{"prefix":"2019-02-26"}]}`, true},
		{"prefix, other", `{"time":[{"prefix":"2017-10-02"}]}`, false},
		{"prefix of the template's rule", `{"detail":{"stateMachineArn":[{"prefix":"arn:aws:states:us-east-1:123456789012:stateMachine:aiflow-"}]}}`, true},
		{"prefix ignoring case", `{"detail":{"status":[{"prefix":{"equals-ignore-case":"fail"}}]}}`, true},
		{"suffix", `{"detail":{"FilePath":[{"suffix":".so"}]}}`, true},
		{"suffix, other", `{"detail":{"FilePath":[{"suffix":".png"}]}}`, false},
		{"suffix ignoring case", `{"detail":{"FilePath":[{"suffix":{"equals-ignore-case":".SO"}}]}}`, true},
		{"equals-ignore-case", `{"detail":{"status":[{"equals-ignore-case":"failed"}]}}`, true},
		{"equals-ignore-case, other", `{"detail":{"status":[{"equals-ignore-case":"fail"}]}}`, false},
		{"anything-but a string", `{"detail":{"status":[{"anything-but":"SUCCEEDED"}]}}`, true},
		{"anything-but the value", `{"detail":{"status":[{"anything-but":"FAILED"}]}}`, false},
		{"anything-but a list", `{"detail":{"status":[{"anything-but":["SUCCEEDED","FAILED"]}]}}`, false},
		{"anything-but a number", `{"detail":{"c-count":[{"anything-but":123}]}}`, true},
		{"anything-but the number", `{"detail":{"c-count":[{"anything-but":[5, 6]}]}}`, false},
		{"anything-but a missing field", `{"detail":{"missing":[{"anything-but":"x"}]}}`, false},
		{"anything-but prefix", `{"region":[{"anything-but":{"prefix":"eu-"}}]}`, true},
		{"anything-but prefix, excluded", `{"region":[{"anything-but":{"prefix":"us-"}}]}`, false},
		{"anything-but suffix", `{"detail":{"FilePath":[{"anything-but":{"suffix":".png"}}]}}`, true},
		{"anything-but ignoring case", `{"detail":{"status":[{"anything-but":{"equals-ignore-case":["failed","aborted"]}}]}}`, false},
		{"anything-but wildcard", `{"detail":{"FilePath":[{"anything-but":{"wildcard":"*/lib/*"}}]}}`, false},
		{"anything-but wildcard, kept", `{"detail":{"FilePath":[{"anything-but":{"wildcard":"*/bin/*"}}]}}`, true},
		{"exists", `{"detail":{"cause":[{"exists":true}]}}`, true},
		{"exists, missing", `{"detail":{"missing":[{"exists":true}]}}`, false},
		{"exists false, missing", `{"detail":{"missing":[{"exists":false}]}}`, true},
		{"exists false, present", `{"detail":{"cause":[{"exists":false}]}}`, false},
		{"exists is for leaves", `{"detail":{"location":[{"exists":true}]}}`, false},
		{"numeric range", `{"detail":{"c-count":[{"numeric":[">",0,"<=",5]}]}}`, true},
		{"numeric range, out", `{"detail":{"c-count":[{"numeric":[">",5]}]}}`, false},
		{"numeric equal", `{"detail":{"d-count":[{"numeric":["=",301.8]}]}}`, true},
		{"numeric on a string", `{"detail":{"name":[{"numeric":[">",0]}]}}`, false},
		{"numeric at the bound", `{"detail":{"x-limit":[{"numeric":[">=",301.8,"<",302]}]}}`, true},
		{"wildcard", `{"detail":{"FilePath":[{"wildcard":"/usr/*/lib*.so"}]}}`, true},
		{"wildcard, other", `{"detail":{"FilePath":[{"wildcard":"/usr/*/lib*.png"}]}}`, false},
		{"wildcard without star", `{"detail":{"name":[{"wildcard":"run-1"}]}}`, true},
		{"wildcard escape", `{"detail":{"name":[{"wildcard":"run\\*"}]}}`, false},
		{"cidr", `{"detail":{"source-ip":[{"cidr":"10.0.0.0/24"}]}}`, true},
		{"cidr, other", `{"detail":{"source-ip":[{"cidr":"10.0.1.0/24"}]}}`, false},
		{"array element objects", `{"detail":{"items":{"kind":["b"],"n":[2]}}}`, true},
		{"array element objects, not one element", `{"detail":{"items":{"kind":["a"],"n":[2]}}}`, false},
		{"operators mixed with values", `{"detail":{"c-count":["x",{"numeric":["<",0]},5]}}`, true},
		{"$or", `{"source":["aws.states"],"$or":[{"detail":{"status":["SUCCEEDED"]}},{"detail":{"c-count":[{"numeric":[">",1]}]}}]}`, true},
		{"$or, none", `{"$or":[{"detail":{"status":["SUCCEEDED"]}},{"region":["eu-west-1"]}]}`, false},
		{"$or nested", `{"detail":{"$or":[{"status":["RUNNING"]},{"error":[{"prefix":"States."}]}]}}`, true},
		{"missing object, exists false", `{"nothing":{"x":[{"exists":false}]}}`, true},
		{"missing object", `{"nothing":{"x":["y"]}}`, false},
	}
	var event map[string]any
	require.NoError(t, json.Unmarshal([]byte(statusEvent), &event))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p, err := eventbridge.CompilePatternJSON([]byte(c.pattern))
			require.NoError(t, err)
			require.Equal(t, c.want, p.Match(event))
			got, err := p.MatchJSON([]byte(statusEvent))
			require.NoError(t, err)
			require.Equal(t, c.want, got, "as JSON text")
		})
	}
}

func TestPatternRefusals(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, pattern string
		path, op      string
		contains      string
	}{
		{"empty pattern", `{}`, "$", "", "at least one field"},
		{"not an array", `{"source":"aws.states"}`, "$.source", "", "must be an object or an array"},
		{"number leaf", `{"detail":{"n":5}}`, "$.detail.n", "", "must be an object or an array"},
		{"empty array", `{"source":[]}`, "$.source", "", "empty array"},
		{"empty object", `{"detail":{}}`, "$.detail", "", "at least one field"},
		{"unknown operator", `{"detail":{"status":[{"contains":"FAIL"}]}}`, "$.detail.status[0]", "contains", "not an operator"},
		{"two operators", `{"detail":{"status":[{"prefix":"a","suffix":"b"}]}}`, "$.detail.status[0]", "", "exactly one operator"},
		{"prefix of a number", `{"time":[{"prefix":5}]}`, "$.time[0]", "prefix", "takes a string"},
		{"exists of a string", `{"a":[{"exists":"yes"}]}`, "$.a[0]", "exists", "true or false"},
		{"numeric odd", `{"a":[{"numeric":[">"]}]}`, "$.a[0]", "numeric", "one or two comparisons"},
		{"numeric bad operator", `{"a":[{"numeric":["!=",1]}]}`, "$.a[0]", "numeric", "not one of"},
		{"numeric two lower bounds", `{"a":[{"numeric":[">",1,">=",2]}]}`, "$.a[0]", "numeric", "two lower bounds"},
		{"numeric empty range", `{"a":[{"numeric":[">",5,"<",1]}]}`, "$.a[0]", "numeric", "holds no number"},
		{"numeric of a string", `{"a":[{"numeric":[">","1"]}]}`, "$.a[0]", "numeric", "must be a number"},
		{"wildcard consecutive stars", `{"a":[{"wildcard":"a**b"}]}`, "$.a[0]", "wildcard", "consecutive"},
		{"wildcard bad escape", `{"a":[{"wildcard":"a\\b"}]}`, "$.a[0]", "wildcard", "backslash"},
		{"cidr", `{"a":[{"cidr":"10.0.0.0/99"}]}`, "$.a[0]", "cidr", "not a CIDR block"},
		{"anything-but mixed list", `{"a":[{"anything-but":["x",1]}]}`, "$.a[0]", "anything-but", "not both"},
		{"anything-but numeric", `{"a":[{"anything-but":{"numeric":[">",1]}}]}`, "$.a[0]", "anything-but/numeric", "this bus implements no other"},
		{"anything-but null", `{"a":[{"anything-but":null}]}`, "$.a[0]", "anything-but", "not null"},
		{"$or of one", `{"$or":[{"a":["x"]}]}`, "$.$or", "$or", "at least two"},
		{"$or of a string", `{"$or":[{"a":["x"]},"b"]}`, "$.$or[1]", "$or", "pattern object"},
		{"nested array", `{"a":[["x"]]}`, "$.a[0]", "", "array inside"},
		{"odd key in path", `{"detail":{"my key":[{"prefix":1}]}}`, `$.detail["my key"][0]`, "prefix", "takes a string"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := eventbridge.CompilePatternJSON([]byte(c.pattern))
			var pe *eventbridge.PatternError
			require.ErrorAs(t, err, &pe)
			require.Equal(t, c.path, pe.Path)
			require.Equal(t, c.op, pe.Operator)
			require.Contains(t, err.Error(), c.contains)
			require.Contains(t, err.Error(), c.path)
		})
	}
}

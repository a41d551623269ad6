package engine

import (
	"bytes"
	"encoding/binary"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/sfn"
)

// TestRouteByWeight: an alias's draw (0 to 99) goes to the first version
// below its weight, to the second from it.
func TestRouteByWeight(t *testing.T) {
	t.Parallel()
	routing := []sfn.RoutingConfig{{StateMachineVersionARN: "v1", Weight: 30}, {StateMachineVersionARN: "v2", Weight: 70}}
	for _, c := range []struct {
		draw uint64
		want string
	}{{0, "v1"}, {29, "v1"}, {30, "v2"}, {99, "v2"}, {129, "v1"}} {
		b := binary.BigEndian.AppendUint64(nil, c.draw)
		e, err := New(Config{Store: NewMemoryStore(), Random: bytes.NewReader(b)})
		require.NoError(t, err)
		require.Equal(t, c.want, e.route(routing), "draw %d", c.draw)
	}
	e, err := New(Config{Store: NewMemoryStore(), Random: bytes.NewReader(nil)})
	require.NoError(t, err)
	require.Equal(t, "v1", e.route(routing[:1]), "one version needs no draw")
}

// TestParseTarget: a state machine ARN names the state machine, a
// version (a number) or an alias (a name that is not all digits).
func TestParseTarget(t *testing.T) {
	t.Parallel()
	sm := "arn:aws:states:us-east-1:123456789012:stateMachine:m"
	for arn, want := range map[string]stateMachineTarget{
		sm:            {machineARN: sm},
		sm + ":12":    {machineARN: sm, versionARN: sm + ":12"},
		sm + ":PROD":  {machineARN: sm, aliasARN: sm + ":PROD"},
		sm + ":v-1.x": {machineARN: sm, aliasARN: sm + ":v-1.x"},
	} {
		got, err := parseTarget(arn)
		require.NoError(t, err, arn)
		require.Equal(t, want, got, arn)
	}
	for _, bad := range []string{sm + ":012", sm + ":a b", sm + ":", "arn:aws:states:us-east-1:123456789012:activity:a:1", sm + ":1:2"} {
		_, err := parseTarget(bad)
		require.Error(t, err, bad)
	}
}

// The patterns parseTarget was first written with: its hand-written
// checks must accept and split what they did.
var (
	qualifiedARNPattern = regexp.MustCompile(`^(arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[^:]+):([^:]+)$`)
	aliasNamePattern    = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,80}$`)
	versionLabelPattern = regexp.MustCompile(`^[1-9][0-9]{0,9}$`)
)

// targetByPatterns is parseTarget as it was, with the patterns.
func targetByPatterns(arn string) (stateMachineTarget, bool) {
	if isStatesARN(arn, 1, "stateMachine") {
		return stateMachineTarget{machineARN: arn}, true
	}
	m := qualifiedARNPattern.FindStringSubmatch(arn)
	switch {
	case m == nil:
		return stateMachineTarget{}, false
	case versionLabelPattern.MatchString(m[2]):
		return stateMachineTarget{machineARN: m[1], versionARN: arn}, true
	case !aliasNamePattern.MatchString(m[2]) || isDigits(m[2]):
		return stateMachineTarget{}, false
	}
	return stateMachineTarget{machineARN: m[1], aliasARN: arn}, true
}

func FuzzParseTargetIsThePatterns(f *testing.F) {
	sm := "arn:aws:states:us-east-1:123456789012:stateMachine:m"
	for _, s := range []string{sm, sm + ":12", sm + ":PROD", sm + ":v-1.x", sm + ":012", sm + ":a b", sm + ":", sm + ":1:2",
		sm + ":1234567890", sm + ":12345678901", sm + ":" + strings.Repeat("a", 80), sm + ":" + strings.Repeat("a", 81),
		"arn:aws-cn:states:cn-north-1:123456789012:stateMachine:m:1", "arn:aws:states:us-east-1:12345678901:stateMachine:m:1",
		"arn:aws:states:us-east-1:123456789012:activity:a:1", "arn:aws:states::123456789012:stateMachine:m:1", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arn string) {
		want, ok := targetByPatterns(arn)
		got, err := parseTarget(arn)
		require.Equal(t, ok, err == nil, "%q: %v", arn, err)
		require.Equal(t, want, got, arn)
		require.Equal(t, aliasNamePattern.MatchString(arn), isAliasName(arn), arn)
		require.Equal(t, versionLabelPattern.MatchString(arn), isVersionLabel(arn), arn)
	})
}

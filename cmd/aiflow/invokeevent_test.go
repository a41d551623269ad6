package main

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// shiftNow is the "now" the tests move sample events to.
var shiftNow = time.Date(2031, 3, 4, 5, 6, 7, 123_000_000, time.UTC)

func shiftedSample(t *testing.T, name string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("../../events", name))
	require.NoError(t, err)
	out, err := shiftEventTimes(raw, shiftNow)
	require.NoError(t, err)
	var v map[string]any
	require.NoError(t, json.Unmarshal(out, &v))
	return v
}

func TestShiftEventTimesOfAnSQSRecord(t *testing.T) {
	t.Parallel()
	rec := shiftedSample(t, "aistep-sqs.json")["Records"].([]any)[0].(map[string]any)
	attrs := rec["attributes"].(map[string]any)
	// The latest time is when SQS sent the message: it is now.
	require.Equal(t, strconv.FormatInt(shiftNow.UnixMilli(), 10), attrs["SentTimestamp"])
	require.Equal(t, attrs["SentTimestamp"], attrs["ApproximateFirstReceiveTimestamp"])

	// The body's times moved by the same amount (the step entered its
	// state 3 ms before the message was sent), in their own form.
	body := rec["body"].(string)
	var msg struct {
		Execution struct {
			StartTime string `json:"startTime"`
		} `json:"execution"`
		Step struct {
			EnteredTime string `json:"enteredTime"`
		} `json:"step"`
		TaskToken string `json:"taskToken"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &msg))
	require.Equal(t, "2031-03-04T05:06:07.120Z", msg.Step.EnteredTime)
	require.Equal(t, "2031-03-04T05:06:07.120Z", msg.Execution.StartTime)
	require.True(t, strings.HasPrefix(msg.TaskToken, "YXJuOmF3czpzdGF0ZXM6"), "the rest of the body is kept")
	sum := md5.Sum([]byte(body))
	require.Equal(t, hex.EncodeToString(sum[:]), rec["md5OfBody"], "md5OfBody is the new body's")
}

func TestShiftEventTimesOfAnAPIRequest(t *testing.T) {
	t.Parallel()
	ev := shiftedSample(t, "api-decide-approval.json")
	rc := ev["requestContext"].(map[string]any)
	require.Equal(t, "04/Mar/2031:05:06:07 +0000", rc["time"])
	require.Equal(t, float64(shiftNow.UnixMilli()), rc["timeEpoch"])
	claims := rc["authorizer"].(map[string]any)["jwt"].(map[string]any)["claims"].(map[string]any)
	iat, err := strconv.ParseInt(claims["iat"].(string), 10, 64)
	require.NoError(t, err)
	exp, err := strconv.ParseInt(claims["exp"].(string), 10, 64)
	require.NoError(t, err)
	require.Equal(t, shiftNow.Unix(), iat)
	require.Equal(t, int64(3600), exp-iat, "a token's expiry is not the latest time: it stays an hour ahead")
}

func TestShiftEventTimesLeavesOthersAlone(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		`{"a": "b", "n": 1042, "nested": "{\"x\": 1}"}`,
		`{"headers": {"mcp-protocol-version": "2025-06-18"}, "id": 1795658100}`,
		`[1, "two"]`,
	} {
		out, err := shiftEventTimes([]byte(raw), shiftNow)
		require.NoError(t, err)
		require.Equal(t, raw, string(out), "an event without a time is passed as it is")
	}
	_, err := shiftEventTimes([]byte(`{"a":`), shiftNow)
	require.ErrorContains(t, err, "decoding the event")
}

// TestSamplesDoNotGoStale moves every sample of events/ to a "now" years
// after it was written: no time of the day it was written is left in it,
// and every time it holds is within an hour of now (a token's expiry
// aside).
func TestSamplesDoNotGoStale(t *testing.T) {
	t.Parallel()
	samples, err := filepath.Glob("../../events/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, samples)
	for _, path := range samples {
		raw, err := os.ReadFile(path)
		require.NoError(t, err)
		out, err := shiftEventTimes(raw, shiftNow)
		require.NoError(t, err)
		for _, old := range []string{"2026-11", "Nov/2026", `"17956`} {
			require.NotContains(t, string(out), old, "%s keeps a time of the day it was written", path)
		}
		v, err := decodeJSON(out)
		require.NoError(t, err)
		found := &timeWalker{f: func(key string, at time.Time) time.Time {
			if !expiryKeys[key] {
				require.WithinRange(t, at, shiftNow.Add(-time.Hour), shiftNow, "%s: %s", path, key)
			}
			return at
		}}
		found.value("", v)
		if filepath.Base(path) == "migrate-create.json" {
			// CloudFormation's custom resource events carry no time.
			require.Zero(t, found.n, path)
			continue
		}
		require.Positive(t, found.n, "%s has no time that invoke moves", path)
	}
}

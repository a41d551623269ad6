package main

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// A sample event is a moment in the past: its step entered its state days
// ago, so a step worker finds its timeout long passed, and an approval
// has expired before it is stored. `aiflow invoke` therefore moves every
// time of the event it reads by one amount, so that the latest of them
// (a token's expiry aside) is now and the times keep their order and
// distances. shiftEventTimes is that move.

// epochKeys are the members whose value, a number or a string of digits,
// is a Unix time: in seconds with 10 digits, in milliseconds with 13.
var epochKeys = map[string]bool{
	"timeEpoch": true, "SentTimestamp": true, "ApproximateFirstReceiveTimestamp": true,
	"startDate": true, "stopDate": true, "iat": true, "nbf": true, "auth_time": true, "exp": true,
}

// expiryKeys are the times that are not when something happened but when
// it stops being valid, kept out of the choice of the latest time: a
// token's expiry stays as far in the future as it was.
var expiryKeys = map[string]bool{"exp": true}

// textLayout is a form of time written as text in events.
type textLayout struct {
	layout string
	// length is the text's length.
	length int
}

var textLayouts = []textLayout{
	{layout: "02/Jan/2006:15:04:05 -0700", length: len("02/Jan/2006:15:04:05 -0700")}, // API Gateway's requestContext.time
}

// shiftEventTimes returns the event with every time in it moved by the
// same amount, so that the latest one other than an expiry is now. The
// times it knows are RFC 3339 timestamps ("2026-11-26T01:55:00.959Z",
// their fraction kept), API Gateway's "25/Nov/2026:20:00:00 +0000", and
// Unix times in seconds or milliseconds under the names of epochKeys. A
// date alone ("2025-06-18") is left as it is: in events it is as often a
// version (MCP's protocol version, an IAM policy's) as a day. It looks inside strings that hold JSON
// (an SQS message's body, an execution's input) and recomputes an SQS
// record's md5OfBody when its body changed. An event without a time is
// returned as it is.
func shiftEventTimes(payload []byte, now time.Time) ([]byte, error) {
	v, err := decodeJSON(payload)
	if err != nil {
		return nil, fmt.Errorf("decoding the event: %w", err)
	}
	var latest time.Time
	find := &timeWalker{f: func(key string, t time.Time) time.Time {
		if !expiryKeys[key] && t.After(latest) {
			latest = t
		}
		return t
	}}
	find.value("", v)
	if find.n == 0 || latest.IsZero() {
		return payload, nil
	}
	delta := now.Sub(latest)
	v, err = decodeJSON(payload) // the first walk may have rewritten nested bodies in place
	if err != nil {
		return nil, fmt.Errorf("decoding the event: %w", err)
	}
	shift := &timeWalker{f: func(_ string, t time.Time) time.Time { return t.Add(delta) }}
	return encodeJSON(shift.value("", v))
}

// timeWalker rewrites the times of a decoded JSON value with f and counts
// them.
type timeWalker struct {
	f func(key string, t time.Time) time.Time
	n int
}

// value rewrites v, the member key of its object ("" in an array's
// object, or at the top).
func (w *timeWalker) value(key string, v any) any {
	switch x := v.(type) {
	case map[string]any:
		body, _ := x["body"].(string)
		for k, e := range x {
			x[k] = w.value(k, e)
		}
		if after, _ := x["body"].(string); after != body {
			fixMD5(x)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = w.value(key, e)
		}
		return x
	case json.Number:
		if epochKeys[key] {
			if s, ok := w.epoch(key, string(x)); ok {
				return json.Number(s)
			}
		}
		return x
	case string:
		return w.text(key, x)
	}
	return v
}

// text rewrites a string: a Unix time under an epoch key, a time in one
// of the known layouts, or JSON holding times.
func (w *timeWalker) text(key, s string) string {
	if epochKeys[key] {
		if out, ok := w.epoch(key, s); ok {
			return out
		}
	}
	if layout, ok := rfc3339Layout(s); ok {
		return w.layout(key, s, layout)
	}
	for _, l := range textLayouts {
		if len(s) == l.length {
			if _, err := time.Parse(l.layout, s); err == nil {
				return w.layout(key, s, l.layout)
			}
		}
	}
	if trimmed := strings.TrimSpace(s); len(trimmed) > 1 && (trimmed[0] == '{' || trimmed[0] == '[') {
		nested, err := decodeJSON([]byte(s))
		if err != nil {
			return s
		}
		inner := &timeWalker{f: w.f}
		nested = inner.value("", nested)
		if inner.n == 0 {
			return s
		}
		out, err := encodeJSON(nested)
		if err != nil {
			return s
		}
		w.n += inner.n
		return string(out)
	}
	return s
}

// layout rewrites s, a time in layout.
func (w *timeWalker) layout(key, s, layout string) string {
	t, err := time.Parse(layout, s)
	if err != nil {
		return s
	}
	w.n++
	return w.f(key, t).Format(layout)
}

// epoch rewrites s when it is a Unix time in seconds (10 digits) or
// milliseconds (13 digits).
func (w *timeWalker) epoch(key, s string) (string, bool) {
	if (len(s) != 10 && len(s) != 13) || strings.Trim(s, "0123456789") != "" {
		return "", false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return "", false
	}
	w.n++
	if len(s) == 13 {
		return strconv.FormatInt(w.f(key, time.UnixMilli(n).UTC()).UnixMilli(), 10), true
	}
	return strconv.FormatInt(w.f(key, time.Unix(n, 0).UTC()).Unix(), 10), true
}

// fixMD5 recomputes an SQS record's md5OfBody for its body as rewritten.
func fixMD5(record map[string]any) {
	body, ok := record["body"].(string)
	if _, has := record["md5OfBody"].(string); !ok || !has {
		return
	}
	sum := md5.Sum([]byte(body))
	record["md5OfBody"] = hex.EncodeToString(sum[:])
}

// rfc3339Layout returns the layout of s when it is an RFC 3339 timestamp,
// with as many fraction digits as s has, so a rewritten time keeps its
// form.
func rfc3339Layout(s string) (string, bool) {
	if len(s) < len("2006-01-02T15:04:05Z") || s[4] != '-' || s[10] != 'T' {
		return "", false
	}
	layout := "2006-01-02T15:04:05"
	if i := strings.IndexByte(s, '.'); i == len("2006-01-02T15:04:05") {
		digits := 0
		for _, r := range s[i+1:] {
			if r < '0' || r > '9' {
				break
			}
			digits++
		}
		layout += "." + strings.Repeat("0", digits)
	}
	layout += "Z07:00"
	if _, err := time.Parse(layout, s); err != nil {
		return "", false
	}
	return layout, true
}

// decodeJSON decodes b keeping numbers as they are written.
func decodeJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// encodeJSON encodes v without escaping HTML characters, as the event's
// sender wrote them.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

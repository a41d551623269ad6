package asl

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// JSONataEffects are the effects of the JSONata functions that are not
// pure: the clock of $now and $millis, and the sources of $random and
// $uuid. A nil field makes the function fail.
type JSONataEffects struct {
	NowFunc func() time.Time
	// RandomFunc returns an integer in [start, end).
	RandomFunc func(start, end int64) int64
	UUIDFunc   func() string
}

func (fx JSONataEffects) nowMillis() int64 {
	if fx.NowFunc == nil {
		return 0
	}
	return fx.NowFunc().UnixMilli()
}

// random is $random([seed]): a number in [0, 1), the same for the same
// seed, as Step Functions documents it.
func (fx JSONataEffects) random(seeded bool, seed float64) float64 {
	const span = 1 << 53
	if seeded {
		return float64(rand.New(rand.NewPCG(uint64(int64(seed)), 0x5eed)).Int64N(span)) / span
	}
	if fx.RandomFunc == nil {
		return 0
	}
	return float64(fx.RandomFunc(0, span)) / span
}

func (fx JSONataEffects) uuid() string {
	if fx.UUIDFunc == nil {
		return "00000000-0000-4000-8000-000000000000"
	}
	return fx.UUIDFunc()
}

// jsonataNumber formats a number as JSONata's $string does: rounded to
// 15 significant digits, then written as JavaScript writes numbers.
func jsonataNumber(f float64) (json.Number, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "", fmt.Errorf("D3001: Attempting to invoke string function on Infinity or NaN")
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'g', 15, 64), 64)
	b, _ := json.Marshal(r)
	return json.Number(b), nil
}

// jsonataString is $string(value, prettify): a string as it is, any
// other value as JSON with numbers as jsonataNumber writes them.
func jsonataString(v any, prettify bool) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	jv, err := jsonValue(v, true)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if prettify {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(jv); err != nil {
		return "", err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// jsonValue turns a value the JSONata library returns into a JSON value
// of encoding/json's kinds, numbers as json.Number (rounded as $string
// rounds them when rounded is set).
func jsonValue(v any, rounded bool) (any, error) {
	switch t := v.(type) {
	case nil, string, bool, json.Number:
		return v, nil
	case *any:
		if t == nil {
			return nil, nil
		}
		return jsonValue(*t, rounded)
	case float64:
		if rounded {
			return jsonataNumber(t)
		}
		b, err := json.Marshal(t)
		if err != nil {
			return nil, fmt.Errorf("D1001: Number out of range")
		}
		return json.Number(b), nil
	case int:
		return json.Number(strconv.Itoa(t)), nil
	case int64:
		return json.Number(strconv.FormatInt(t, 10)), nil
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			jv, err := jsonValue(e, rounded)
			if err != nil {
				return nil, err
			}
			m[k] = jv
		}
		return m, nil
	case *Object:
		m := NewObject(t.Len())
		for k, e := range t.All() {
			jv, err := jsonValue(e, rounded)
			if err != nil {
				return nil, err
			}
			m.Set(k, jv)
		}
		return m, nil
	case []any:
		a := make([]any, 0, len(t))
		for _, e := range t {
			jv, err := jsonValue(e, rounded)
			if err != nil {
				return nil, err
			}
			a = append(a, jv)
		}
		return a, nil
	}
	// Other shapes (typed slices and maps the library builds): through
	// encoding/json, which refuses what JSON cannot hold.
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("a %T is not a JSON value", v)
	}
	out, err := decodeTemplate(data)
	if err != nil {
		return nil, err
	}
	return jsonValue(out, rounded)
}

// jsonataPartition is $partition(array, size): the array cut into
// chunks of size items, the last one shorter when they do not divide.
func jsonataPartition(array []any, size float64) ([]any, error) {
	if size != math.Trunc(size) || size < 1 {
		return nil, fmt.Errorf("the chunk size of $partition must be a positive integer, not %v", size)
	}
	n := int(size)
	out := make([]any, 0, (len(array)+n-1)/n)
	for i := 0; i < len(array); i += n {
		out = append(out, append([]any(nil), array[i:min(i+n, len(array))]...))
	}
	return out, nil
}

// maxJSONataRange bounds the array $range builds, as States.ArrayRange
// bounds its own.
const maxJSONataRange = 1000

// jsonataRange is $range(start, end, step): the numbers from start to
// end inclusive, step apart; a negative step counts down.
func jsonataRange(start, end, step float64) ([]any, error) {
	for _, f := range []float64{start, end, step} {
		if f != math.Trunc(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("the arguments of $range must be integers, not %v", f)
		}
	}
	if step == 0 {
		return nil, fmt.Errorf("the step of $range must not be 0")
	}
	var out []any
	for v := start; step > 0 && v <= end || step < 0 && v >= end; v += step {
		if len(out) == maxJSONataRange {
			return nil, fmt.Errorf("$range would return more than %d items", maxJSONataRange)
		}
		out = append(out, v)
	}
	if out == nil {
		out = []any{}
	}
	return out, nil
}

var jsonataHashes = map[string]func() hash.Hash{
	"MD5": md5.New, "SHA-1": sha1.New, "SHA-256": sha256.New, "SHA-384": sha512.New384, "SHA-512": sha512.New,
}

// jsonataHash is $hash(value, algorithm): the hexadecimal hash of a
// string with MD5, SHA-1, SHA-256, SHA-384 or SHA-512.
func jsonataHash(v any, algorithm string) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("the first argument of $hash must be a string, not %s", JSONTypeName(v))
	}
	newHash, ok := jsonataHashes[algorithm]
	if !ok {
		names := make([]string, 0, len(jsonataHashes))
		for k := range jsonataHashes {
			names = append(names, k)
		}
		sort.Strings(names)
		return "", fmt.Errorf("the algorithm of $hash must be one of %s, not %q", strings.Join(names, ", "), algorithm)
	}
	h := newHash()
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil)), nil
}

// jsonataParse is $parse(text): the JSON value a string holds.
func jsonataParse(s string) (any, error) {
	v, err := decodeTemplate([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("the argument of $parse is not valid JSON: %v", err)
	}
	return v, nil
}

// jsonataEncodeURIComponent is $encodeUrlComponent: JavaScript's
// encodeURIComponent, which leaves letters, digits and - _ . ! ~ * ' ( )
// as they are and percent-encodes every other UTF-8 byte.
func jsonataEncodeURIComponent(s string) (string, error) {
	if !utf8.ValidString(s) || strings.ContainsRune(s, utf8.RuneError) {
		return "", fmt.Errorf("D3140: Malformed URL passed to $encodeUrlComponent(): %q", s)
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.!~*'()", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String(), nil
}

// unsupportedJSONata names syntax of JSONata 2.0 that the library does
// not evaluate (it would read as nothing): the positional (#$i) and
// context (@$v) variable bindings. Strings, quoted names and comments are
// skipped.
func unsupportedJSONata(src string) string {
	for i := 0; i < len(src); i++ {
		switch c := src[i]; c {
		case '"', '\'', '`':
			for i++; i < len(src) && src[i] != c; i++ {
				if src[i] == '\\' {
					i++
				}
			}
		case '/':
			if i+1 < len(src) && src[i+1] == '*' {
				end := strings.Index(src[i+2:], "*/")
				if end < 0 {
					return ""
				}
				i += end + 3
			}
		case '#', '@':
			return fmt.Sprintf("the %s variable binding (%c$name) of JSONata 2.0 is not supported by the local engine's JSONata library", map[byte]string{'#': "positional", '@': "context"}[c], c)
		}
	}
	return ""
}

// stripJSONataComments replaces the /* */ comments of JSONata 2.0, which
// the library does not read, with a space; strings and quoted names are
// left as they are.
func stripJSONataComments(src string) string {
	if !strings.Contains(src, "/*") {
		return src
	}
	var b strings.Builder
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			j := i + 1
			for ; j < len(src) && src[j] != c; j++ {
				if src[j] == '\\' {
					j++
				}
			}
			end := min(j+1, len(src))
			b.WriteString(src[i:end])
			i = end - 1
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				b.WriteString(src[i:]) // unterminated: the parser says so
				return b.String()
			}
			b.WriteByte(' ')
			i += end + 3
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

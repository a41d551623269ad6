package asl

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// appendJSONStringByByte is appendJSONString as it was written first, one
// byte or rune at a time: the reference the run-at-a-time form must match.
func appendJSONStringByByte(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c == '\b':
				dst = append(dst, '\\', 'b')
			case c == '\f':
				dst = append(dst, '\\', 'f')
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

var jsonStringCases = []string{
	"", "plain", `a "quoted" word`, `back\slash`, "line\nbreak\r\ttab\b\f", "\x00\x01\x1f\x7f",
	"é, 日本, 🙂", "bad \xff byte", "\xc3", "trailing \xe2\x82", strings.Repeat("long run ", 40) + "\n",
}

// TestAppendJSONStringMatchesTheReference: runs of plain bytes appended
// whole give the same text as the byte-at-a-time form.
func TestAppendJSONStringMatchesTheReference(t *testing.T) {
	t.Parallel()
	for _, s := range jsonStringCases {
		require.Equal(t, string(appendJSONStringByByte([]byte("x"), s)), string(appendJSONString([]byte("x"), s)), "%q", s)
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range jsonStringCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := appendJSONString(nil, s)
		require.Equal(t, string(appendJSONStringByByte(nil, s)), string(got))
		require.True(t, utf8.Valid(got), "the text is valid UTF-8")
	})
}

// BenchmarkAppendJSONString appends a task token's worth of plain text;
// BenchmarkAppendJSONStringByByte the same with the reference form.
func BenchmarkAppendJSONString(b *testing.B)       { benchAppendJSONString(b, appendJSONString) }
func BenchmarkAppendJSONStringByByte(b *testing.B) { benchAppendJSONString(b, appendJSONStringByByte) }

func benchAppendJSONString(b *testing.B, appendString func([]byte, string) []byte) {
	s := strings.Repeat("YXJuOmF3czpzdGF0ZXM6dXMtZWFzdC0x", 5)
	buf := make([]byte, 0, 256)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		buf = appendString(buf[:0], s)
	}
}

package queue

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strings"
)

// md5OfAttributes is the MD5OfMessageAttributes SQS computes: over the
// attributes in name order, each as its name, its data type, a transport
// type byte (1 for String and Number, 2 for Binary) and its value, every
// string and binary value preceded by its length as a 4-byte big-endian
// integer.
func md5OfAttributes(attrs map[string]Attribute) string {
	names := make([]string, 0, len(attrs))
	for name := range attrs {
		names = append(names, name)
	}
	slices.Sort(names)
	h := md5.New()
	put := func(s string) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	for _, name := range names {
		a := attrs[name]
		put(name)
		put(a.DataType)
		if strings.HasPrefix(a.DataType, "Binary") {
			h.Write([]byte{2})
			put(string(a.BinaryValue))
		} else {
			h.Write([]byte{1})
			put(a.StringValue)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

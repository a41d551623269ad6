package queue

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"slices"
)

// md5OfAttributes is the MD5OfMessageAttributes SQS computes: over the
// attributes in name order, each as its name, its data type, a transport
// type byte (1 for String) and its value, every string preceded by its
// length as a 4-byte big-endian integer.
func md5OfAttributes(attrs map[string]string) string {
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
		put(name)
		put("String")
		h.Write([]byte{1})
		put(attrs[name])
	}
	return hex.EncodeToString(h.Sum(nil))
}

package eventstore

import (
	"time"

	"github.com/google/uuid"
)

// OrderedID is an event id that a writer derives, the same on every try,
// from the hash of what names its event (sum, at least 10 bytes: a SHA-1
// of a namespace and a name, as a UUIDv5 takes) and a time fixed with the
// event (at): a UUIDv8 (RFC 9562, vendor-specific) laid out as a UUIDv7
// is, at's Unix milliseconds in its first 48 bits, then the version, then
// sum's first bits in place of random ones. A time before 1970, or zero,
// counts as 0.
//
// The store's index of event ids is unique and never archived
// (eventstore.event_ids): ids in the order of their times go in near its
// right end, in pages just written, where a hash alone (a UUIDv5) lands
// anywhere in the index, a page read and written (and after a checkpoint
// logged whole) for each event. The ids the store makes itself are
// UUIDv7s for the same reason.
func OrderedID(at time.Time, sum []byte) uuid.UUID {
	var id uuid.UUID
	copy(id[6:], sum[:10])
	ms := uint64(0)
	if m := at.UnixMilli(); !at.IsZero() && m > 0 {
		ms = min(uint64(m), 1<<48-1)
	}
	for i := range 6 {
		id[i] = byte(ms >> (40 - 8*i))
	}
	id[6] = (id[6] & 0x0f) | 0x80 // version 8
	id[8] = (id[8] & 0x3f) | 0x80 // the RFC 9562 variant
	return id
}

// IsOrderedID reports whether id is OrderedID's of sum at any time: a
// writer that checks an id it gave an event need not give the same time
// again (a time decoded anew may differ by a rounding).
func IsOrderedID(id uuid.UUID, sum []byte) bool {
	return id[6]>>4 == 8 && id[6]&0x0f == sum[0]&0x0f && id[7] == sum[1] &&
		id[8]>>6 == 2 && id[8]&0x3f == sum[2]&0x3f && string(id[9:]) == string(sum[3:10])
}

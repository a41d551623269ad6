package eventstore_test

import (
	"bytes"
	"crypto/sha1"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/eventstore"
)

func TestOrderedID(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 7, 5, 30, 0, 250_999_999, time.UTC)
	sum := sha1.Sum([]byte("a name"))
	id := eventstore.OrderedID(at, sum[:])
	require.Equal(t, 8, int(id.Version()))
	require.Equal(t, uuid.RFC4122, id.Variant())
	// The first 48 bits are the Unix milliseconds, as a UUIDv7's.
	ms := uint64(at.UnixMilli())
	require.Equal(t, []byte{byte(ms >> 40), byte(ms >> 32), byte(ms >> 24), byte(ms >> 16), byte(ms >> 8), byte(ms)}, id[:6])
	// The rest is the hash's first bits, but for the version and variant.
	require.Equal(t, sum[0]&0x0f, id[6]&0x0f)
	require.Equal(t, sum[1], id[7])
	require.Equal(t, sum[2]&0x3f, id[8]&0x3f)
	require.Equal(t, sum[3:10], id[9:])
	// The same time and hash, the same id; the time to the millisecond.
	require.Equal(t, id, eventstore.OrderedID(at.Truncate(time.Millisecond), sum[:]))
	other := sha1.Sum([]byte("another name"))
	require.NotEqual(t, id, eventstore.OrderedID(at, other[:]))
	later := eventstore.OrderedID(at.Add(time.Millisecond), sum[:])
	require.Negative(t, bytes.Compare(id[:], later[:]))
	// It is told apart from others of other hashes, whatever its time.
	require.True(t, eventstore.IsOrderedID(id, sum[:]))
	require.True(t, eventstore.IsOrderedID(later, sum[:]))
	require.False(t, eventstore.IsOrderedID(id, other[:]))
	require.False(t, eventstore.IsOrderedID(uuid.NewSHA1(uuid.NameSpaceURL, []byte("a name")), sum[:]))
	for i := 6; i < 16; i++ { // any bit of the hash's, the version's or the variant's
		for bit := range 8 {
			changed := id
			changed[i] ^= 1 << bit
			require.False(t, eventstore.IsOrderedID(changed, sum[:]), "byte %d, bit %d", i, bit)
		}
	}
	// No time, or one before 1970, is 0.
	for _, none := range []time.Time{{}, time.Unix(-1, 0)} {
		zero := eventstore.OrderedID(none, sum[:])
		require.Equal(t, make([]byte, 6), zero[:6], "%s", none)
	}
}

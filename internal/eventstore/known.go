package eventstore

import "sync"

// Versions known to be stored.
//
// An append expecting Exact(v) must find version v of its stream stored
// before it writes v+1: the unique index of event_ids refuses a version
// taken twice, but not a gap. The one-statement append checks it with one
// probe of that index per stream, which was about a tenth of PostgreSQL's
// CPU for an append of 100 streams of one event (docs/performance.md).
//
// A version once stored stays stored: event_ids is never archived, and no
// service role may delete from it (internal/migrate's role tests). So when
// this store has seen version w of a stream committed, by an append it
// made, every v <= w is stored, and an append expecting Exact(v) needs no
// probe: if the stream has moved past v since, v+1 is taken and the unique
// index refuses it as before. Only versions the store saw committed are
// remembered: an append that failed or whose commit is unknown records
// nothing.

// maxKnownStreams bounds how many streams a store remembers, about 100
// bytes each with the stream id it keeps; when it is full it forgets them
// all and learns them again, each probed once more. It is small on purpose:
// a writer that appends to a few hundred streams again and again (a group
// commit of them, a recorder) skips their probes, while the local engine,
// which holds thousands of executions in flight and appends to each a few
// times, would otherwise keep one entry per execution, a tenth of the
// memory it holds for one (BenchmarkInFlightMemory grew by 100 bytes per
// execution at 16,384 streams), for probes that cost it nothing measurable.
const maxKnownStreams = 256

// knownVersions is, per stream, the highest version a store saw committed.
// Its zero value is empty and ready.
type knownVersions struct {
	mu       sync.Mutex
	versions map[string]int64
}

// markStored sets, in reqs, which exact expectations are known stored.
func (k *knownVersions) markStored(reqs []preparedRequest) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for i := range reqs {
		r := &reqs[i]
		w, ok := k.versions[r.streamID]
		r.stored = ok && r.expected > 0 && int64(r.expected) <= w
	}
}

// record remembers the versions of committed appends.
func (k *knownVersions) record(res []AppendResult) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.versions == nil || len(k.versions)+len(res) > maxKnownStreams {
		k.versions = make(map[string]int64, min(len(res), maxKnownStreams))
	}
	for _, r := range res {
		if r.Version > k.versions[r.StreamID] {
			k.versions[r.StreamID] = r.Version
		}
	}
}

package engine

import "sync"

// commitBuffers holds the slices write hands Store.Commit, which a store
// does not keep past the call: one per group commit would be a few
// hundred bytes per transition for the collector.
var commitBuffers = sync.Pool{New: func() any { return new([]Commit) }}

// commitBuffer returns an empty slice with room for n commits, and the
// buffer to give back with putCommitBuffer.
func commitBuffer(n int) (*[]Commit, []Commit) {
	buf := commitBuffers.Get().(*[]Commit)
	if cap(*buf) < n {
		*buf = make([]Commit, 0, n)
	}
	return buf, (*buf)[:0]
}

// putCommitBuffer gives back a buffer, its commits cleared so that it
// holds no transition alive. Only the commits used are cleared: those
// beyond were cleared when the buffer last came back (a buffer made for a
// large group is not cleared whole after every small one).
func putCommitBuffer(buf *[]Commit, commits []Commit) {
	clear(commits)
	*buf = commits[:0]
	commitBuffers.Put(buf)
}

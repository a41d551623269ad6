package engine

import "sync"

// effectSlices holds the effect lists of transitions whose effects have
// run, emptied, for the next transitions: a transition's list is read by
// no one once the effect loop has run it, and a new one for every
// transition that sets something off was an allocation each.
var effectSlices = sync.Pool{New: func() any { return new([]func()) }}

// effectSlicePtrs holds the pointers effectSlices' lists travel in, so
// that giving a list back allocates nothing.
var effectSlicePtrs = sync.Pool{New: func() any { return new([]func()) }}

// maxPooledEffects bounds the lists kept: a Map state's fan-out may set
// off many effects at once, and its list is left to the collector.
const maxPooledEffects = 16

// newEffects returns an empty effect list, with room when one was given
// back.
func newEffects() []func() {
	p := effectSlices.Get().(*[]func())
	s := *p
	*p = nil
	effectSlicePtrs.Put(p)
	return s
}

// recycleEffects gives back an effect list that has run, cleared.
func recycleEffects(s []func()) {
	if cap(s) == 0 || cap(s) > maxPooledEffects {
		return
	}
	clear(s)
	p := effectSlicePtrs.Get().(*[]func())
	*p = s[:0]
	effectSlices.Put(p)
}

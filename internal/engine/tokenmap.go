package engine

// tokenMap maps task tokens to values: its first member inline, the
// others in a map made when a second is set. An execution most often
// holds one task at a time, and a Go map of one member takes two
// allocations and a group of eight slots, several hundred bytes an
// execution in flight. The zero tokenMap is empty. A token is in one
// place at a time: set updates it where it is.
type tokenMap[V any] struct {
	key  string
	val  V
	has  bool
	more map[string]V
}

// get returns the value of k and whether k is set.
func (m *tokenMap[V]) get(k string) (V, bool) {
	if m.has && m.key == k {
		return m.val, true
	}
	v, ok := m.more[k]
	return v, ok
}

// set sets k to v.
func (m *tokenMap[V]) set(k string, v V) {
	switch _, inMore := m.more[k]; {
	case m.has && m.key == k:
		m.val = v
	case inMore:
		m.more[k] = v
	case !m.has:
		m.key, m.val, m.has = k, v, true
	default:
		if m.more == nil {
			m.more = make(map[string]V, 1)
		}
		m.more[k] = v
	}
}

// del removes k.
func (m *tokenMap[V]) del(k string) {
	if m.has && m.key == k {
		var zero V
		m.key, m.val, m.has = "", zero, false
		return
	}
	delete(m.more, k)
}

package control

// Publishes counts the publishes this Service has recorded, or tried to
// record: it grows once each has reached the store, committed or not. A
// reader that remembers what a publish may change (which workflow
// version a state machine version runs) notes the count before it reads
// the store, and trusts what it remembers only while the count is the
// same.
func (s *Service) Publishes() uint64 { return s.publishes.Load() }

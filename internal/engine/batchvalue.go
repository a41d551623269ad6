package engine

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aiflow/aiflow/internal/asl"
	"github.com/aiflow/aiflow/internal/sfn"
)

// BatchKeeper is a Store that keeps a commit's batch as the engine's
// value (Commit.Batch) and encodes it only when Batches reads it: the
// MemoryStore, whose executions' histories are mostly never read. The
// engine hands such a store, for a transition that surely fits
// MaxBatchBytes, a Commit whose Data is nil and whose Batch is set; every
// other commit carries its Data as for any Store. A wrapper of a Store
// forwards the answer of the store it wraps.
type BatchKeeper interface {
	// KeepsBatches reports whether the store takes commits with a Batch
	// in place of Data.
	KeepsBatches() bool
}

// Batch is a transition as the engine built it, frozen: nothing of it
// changes after the commit. Its history events are kept compact (a
// HistoryEvent is mostly empty detail fields, which a store that keeps
// many would hold and the garbage collector scan). JSON encodes it once,
// on the first call.
type Batch struct {
	once  sync.Once
	start *batchStart
	// rest holds the batch's other parts (a Parallel or Map state's
	// fan-out and ends, tokens, halts, a redrive, Map Runs), nil for the
	// many batches that have none of them.
	rest    *batch
	events  []frozenEvent
	threads []frozenThread // the batch's Threads, copied
	one     [1]frozenThread
	arn     string
	data    json.RawMessage
}

// frozenThread is an entry of a batch's Threads: a copy of the thread,
// or nil for one that ended. A frozen batch keeps them in a slice (in its
// own room for the one thread most transitions change), not in the map
// the engine built them in, which it reuses for its next batch.
type frozenThread struct {
	id   int
	t    *thread
	lean *leanThread // in place of t, for most threads
}

// threadWithCall is a frozen thread and the copy of its task call.
type threadWithCall struct {
	t    thread
	call taskCall
}

// frozenEvent is a history event without its empty detail fields.
type frozenEvent struct {
	timestamp time.Time
	typ       string
	id, prev  int64
	details   any // the one detail field set, a pointer, or nil
	field     int // its index in sfn.HistoryEvent
}

// JSON returns the batch's encoding: the Data the engine would have given
// a Store that does not keep batches. The caller must not change it.
func (b *Batch) JSON() json.RawMessage {
	b.once.Do(func() {
		if b.data == nil {
			x := &execution{b: b.thaw(), rec: ExecutionRecord{ARN: b.arn}}
			b.data = x.encodeBatch()
		}
		b.start, b.rest, b.events, b.threads = nil, nil, nil, nil // the bytes stand for them from now on
	})
	return b.data
}

// thaw returns the batch with its history events.
func (b *Batch) thaw() *batch {
	var out batch
	if b.rest != nil {
		out = *b.rest
	}
	out.Start = b.start
	if b.threads != nil {
		out.Threads = make(map[int]*thread, len(b.threads))
		for _, f := range b.threads {
			if f.lean != nil {
				out.Threads[f.id] = f.lean.thread()
				continue
			}
			out.Threads[f.id] = f.t
		}
	}
	out.Events = make([]sfn.HistoryEvent, len(b.events))
	for i, f := range b.events {
		ev := &out.Events[i]
		ev.Timestamp, ev.Type, ev.ID, ev.PreviousEventID = f.timestamp, f.typ, f.id, f.prev
		if f.details != nil {
			reflect.ValueOf(ev).Elem().Field(f.field).Set(reflect.ValueOf(f.details))
		}
	}
	return &out
}

// keepsBatches reports whether a store takes commits with a Batch.
func keepsBatches(s Store) bool {
	k, ok := s.(BatchKeeper)
	return ok && k.KeepsBatches()
}

// freezeBatch returns x.b as a Batch, when it surely encodes to at most
// MaxBatchBytes, or nil. It copies the threads the batch holds, which the
// engine changes after the transition; the rest of a batch is never
// changed once built (the values it holds are never changed in place:
// asl copies a value before it writes into it; history events, halts and
// Map Runs are not changed once recorded).
func (x *execution) freezeBatch() *Batch {
	if !eventPlan.ok {
		return nil
	}
	b, events := newBatch(len(x.b.Events))
	n := 2 + len(`"events":[],`)
	for i := range x.b.Events {
		m, ok := freezeEvent(&x.b.Events[i], &events[i])
		if !ok {
			return nil
		}
		n += m + 1
	}
	xb := x.b
	m, ok := boundBatch(xb)
	if n += m; !ok || n > MaxBatchBytes {
		return nil
	}
	b.start, b.events, b.arn = xb.Start, events, x.rec.ARN
	if xb.rare() || xb.Succeeded != nil || xb.Spent != nil {
		r := *xb
		r.Start, r.Events, r.Threads = nil, nil, nil
		b.rest = &r
	}
	if xb.Threads != nil {
		b.threads = b.one[:0]
		if len(xb.Threads) > len(b.one) {
			b.threads = make([]frozenThread, 0, len(xb.Threads))
		}
	}
	for id, t := range xb.Threads {
		if t == nil {
			b.threads = append(b.threads, frozenThread{id: id})
			continue
		}
		if l := leanOf(t); l != nil {
			b.threads = append(b.threads, frozenThread{id: id, lean: l})
			continue
		}
		var c *thread
		// A value kept encoded is written as such: the store need not
		// hold (and the collector scan) its decoded tree. A call copied
		// for that shares the thread's allocation.
		if call := t.Task; call != nil && call.paramsJSON != "" && call.Params != nil {
			p := new(threadWithCall)
			p.call = *call
			p.call.Params = nil
			p.t = *t
			p.t.Task = &p.call
			c = &p.t
		} else {
			c = new(thread)
			*c = *t
		}
		c.states, c.kids, c.stops, c.hbStop, c.fanOut = nil, nil, nil, nil, nil
		c.Retries = slices.Clone(t.Retries)
		if c.inputJSON != "" {
			c.Input = nil
		}
		b.threads = append(b.threads, frozenThread{id: id, t: c})
	}
	if frozenCheck != nil {
		frozenCheck(x.encodeBatch(), b, n)
	}
	return b
}

// frozenCheck, when set (by the package's tests), gets every batch frozen
// with its encoding as of the transition and the bound of its size.
var frozenCheck func(data json.RawMessage, b *Batch, bound int)

// freezeEvent writes ev compact into f and returns a bound of its
// encoding; false when ev has more than one detail field set.
func freezeEvent(ev *sfn.HistoryEvent, f *frozenEvent) (int, bool) {
	*f = frozenEvent{timestamp: ev.Timestamp, typ: ev.Type, id: ev.ID, prev: ev.PreviousEventID}
	n := eventPlan.header + boundString(len(ev.Type))
	switch set, i := detailIndex(ev); {
	case set > 1:
		return 0, false
	case set == 1:
		d := eventDetails[i](ev)
		m, ok := boundDetail(d)
		if !ok {
			return 0, false
		}
		f.details, f.field = d, firstDetailField+i
		n += eventPlan.detailKey[i] + m
	}
	return n, true
}

// newBatch returns a Batch and room for its n frozen events, in one
// allocation for the few events most transitions write.
func newBatch(n int) (*Batch, []frozenEvent) {
	switch n {
	case 0:
		return new(Batch), nil
	case 1:
		p := new(batchWith[[1]frozenEvent])
		return &p.Batch, p.events[:]
	case 2:
		p := new(batchWith[[2]frozenEvent])
		return &p.Batch, p.events[:]
	case 3:
		p := new(batchWith[[3]frozenEvent])
		return &p.Batch, p.events[:]
	case 4:
		p := new(batchWith[[4]frozenEvent])
		return &p.Batch, p.events[:]
	case 5:
		p := new(batchWith[[5]frozenEvent])
		return &p.Batch, p.events[:]
	}
	return new(Batch), make([]frozenEvent, n)
}

// batchWith is a Batch and the array its events are kept in.
type batchWith[A any] struct {
	Batch
	events A
}

// eventPlan is what freezeEvent needs of sfn.HistoryEvent: the bound of
// its header (time, type aside, ids, keys and braces) and its detail
// fields, and the bytes of each detail field's key, in eventDetails'
// order. ok is false when HistoryEvent has a field that is neither of the
// header nor a detail pointer, or detail fields eventDetails does not
// read in its order: then no batch is frozen.
var eventPlan = planEvents()

type eventFields struct {
	ok        bool
	header    int
	details   []fieldPlan
	detailKey [len(eventDetails)]int
}

func planEvents() eventFields {
	t := reflect.TypeFor[sfn.HistoryEvent]()
	p := eventFields{ok: true, header: 2}
	header := map[string]bool{"Timestamp": true, "Type": true, "ID": true, "PreviousEventID": true}
	for _, f := range planOf(t).fields {
		sf := t.Field(f.index)
		switch {
		case header[sf.Name]:
			p.header += f.key
			if sf.Name != "Type" {
				p.header += 64 // a time or an integer
			}
			delete(header, sf.Name)
		case sf.Type.Kind() == reflect.Pointer && sf.Type.Elem().Kind() == reflect.Struct:
			p.details = append(p.details, f)
		default:
			p.ok = false
		}
	}
	if len(header) > 0 || len(planOf(t).fields) != t.NumField() || len(p.details) != len(eventDetails) {
		p.ok = false
	}
	for i, d := range p.details {
		if d.index != firstDetailField+i {
			p.ok = false
			break
		}
		p.detailKey[i] = d.key
	}
	return p
}

// maxEscape is the most bytes encoding/json writes for one byte of a
// string: \u00XX for a control character, or for <, > and & (it escapes
// HTML), or a byte of invalid UTF-8 (\ufffd).
const maxEscape = 6

var (
	timeType   = reflect.TypeFor[time.Time]()
	rawType    = reflect.TypeFor[json.RawMessage]()
	threadType = reflect.TypeFor[thread]()
	callType   = reflect.TypeFor[taskCall]()
	objectType = reflect.TypeFor[asl.Object]()
	marshaler  = reflect.TypeFor[json.Marshaler]()
)

// boundString bounds the encoding of a string of n bytes.
func boundString(n int) int { return maxEscape*n + 2 }

// boundValue returns an upper bound of the size of v's encoding as
// encoding/json writes it, and false for a value it cannot bound (one
// with a MarshalJSON of its own it does not know).
func boundValue(v reflect.Value) (int, bool) {
	if !v.IsValid() {
		return 4, true // null
	}
	t := v.Type()
	switch t {
	case timeType:
		return 64, true // a quoted RFC 3339 time with nanoseconds and a zone
	case rawType:
		return maxEscape*v.Len() + 4, true // compacted, HTML escaped; null when empty
	}
	switch v.Kind() {
	case reflect.Interface:
		if v.IsNil() {
			return 4, true
		}
		return boundAny(v.Interface())
	case reflect.Pointer:
		if v.IsNil() {
			return 4, true
		}
		switch t.Elem() {
		case threadType:
			return boundThread(v.Interface().(*thread))
		case callType:
			return boundCall(v.Interface().(*taskCall))
		case objectType:
			return boundAny(v.Interface())
		}
		if t.Implements(marshaler) {
			return 0, false
		}
		return boundValue(v.Elem())
	case reflect.Struct:
		if t.Implements(marshaler) || reflect.PointerTo(t).Implements(marshaler) {
			return 0, false
		}
		return boundStruct(v, -1)
	case reflect.String:
		return boundString(v.Len()), true
	case reflect.Bool:
		return 5, true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return 20, true
	case reflect.Float32, reflect.Float64:
		return 32, true
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return 4, true
		}
		if t.Elem().Kind() == reflect.Uint8 {
			return 2*v.Len() + 4, true // base64
		}
		n := 2
		for i := range v.Len() {
			m, ok := boundValue(v.Index(i))
			if !ok {
				return 0, false
			}
			n += m + 1
		}
		return n, true
	case reflect.Map:
		if v.IsNil() {
			return 4, true
		}
		n := 2
		for it := v.MapRange(); it.Next(); {
			k := it.Key()
			kn := 22 // a quoted integer
			if k.Kind() == reflect.String {
				kn = boundString(k.Len())
			}
			m, ok := boundValue(it.Value())
			if !ok {
				return 0, false
			}
			n += kn + 1 + m + 1
		}
		return n, true
	}
	return 0, false
}

// boundStruct bounds a struct's encoding, its field skip (or -1) left
// out.
func boundStruct(v reflect.Value, skip int) (int, bool) {
	p := planOf(v.Type())
	n := 2
	for _, f := range p.fields {
		if f.index == skip {
			continue
		}
		m, ok := boundValue(v.Field(f.index))
		if !ok {
			return 0, false
		}
		n += f.key + m
	}
	return n, true
}

// structPlan is what boundStruct needs of a struct type: the fields
// encoding/json may write and the bytes their keys take.
type structPlan struct {
	fields []fieldPlan
}

type fieldPlan struct {
	index int
	key   int // "name": and a comma
}

var structPlans sync.Map // reflect.Type -> *structPlan

func planOf(t reflect.Type) *structPlan {
	if p, ok := structPlans.Load(t); ok {
		return p.(*structPlan)
	}
	p := &structPlan{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() && !f.Anonymous {
			continue
		}
		name, tag := f.Name, f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		if j := strings.IndexByte(tag, ','); j >= 0 {
			tag = tag[:j]
		}
		if tag != "" {
			name = tag
		}
		p.fields = append(p.fields, fieldPlan{index: i, key: maxEscape*len(name) + 4})
	}
	structPlans.Store(t, p)
	return p
}

// inputField and paramsField are the indexes of thread.Input and
// taskCall.Params, which their MarshalJSON may replace with their
// encodings as the engine keeps them.
var (
	inputField  = fieldIndex(threadType, "Input")
	paramsField = fieldIndex(callType, "Params")
)

func fieldIndex(t reflect.Type, name string) int {
	f, ok := t.FieldByName(name)
	if !ok || len(f.Index) != 1 {
		panic("engine: no field " + name + " in " + t.String())
	}
	return f.Index[0]
}

// boundThread bounds the encoding of (*thread).MarshalJSON.
func boundThread(t *thread) (int, bool) {
	n, ok := boundStruct(reflect.ValueOf(t).Elem(), inputField)
	if !ok {
		return 0, false
	}
	m, ok := boundWith(t.Input, t.inputJSON)
	return n + len("input") + 4 + m + 2, ok // the outer struct of MarshalJSON adds its braces
}

// boundCall bounds the encoding of (*taskCall).MarshalJSON.
func boundCall(c *taskCall) (int, bool) {
	n, ok := boundStruct(reflect.ValueOf(c).Elem(), paramsField)
	if !ok {
		return 0, false
	}
	m, ok := boundWith(c.Params, c.paramsJSON)
	return n + len("params") + 4 + m + 2, ok
}

// boundWith bounds a value that is written as its encoding enc when enc
// is not empty.
func boundWith(v any, enc string) (int, bool) {
	if enc != "" {
		return maxEscape*len(enc) + 4, true
	}
	return boundAny(v)
}

// boundAny bounds the encoding of a JSON value as the engine holds one.
func boundAny(v any) (int, bool) {
	switch t := v.(type) {
	case nil:
		return 4, true
	case string:
		return boundString(len(t)), true
	case json.Number:
		return boundString(len(t)), true
	case bool:
		return 5, true
	case float64, float32, int, int64, int32, uint, uint64, uint32:
		return 32, true
	case *asl.Object:
		if t == nil {
			return 4, true
		}
		n := 2
		for k, e := range t.All() {
			m, ok := boundAny(e)
			if !ok {
				return 0, false
			}
			n += boundString(len(k)) + 1 + m + 1
		}
		return n, true
	case map[string]any:
		n := 2
		for k, e := range t {
			m, ok := boundAny(e)
			if !ok {
				return 0, false
			}
			n += boundString(len(k)) + 1 + m + 1
		}
		return n, true
	case []any:
		n := 2
		for _, e := range t {
			m, ok := boundAny(e)
			if !ok {
				return 0, false
			}
			n += m + 1
		}
		return n, true
	}
	return boundValue(reflect.ValueOf(v))
}
